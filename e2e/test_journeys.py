"""What a person does, in a real browser."""

import re
from datetime import date

import pytest
from playwright.sync_api import Page, expect

from members import services as members
from members.tests.mothers import PASSWORD
from posts.facades import today

pytestmark = pytest.mark.django_db(transaction=True)

ELEVEN = "열한글자닉네임입니다요"


def sign_up(page: Page, base: str, *, email: str, nickname: str) -> None:
    page.goto(f"{base}/signup/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Nickname").fill(nickname)
    page.get_by_label("Birthdate").fill("1992-04-05")
    page.get_by_label("Password:", exact=True).fill(PASSWORD)
    page.get_by_label("Password confirmation").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()


def test_a_member_signs_up_renames_writes_and_pages(live_server, page: Page, shoot):
    base = live_server.url

    # The browser itself stops at 10 characters ...
    page.goto(f"{base}/signup/")
    page.get_by_label("Nickname").fill(ELEVEN)
    expect(page.get_by_label("Nickname")).to_have_value(ELEVEN[:10])
    # ... and the server rejects 11 from a client without that limit.
    page.get_by_label("Nickname").evaluate("input => input.removeAttribute('maxlength')")
    page.get_by_label("Email").fill("walker@example.com")
    page.get_by_label("Nickname").fill(ELEVEN)
    page.get_by_label("Birthdate").fill("1992-04-05")
    page.get_by_label("Password:", exact=True).fill(PASSWORD)
    page.get_by_label("Password confirmation").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    expect(
        page.get_by_text("Ensure this value has at most 10 characters (it has 11).")
    ).to_be_visible()
    shoot(page, "01-signup-rejected-nickname")

    page.get_by_label("Nickname").fill("걷는사람")
    page.get_by_label("Password:", exact=True).fill(PASSWORD)
    page.get_by_label("Password confirmation").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    expect(page).to_have_url(f"{base}/me/")
    expect(page.get_by_role("status")).to_have_text("Welcome, 걷는사람!")

    for nickname in ("두번째", "third ✨"):
        page.get_by_label("New nickname").fill(nickname)
        page.get_by_role("button", name="Change").click()
        expect(page.get_by_role("status")).to_have_text(f"Your nickname is now {nickname}.")
    history = page.locator("table.history tbody td:first-child")
    expect(history).to_have_text(["third ✨", "두번째", "걷는사람"])
    shoot(page, "02-profile-with-history")

    for n in range(1, 4):
        page.get_by_role("link", name="Write").click()
        page.get_by_label("Contents").fill(f"Post number {n} <b>stays text</b>")
        page.get_by_role("button", name="Post").click()
        expect(page.get_by_role("status")).to_have_text("Your post is up.")
    expect(page.locator(".post-body")).to_have_text(
        [f"Post number {n} <b>stays text</b>" for n in (3, 2, 1)]
    )
    shoot(page, "03-my-posts")

    page.get_by_role("link", name="My calendar").click()
    cell = page.locator(f'td[data-date="{today():%Y-%m-%d}"]')
    expect(cell).to_have_attribute("data-count", "3")
    expect(cell).to_have_class(re.compile(r"\btoday\b"))
    expect(page.get_by_text("3 posts this month")).to_be_visible()
    shoot(page, "04-month-grid")

    page.get_by_role("link", name=re.compile(r"^Year \d{4}$")).click()
    heat = page.locator(f'.heat[data-date="{today():%Y-%m-%d}"]')
    expect(heat).to_have_attribute("data-count", "3")
    expect(heat).to_have_attribute("title", re.compile(r": 3 posts$"))
    expect(page.locator(".legend")).to_contain_text("Less")
    shoot(page, "05-year-heat-map")

    page.goto(f"{base}/posts/?size=2")
    expect(page.locator(".post-body")).to_have_text(
        [f"Post number {n} <b>stays text</b>" for n in (3, 2)]
    )
    expect(page.get_by_role("link", name="Newer")).to_have_count(0)
    page.get_by_role("link", name="Older").click()
    expect(page.locator(".post-body")).to_have_text(["Post number 1 <b>stays text</b>"])
    expect(page.get_by_role("link", name="Older")).to_have_count(0)
    shoot(page, "06-timeline-last-page")
    page.get_by_role("link", name="Newer").click()
    expect(page.locator(".post-body")).to_have_text(
        [f"Post number {n} <b>stays text</b>" for n in (3, 2)]
    )

    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("link", name="Log in")).to_be_visible()
    page.goto(f"{base}/me/")
    expect(page).to_have_url(f"{base}/login/?next=/me/")


def test_staff_sees_the_nickname_history_in_the_admin(live_server, page: Page, shoot):
    member = members.member_register(
        email="renamed@example.com", nickname="first", birthdate=date(1990, 1, 1), password=None
    )
    for nickname in ("second", "third"):
        members.member_change_nickname(member_id=member.pk, nickname=nickname)
    members.member_register(
        email="admin@example.com",
        nickname="admin",
        birthdate=date(1980, 1, 1),
        password=PASSWORD,
        is_staff=True,
        is_superuser=True,
    )

    page.goto(f"{live_server.url}/admin/")
    page.get_by_label("Email").fill("admin@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(f"{live_server.url}/admin/members/member/")
    page.locator("#searchbar").fill("renamed@")
    page.locator("#searchbar").press("Enter")
    page.locator("#result_list").get_by_role("link", name=str(member.pk), exact=True).click()

    expect(page.locator(".field-nickname p")).to_have_text(["third", "second", "first"])
    # No caption repeating each row above it; the permission pickers folded away.
    expect(page.locator("td.original p").first).to_be_hidden()
    expect(page.locator("#id_user_permissions_from")).to_be_hidden()
    shoot(page, "07-admin-member-history")


def test_the_korean_ui(live_server, browser, shoot):
    context = browser.new_context(locale="ko-KR", viewport={"width": 390, "height": 844})
    page = context.new_page()
    base = live_server.url

    page.goto(f"{base}/signup/")
    expect(page.locator("html")).to_have_attribute("lang", "ko")
    page.get_by_label("이메일").fill("hangul@example.com")
    page.get_by_label("닉네임").fill("한글사용자")
    page.get_by_label("생년월일").fill("1990-05-17")
    page.get_by_label("비밀번호:", exact=True).fill(PASSWORD)
    page.get_by_label("비밀번호 확인").fill(PASSWORD)
    page.get_by_role("button", name="회원가입").click()
    expect(page.get_by_role("status")).to_have_text("한글사용자님, 환영합니다!")
    expect(page.get_by_text("1990년 5월 17일")).to_be_visible()
    shoot(page, "08-ko-profile-phone")

    page.get_by_role("link", name="글쓰기").click()
    page.get_by_label("내용").fill("안녕하세요")
    page.get_by_role("button", name="올리기").click()
    page.get_by_role("link", name="캘린더").click()  # "내 캘린더" on wider screens
    expect(page.get_by_text("이번 달 게시물 1개")).to_be_visible()
    expect(page.locator("td.today")).to_contain_text("오늘")
    shoot(page, "09-ko-month-grid-phone")

    page.get_by_role("button", name="English").click()
    expect(page.get_by_text("1 post this month")).to_be_visible()
    context.close()
