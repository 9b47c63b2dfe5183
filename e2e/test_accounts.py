"""The account a member manages, in a real browser: password change and reset (the mail
read from the test's mail outbox, where the console would print it), log out everywhere,
and leaving, in English and in Korean."""

import re

import pytest
from playwright.sync_api import Page, expect

from members.models import Member
from members.tests.mothers import PASSWORD
from social.tests.mothers import a_member, follow, publish

pytestmark = pytest.mark.django_db(transaction=True)

NEW_PASSWORD = "a-brand-new-password"  # noqa: S105 - a test's


def log_in(page: Page, base: str, email: str, password: str = PASSWORD) -> None:
    page.goto(f"{base}/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def test_change_password_reset_it_and_log_out_everywhere(
    live_server, browser, page: Page, shoot, mailoutbox
):
    base = live_server.url
    a_member(email="jo@example.com", nickname="jo")
    log_in(page, base, "jo@example.com")
    other = browser.new_context(locale="en-US")  # the same member on another device
    elsewhere = other.new_page()
    log_in(elsewhere, base, "jo@example.com")

    page.goto(f"{base}/me/")
    shoot(page, "20-profile-account-links")
    page.get_by_role("link", name="Change password").click()
    page.get_by_label("Old password").fill(PASSWORD)
    page.get_by_label("New password:", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("New password confirmation").fill(NEW_PASSWORD)
    shoot(page, "21-change-password")
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_role("status")).to_contain_text("Your password is changed")
    expect(page).to_have_url(f"{base}/me/")
    elsewhere.goto(f"{base}/me/")  # that session ended
    expect(elsewhere).to_have_url(f"{base}/login/?next=/me/")

    # Forgotten: ask for a link, read the mail, set a new password.
    page.get_by_role("button", name="Log out", exact=True).click()
    page.goto(f"{base}/login/")
    page.get_by_role("link", name="Forgot your password?").click()
    page.get_by_label("Email").fill("jo@example.com")
    page.get_by_role("button", name="Send the link").click()
    expect(page.get_by_role("status")).to_contain_text("If that email belongs to a member")
    shoot(page, "22-reset-sent")
    (mail,) = mailoutbox
    link = re.search(r"http://\S+/password-reset/\S+/", mail.body).group(0)
    assert link.startswith(base)
    page.goto(link)
    page.get_by_label("New password:", exact=True).fill("a-third-long-password")
    page.get_by_label("New password confirmation").fill("a-third-long-password")
    shoot(page, "23-reset-set-password")
    page.get_by_role("button", name="Set the password").click()
    expect(page.get_by_role("status")).to_have_text("Your new password is set. Log in with it.")
    page.goto(link)  # once only
    expect(page.get_by_role("alert")).to_contain_text("does not work any more")

    # Log out everywhere: both sessions end.
    log_in(page, base, "jo@example.com", "a-third-long-password")
    log_in(elsewhere, base, "jo@example.com", "a-third-long-password")
    page.goto(f"{base}/me/")
    page.get_by_role("button", name="Log out everywhere").click()
    expect(page.get_by_role("status")).to_have_text("You are logged out everywhere.")
    elsewhere.goto(f"{base}/me/")
    expect(elsewhere).to_have_url(f"{base}/login/?next=/me/")
    other.close()


def test_a_member_leaves_in_korean(live_server, browser, shoot):
    base = live_server.url
    leaver, fan = a_member(email="bye@example.com", nickname="떠나는이"), a_member(nickname="팬")
    follow(fan, leaver)
    publish(leaver, "마지막 글")
    context = browser.new_context(locale="ko-KR", viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(f"{base}/login/")
    page.get_by_label("이메일").fill("bye@example.com")
    page.get_by_label("비밀번호").fill(PASSWORD)
    page.get_by_role("button", name="로그인").click()

    page.goto(f"{base}/me/")
    page.get_by_role("link", name="계정 삭제").click()
    page.get_by_label("비밀번호").fill("wrong-password")
    page.get_by_role("button", name="계정 삭제").click()
    expect(page.get_by_role("alert")).to_have_text("비밀번호가 맞지 않습니다.")
    shoot(page, "24-ko-delete-account-phone")
    page.get_by_label("비밀번호").fill(PASSWORD)
    page.get_by_role("button", name="계정 삭제").click()

    expect(page).to_have_url(f"{base}/posts/")
    expect(page.get_by_role("status")).to_contain_text("계정을 닫았습니다")
    expect(page.get_by_text("마지막 글")).to_have_count(0)
    assert not Member.objects.filter(pk=leaver.pk).exists()
    page.goto(f"{base}/members/{fan.pk}/posts/")
    expect(page.locator("main")).to_contain_text("팬")
    shoot(page, "25-ko-after-leaving")
    context.close()
