"""A member's first hour, in a real browser at both sizes and in both languages: likes and
follows without a reload, a delete that asks first, a calendar to walk, the compose page's
count, Korean that breaks between words, the admin in Korean; then the same forms with
scripting off. The calendar's "today" is a fixed day in a month's first week."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import pytest
from playwright.sync_api import Browser, Page, expect
from playwright.sync_api import Error as PlaywrightError

from e2e.test_pages import LOCALES, SIZES, small_controls
from members.models import Member
from members.tests.mothers import PASSWORD
from posts import facades
from posts.models import Post
from posts.tests.mothers import a_member, a_post, noon

pytestmark = pytest.mark.django_db(transaction=True)

TODAY = date(2025, 3, 3)  # a Monday, in March's first week
KOREAN = "엄마가 보내준 김장 김치 도착! 이번 겨울은 든든합니다. " * 5
TEXT = {
    "en": {
        "follow": "Follow",
        "unfollow": "Unfollow",
        "one follower": "1 follower",
        "no followers": "0 followers",
        "deleted": "Your post is deleted.",
        "just begun": "March 2025 has only just begun.",
        "see last month": "See February 2025",
        "day": "2 posts on this day",
        "left": "Characters left: {}",
        "same nickname": "That is already your nickname.",
        "admin": "SNS administration",
        "throttle": "Login throttle",
    },
    "ko": {
        "follow": "팔로우",
        "unfollow": "팔로우 취소",
        "one follower": "팔로워 1명",
        "no followers": "팔로워 0명",
        "deleted": "게시물을 삭제했습니다.",
        "just begun": "2025년 3월이 이제 막 시작되었습니다.",
        "see last month": "2025년 2월 보기",
        "day": "이날 쓴 글 2개",
        "left": "남은 글자: {}",
        "same nickname": "지금 쓰고 있는 닉네임과 같습니다.",
        "admin": "SNS 관리",
        "throttle": "로그인 제한",
    },
}
# A mark the page keeps until it is loaded again.
MARK = "window.__same_page = true"
SAME_PAGE = "window.__same_page === true"
# Words of the element's text laid out over two lines (a break inside the word).
BROKEN_WORDS = """el => {
  const broken = [];
  for (const node of el.childNodes) {
    if (node.nodeType !== Node.TEXT_NODE) continue;
    for (const m of node.data.matchAll(/\\S+/g)) {
      const range = document.createRange();
      range.setStart(node, m.index);
      range.setEnd(node, m.index + m[0].length);
      const tops = new Set([...range.getClientRects()].filter(r => r.width > 0)
        .map(r => Math.round(r.top)));
      if (tops.size > 1) broken.push(m[0]);
    }
  }
  return broken;
}"""


@pytest.fixture
def community(monkeypatch):
    """Me (staff, so the admin opens too), with posts in February and March; Lee, who
    writes in Korean."""
    monkeypatch.setattr(facades, "today", lambda: TODAY)
    me = a_member(email="me@example.com", nickname="me", is_staff=True, is_superuser=True)
    lee = a_member(email="lee@example.com", nickname="Lee")
    for day, n in ((date(2025, 2, 14), 2), (date(2025, 2, 20), 1), (date(2025, 3, 2), 1)):
        for i in range(n):
            a_post(me, contents=f"me on {day} #{i}", at=noon(day).replace(minute=i))
    a_post(lee, contents="Lee's English post", at=noon(TODAY))
    a_post(lee, contents=KOREAN.strip(), at=noon(TODAY))
    return me, lee


def log_in(page: Page, base: str) -> None:
    page.goto(f"{base}/login/")
    page.locator("input[name=username]").fill("me@example.com")
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form.card button[type=submit]").click()
    expect(page).to_have_url(f"{base}/home/")


POINTS = []


def point(step):
    """A point of the first hour: checked on its own, so that each one that fails says so."""
    POINTS.append(step)
    return step


@dataclass
class Visit:
    page: Page
    base: str
    text: dict[str, str]
    me: Member
    lee: Member
    shoot: Callable
    name: str
    size: str


@point
def likes_in_place(v: Visit) -> None:
    """♥ in place: the count and the button change, the page stays where it was."""
    page, base = v.page, v.base
    page.goto(f"{base}/posts/")
    post = page.locator(".post").filter(has_text="Lee's English post")
    post.scroll_into_view_if_needed()
    page.evaluate("window.scrollBy(0, -120)")
    page.evaluate(MARK)
    y = post.bounding_box()["y"]
    like = post.locator("button.like")
    like.click()
    expect(like).to_have_attribute("aria-pressed", "true")
    expect(post.locator(".likes")).to_have_text("1")
    assert page.evaluate(SAME_PAGE), "the page was loaded again"
    assert abs(post.bounding_box()["y"] - y) < 2, "the post moved"
    like.click()
    expect(like).to_have_attribute("aria-pressed", "false")
    expect(post.locator(".likes")).to_have_text("0")
    page.reload()
    again = page.locator(".post").filter(has_text="Lee's English post")
    expect(again.locator(".likes")).to_have_text("0")


@point
def follows_in_place(v: Visit) -> None:
    """Follow and unfollow in place: the button and the follower count."""
    page, base, text = v.page, v.base, v.text
    page.goto(f"{base}/members/{v.lee.pk}/posts/")
    page.evaluate(MARK)
    page.get_by_role("button", name=text["follow"], exact=True).click()
    expect(page.get_by_role("button", name=text["unfollow"], exact=True)).to_be_visible()
    expect(page.locator("[data-followers]")).to_have_text(text["one follower"])
    page.get_by_role("button", name=text["unfollow"], exact=True).click()
    expect(page.get_by_role("button", name=text["follow"], exact=True)).to_be_visible()
    expect(page.locator("[data-followers]")).to_have_text(text["no followers"])
    assert page.evaluate(SAME_PAGE)


@point
def korean_breaks_between_words(v: Visit) -> None:
    """Korean breaks between words, in the English interface too."""
    page = v.page
    page.goto(f"{v.base}/members/{v.lee.pk}/posts/")
    korean = page.locator(".post-body").filter(has_text="든든합니다")
    assert korean.evaluate("el => el.getClientRects()[0].height") > 40  # it wraps
    assert korean.evaluate(BROKEN_WORDS) == []


@point
def delete_asks_first(v: Visit) -> None:
    """Delete asks first, in place; Cancel keeps the post; Delete, then, removes it."""
    page = v.page
    page.goto(f"{v.base}/members/{v.me.pk}/posts/")
    page.evaluate(MARK)
    mine = page.locator(".post").filter(has_text="me on 2025-02-20")
    mine.locator("a[data-delete]").click()
    question = mine.locator(".delete-question")
    expect(question).to_be_visible()
    expect(question.locator("[data-answer=no]")).to_be_focused()  # the safe answer first
    v.shoot(page, f"30-delete-asked-{v.name}")
    question.locator("[data-answer=no]").click()
    expect(question).to_have_count(0)
    expect(mine.locator("a[data-delete]")).to_be_visible()
    assert Post.objects.filter(contents="me on 2025-02-20 #0").exists()
    mine.locator("a[data-delete]").click()
    mine.locator("[data-answer=yes]").click()
    expect(page.get_by_role("status").filter(has_text=v.text["deleted"])).to_be_visible()
    assert page.evaluate(SAME_PAGE)
    assert not Post.objects.filter(contents="me on 2025-02-20 #0").exists()


@point
def skip_link(v: Visit) -> None:
    """A skip link first: Tab shows it, Enter goes past the header."""
    page = v.page
    page.goto(f"{v.base}/posts/")
    page.keyboard.press("Tab")
    skip = page.locator(".skip-link")
    expect(skip).to_be_focused()
    box = skip.bounding_box()
    assert box["y"] >= 0
    assert box["height"] >= 44
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


@point
def calendar_walk(v: Visit) -> None:
    """The calendar: the first week says so and offers last month; days are links; the
    year leads back to its months; nothing leads past today."""
    page, base, text = v.page, v.base, v.text
    page.goto(f"{base}/me/calendar/")
    expect(page.locator(".note")).to_contain_text(text["just begun"])
    expect(page.locator('.cal-nav a[rel="next"]')).to_have_count(0)
    expect(page.locator('td[data-date="2025-03-04"] a')).to_have_count(0)  # tomorrow
    page.get_by_role("link", name=text["see last month"]).click()
    expect(page.locator('td[data-date="2025-02-14"]')).to_have_attribute("data-count", "2")
    page.locator('td[data-date="2025-02-14"] a').click()
    expect(page).to_have_url(f"{base}/me/calendar/2025-02-14/")
    expect(page.locator(".total")).to_have_text(text["day"])
    expect(page.locator(".post-body")).to_have_text([f"me on 2025-02-14 #{i}" for i in (1, 0)])
    page.locator('.cal-nav a[rel="next"]').click()
    expect(page).to_have_url(f"{base}/me/calendar/2025-02-15/")
    page.locator('.cal-nav a[rel="prev"]').click()
    page.locator(".cal-nav a:not([rel])").click()  # back to its month
    expect(page).to_have_url(f"{base}/me/calendar/?month=2025-02")
    page.goto(f"{base}/me/calendar/?year=2025")
    expect(page.locator(".months a.month-link")).to_have_count(3)  # January to March
    expect(page.locator('.cal-nav a[rel="next"]')).to_have_count(0)
    page.locator(".months a.month-link").nth(1).click()
    expect(page).to_have_url(f"{base}/me/calendar/?month=2025-02")
    page.goto(f"{base}/me/calendar/2025-03-03/")
    expect(page.locator('.cal-nav a[rel="next"]')).to_have_count(0)


@point
def touch_targets_and_site_name(v: Visit) -> None:
    """Every control a fingertip wide on a phone, the site's name on every size."""
    page = v.page
    paths = ["/posts/", f"/members/{v.lee.pk}/posts/", "/posts/new/"]
    paths += ["/me/calendar/", "/me/calendar/?year=2025", "/me/calendar/2025-02-14/"]
    for path in paths:
        page.goto(v.base + path)
        expect(page.locator(".site-header .brand")).to_be_visible()
        if v.size == "phone":
            assert small_controls(page) == [], path


