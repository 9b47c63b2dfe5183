"""Every page in both languages and both sizes: screenshots, and the checks that
a page looks finished (the header's rows, every control a fingertip wide on a phone,
the heat map open at today, ...).

Screenshots go to screenshots/<page>-<language>-<size>.png: look at them.
"""

import re

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

from members import services as members
from posts.facades import today

pytestmark = pytest.mark.django_db(transaction=True)

SIZES = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
LOCALES = {"en": "en-US", "ko": "ko-KR"}
WRONG = {"en": "That email and password do not match a member.", "ko": "이메일과 비밀번호가 맞는"}
NOT_FOUND = {"en": "Page not found", "ko": "페이지를 찾을 수 없습니다"}
OVER = {"en": "Characters over the limit: 8", "ko": "넘친 글자: 8"}


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


# Every control on screen: links, buttons, fields (the skip link shows only when focused).
CONTROLS = (
    "(document.querySelectorAll('.site-header a, .site-header button, main a, main button,"
    " main input:not([type=hidden]), main textarea, main select'))"
)


def header_rows(page: Page) -> int:
    """How many rows the header's items take (each row one line of them)."""
    centres = page.locator(".site-header nav").evaluate(
        "n => [...n.children].map(c => c.getBoundingClientRect()).filter(r => r.height > 0)"
        ".map(r => (r.top + r.bottom) / 2)"
    )
    rows = sorted(centres)
    return 1 + sum(1 for a, b in zip(rows, rows[1:], strict=False) if b - a > 10)


def small_controls(page: Page) -> list[str]:
    """Controls smaller than 44x44 px, the size of a fingertip."""
    return page.evaluate(
        f"[...{CONTROLS}].filter(e => e.offsetParent)"
        ".map(e => [e, e.getBoundingClientRect()])"
        ".filter(([e, r]) => r.width < 44 || r.height < 44)"
        ".map(([e, r]) => `${e.tagName} ${(e.innerText || e.name || '').trim().slice(0, 20)}"
        " ${Math.round(r.width)}x${Math.round(r.height)}`)"
    )


def fits(page: Page) -> None:
    """Nothing wider than the screen; the header with the site's name in its rows (on a
    phone a member's has two: the site and the account, then the tabs); on a phone,
    every control at least 44x44 px."""
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    nav = page.locator(".site-header nav")
    assert nav.evaluate("n => n.scrollWidth <= n.clientWidth"), "the header does not fit"
    expect(page.locator(".site-header .brand")).to_be_visible()
    phone = page.viewport_size["width"] < 600
    member = page.locator(".site-header .me").count() == 1
    assert header_rows(page) == (2 if phone and member else 1)
    if phone:
        assert small_controls(page) == []


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
    demo = members.member_public_by_email(email="demo@example.com").id
    # The nickname beside "Log out".
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

    # Deleting asks first: in place with the script, on a page of its own without it.
    page.goto(f"{base}/members/{demo}/posts/")
    first = page.locator(".post").first
    first.locator("a[data-delete]").click()
    expect(first.locator(".delete-question")).to_be_visible()
    fits(page)
    shoot(page, f"12-delete-asked-{name}")
    first.locator("[data-answer=no]").click()
    page.goto(base + first.locator("a[data-delete]").get_attribute("href"))
    expect(page.locator("form.actions button.danger")).to_be_visible()
    fits(page)
    shoot(page, f"12-delete-page-{name}")

    page.goto(f"{base}/posts/new/")
    expect(page.locator("textarea[name=contents]")).to_be_visible()
    page.locator("textarea[name=contents]").fill("안녕하세요 👋\n" + "가" * 500)
    expect(page.locator(".counter")).to_have_text(OVER[lang])
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

    # A day of the calendar: its posts, the days around it, the way back to its month.
    days = page.locator("td.day a.day-cell").filter(has=page.locator(".count"))
    if days.count() == 0:  # the first hours of a month
        page.locator(".cal-nav a[rel=prev]").click()
    days.last.click()
    expect(page).to_have_url(re.compile(r"/me/calendar/\d{4}-\d{2}-\d{2}/$"))
    expect(page.locator(".post")).not_to_have_count(0)
    one_row(page, ".cal-nav")
    fits(page)
    shoot(page, f"14-day-{name}")

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
    lines = page.locator("span.heat-label:not(:empty)").evaluate_all(
        "els => els.map(a => { const r = document.createRange(); r.selectNodeContents(a);"
        " return r.getClientRects().length; })"
    )
    assert lines == [1] * 12
    expect(page.locator(".heat-days")).to_contain_text("Mon" if lang == "en" else "월")
    expect(page.locator(".months a.month-link")).to_have_count(today().month)
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
