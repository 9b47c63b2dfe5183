"""Every page in both languages and both sizes: screenshots, and the checks that
a page looks finished (one-row header on a phone, the heat map open at today, ...).

Screenshots go to screenshots/<page>-<language>-<size>.png: look at them.
"""

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

from posts.facades import today

pytestmark = pytest.mark.django_db(transaction=True)

SIZES = {"desktop": {"width": 1100, "height": 900}, "phone": {"width": 390, "height": 844}}
LOCALES = {"en": "en-US", "ko": "ko-KR"}
WRONG = {"en": "That email and password do not match a member.", "ko": "이메일과 비밀번호가 맞는"}
NOT_FOUND = {"en": "Page not found", "ko": "페이지를 찾을 수 없습니다"}


def one_row(page: Page, selector: str) -> None:
    """The element's children all sit on one line: its height is one row's."""
    box = page.locator(selector).bounding_box()
    tallest = page.locator(selector).evaluate(
        "el => Math.max(...[...el.children].filter(c => c.offsetParent)"
        ".map(c => c.getBoundingClientRect().height))"
    )
    assert box is not None
    # padding allowed, but never a second row of children
    assert box["height"] < 2 * tallest, (selector, box, tallest)


def fits(page: Page) -> None:
    """Nothing wider than the screen: not the page, not the header's one row."""
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    nav = page.locator(".site-header nav")
    assert nav.evaluate("n => n.scrollWidth <= n.clientWidth"), "the header does not fit"
    one_row(page, ".site-header nav")


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("lang", LOCALES)
def test_every_page_looks_finished(live_server, browser, shoot, lang, size):
    call_command("seed_demo")
    context = browser.new_context(locale=LOCALES[lang], viewport=SIZES[size])
    context.set_default_timeout(10_000)
    page = context.new_page()
    base = live_server.url
    name = f"{lang}-{size}"

    # A failed login: the message says what is case-sensitive, apart from the first label.
    page.goto(f"{base}/login/")
    one_row(page, ".site-header nav")
    page.locator("input[name=username]").fill("demo@example.com")
    page.locator("input[name=password]").fill("not-the-password")
    page.locator("form.card button[type=submit]").click()
    error = page.locator("form.card > .errors")
    expect(error).to_contain_text(WRONG[lang])
    label = page.locator("form.card label").first.bounding_box()
    assert label["y"] - (error.bounding_box()["y"] + error.bounding_box()["height"]) >= 8
    fits(page)
    shoot(page, f"10-login-error-{name}")

    page.goto(f"{base}/signup/")
    expect(page.locator("input[name=birthdate]")).to_have_attribute("type", "date")
    fits(page)
    shoot(page, f"11-signup-{name}")

    page.goto(f"{base}/login/")
    page.locator("input[name=username]").fill("DEMO@example.com")
    page.locator("input[name=password]").fill("demo-password")
    page.locator("form.card button[type=submit]").click()
    expect(page).to_have_url(f"{base}/home/")
    # The whole header on one row, with the nickname beside "Log out".
    one_row(page, ".site-header nav")
    me, logout = page.locator(".site-header .me"), page.locator(".site-header form.inline")
    assert abs(me.bounding_box()["y"] - logout.first.bounding_box()["y"]) < 10
    expect(page.locator(".post")).to_have_count(20)
    expect(page.locator(".post button.like").first).to_be_visible()
    fits(page)
    shoot(page, f"12-home-{name}")

    page.goto(f"{base}/posts/")
    expect(page.locator(".post")).to_have_count(20)
    fits(page)
    shoot(page, f"12-timeline-{name}")

    # A member's page: the card with counts and the follow button, then their followers.
    page.locator(".post .author").filter(has_text="민지").first.click()
    expect(page.locator(".member-card form button")).to_be_visible()
    one_row(page, ".member-counts")
    fits(page)
    shoot(page, f"12-member-{name}")
    page.locator(".member-counts a").first.click()
    expect(page.locator("ul.members li")).not_to_have_count(0)
    fits(page)
    shoot(page, f"12-followers-{name}")

    page.goto(f"{base}/me/")
    expect(page.locator("table.history tbody tr")).to_have_count(3)
    fits(page)
    shoot(page, f"13-profile-{name}")

    page.goto(f"{base}/posts/new/")
    expect(page.locator("textarea[name=contents]")).to_be_visible()
    fits(page)
    shoot(page, f"13-write-{name}")

    page.goto(f"{base}/me/calendar/")
    one_row(page, ".cal-nav")
    # Days without posts show their number only, never a "0".
    empty = page.locator('td.day[data-count="0"]')
    assert empty.count() > 0
    expect(page.locator('td.day[data-count="0"] .count')).to_have_count(0)
    for text in empty.all_inner_texts():
        day, *rest = text.split()
        assert day.isdigit(), text
        assert "0" not in rest, text
    fits(page)
    shoot(page, f"14-month-{name}")

    page.goto(f"{base}/me/calendar/?year={today().year}")
    one_row(page, ".cal-nav")
    # Today's cell is on screen after load (on a phone the map scrolls to it).
    cell = page.locator(".heat.today")
    page.wait_for_function(
        "() => { const r = document.querySelector('.heat.today').getBoundingClientRect();"
        " return r.left >= 0 && r.right <= window.innerWidth; }"
    )
    box = cell.bounding_box()
    assert box["x"] >= 0
    assert box["x"] + box["width"] <= SIZES[size]["width"]
    # Each month label is one line of text (no "1" over "월").
    lines = page.locator("a.heat-label").evaluate_all(
        "els => els.map(a => { const r = document.createRange(); r.selectNodeContents(a);"
        " return r.getClientRects().length; })"
    )
    assert lines == [1] * 12
    expect(page.locator(".heat-days")).to_contain_text("Mon" if lang == "en" else "월")
    if size == "phone":
        expect(page.locator(".scroll-hint")).to_be_visible()
        wrap = page.locator(".heatmap-wrap")
        assert wrap.evaluate("w => w.scrollWidth > w.clientWidth")
    fits(page)
    shoot(page, f"15-year-{name}")

    response = page.goto(f"{base}/no/such/page/")
    assert response.status == 404
    expect(page.locator(".site-header")).to_be_visible()
    expect(page.locator("h1")).to_have_text(NOT_FOUND[lang])
    fits(page)
    shoot(page, f"16-not-found-{name}")
    context.close()