@point
def compose_count(v: Visit) -> None:
    """Compose: what is left, counted as the form counts (NFC, a line break as one, an
    emoji as one); 500 emoji go through."""
    page, base, text, me = v.page, v.base, v.text, v.me
    page.goto(f"{base}/posts/new/")
    counter, contents = page.locator(".counter"), page.locator("textarea[name=contents]")
    expect(counter).to_have_text(text["left"].format(500))
    contents.fill("a\nb")
    expect(counter).to_have_text(text["left"].format(497))
    contents.fill("\u1112\u1161\u11ab\u1100\u1173\u11af")  # 한글 as decomposed jamo
    expect(counter).to_have_text(text["left"].format(498))
    contents.fill("👋" * 500)
    expect(counter).to_have_text(text["left"].format(0))
    v.shoot(page, f"31-compose-count-{v.name}")
    page.locator("form.card button[type=submit]").click()
    expect(page).to_have_url(f"{base}/members/{me.pk}/posts/")
    assert Post.objects.filter(member=me, contents="👋" * 500).exists()


@point
def nickname_message(v: Visit) -> None:
    """The same nickname again: "yours already", not "taken by someone else"."""
    page = v.page
    page.goto(f"{v.base}/me/")
    page.locator("input[name=nickname]").fill("me")
    page.locator("input[name=nickname]").press("Enter")
    expect(page.get_by_text(v.text["same nickname"])).to_be_visible()


