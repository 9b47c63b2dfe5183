"""What a person trying the site meets in `make run` (DEBUG on, the debug toolbar): no
development leftovers in the way. One dev server for the module (migrate and seed once)."""

import pytest
from playwright.sync_api import Browser, expect

from core.testing.served import dev_server

SIZES = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
LOCALES = {"en": "en-US", "ko": "ko-KR"}
NOT_FOUND = {"en": "Page not found", "ko": "페이지를 찾을 수 없습니다"}


@pytest.fixture(scope="module")
def make_run(tmp_path_factory):
    with dev_server(tmp_path_factory.mktemp("make-run")) as base:
        yield base


# Scrolls the page from top to bottom and lists the post texts the handle lies over.
COVERED = """() => {
  const handle = document.querySelector("#djDebugRoot").shadowRoot
    .querySelector("#djDebugToolbarHandle");
  const covered = new Set();
  for (let y = 0; y < document.documentElement.scrollHeight; y += 300) {
    window.scrollTo(0, y);
    const h = handle.getBoundingClientRect();
    for (const text of document.querySelectorAll(".post-body, .post-meta")) {
      const t = text.getBoundingClientRect();
      if (h.left < t.right && t.left < h.right && h.top < t.bottom && t.top < h.bottom) {
        covered.add(text.innerText.slice(0, 30));
      }
    }
  }
  window.scrollTo(0, 0);
  return [...covered];
}"""


@pytest.fixture(params=[(lang, size) for lang in LOCALES for size in SIZES], ids="-".join)
def visitor(request, make_run, browser: Browser):
    """A page in a browser of each language and size, and the name for its screenshots."""
    lang, size = request.param
    context = browser.new_context(locale=LOCALES[lang], viewport=SIZES[size])
    context.set_default_timeout(10_000)
    yield context.new_page(), lang, f"{lang}-{size}"
    context.close()


def test_the_debug_toolbar_covers_no_post(make_run, visitor, shoot):
    """There for the developer (its handle, folded), on no post's text at any scroll."""
    page, _, name = visitor
    page.goto(f"{make_run}/posts/")
    expect(page.locator("#djDebugToolbarHandle")).to_be_visible()  # in its shadow root
    assert page.evaluate(COVERED) == []
    shoot(page, f"17-make-run-timeline-{name}")


def test_a_missing_page_is_the_sites_404(make_run, visitor, shoot):
    """Not Django's debug page (980 px wide, the URL patterns)."""
    page, lang, name = visitor
    response = page.goto(f"{make_run}/no/such/page/")
    assert response.status == 404
    expect(page.locator("main h1")).to_have_text(NOT_FOUND[lang])
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    expect(page.get_by_text("URLconf")).to_have_count(0)
    shoot(page, f"17-make-run-not-found-{name}")