@point
def admin_in_korean(v: Visit) -> None:
    """The admin: the site's name and the login throttle, in the page's language."""
    page = v.page
    page.goto(f"{v.base}/admin/")
    expect(page.locator("#site-name")).to_have_text(v.text["admin"])
    expect(page.get_by_role("table").filter(has_text=v.text["throttle"]).first).to_be_visible()


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("lang", LOCALES)
def test_a_members_first_hour(live_server, browser: Browser, community, shoot, lang, size):
    me, lee = community
    context = browser.new_context(locale=LOCALES[lang], viewport=SIZES[size])
    context.set_default_timeout(10_000)
    page = context.new_page()
    log_in(page, live_server.url)
    visit = Visit(page, live_server.url, TEXT[lang], me, lee, shoot, f"{lang}-{size}", size)
    failed = {}
    for step in POINTS:
        try:
            step(visit)
        except (AssertionError, PlaywrightError) as exc:
            failed[step.__name__] = str(exc).splitlines()[0]
    context.close()
    assert not failed, "\n".join(f"{step}: {why}" for step, why in failed.items())


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("lang", LOCALES)
def test_every_form_works_without_scripting(live_server, browser: Browser, community, lang, size):
    me, lee = community
    text = TEXT[lang]
    base = live_server.url
    context = browser.new_context(
        locale=LOCALES[lang], viewport=SIZES[size], java_script_enabled=False
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    log_in(page, base)

    english = Post.objects.get(contents="Lee's English post").pk
    page.goto(f"{base}/posts/")
    page.locator(f"#post-{english} button.like").click()
    expect(page).to_have_url(f"{base}/posts/#post-{english}")  # loaded again, at the post
    expect(page.locator(f"#post-{english} .likes")).to_have_text("1")

    page.goto(f"{base}/members/{lee.pk}/posts/")
    page.get_by_role("button", name=text["follow"], exact=True).click()
    expect(page.get_by_role("link", name=text["one follower"])).to_be_visible()

    # Delete opens the page that asks; Cancel goes back to the post; Delete deletes.
    page.goto(f"{base}/me/calendar/2025-02-14/")
    newest = Post.objects.get(contents="me on 2025-02-14 #1").pk
    page.locator(".post").first.locator("a[data-delete]").click()
    expect(page).to_have_url(f"{base}/posts/{newest}/delete/?next=/me/calendar/2025-02-14/")
    page.locator("form.actions a.secondary").click()
    expect(page.locator(".post")).to_have_count(2)
    page.locator(".post").first.locator("a[data-delete]").click()
    page.locator("form.actions button.danger").click()
    expect(page.get_by_role("status")).to_have_text(text["deleted"])
    assert not Post.objects.filter(contents="me on 2025-02-14 #1").exists()

    # Compose: the browser's own limit and the help text, no counter.
    page.goto(f"{base}/posts/new/")
    expect(page.locator("textarea[name=contents]")).to_have_attribute("maxlength", "500")
    expect(page.locator(".counter")).to_be_hidden()
    context.close()
