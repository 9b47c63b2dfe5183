"""Two people in two browsers: they follow each other, post, like, unfollow, delete."""

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from e2e.test_journeys import sign_up
from members import services as members

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def second_page(browser: Browser, browser_context_args):
    context = browser.new_context(**browser_context_args)
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def member_id(email: str) -> int:
    return members.member_public_by_email(email=email).id


def write(page: Page, base: str, text: str) -> None:
    page.goto(f"{base}/posts/new/")
    page.get_by_label("Contents").fill(text)
    page.get_by_role("button", name="Post").click()
    expect(page.get_by_role("status")).to_have_text("Your post is up.")


def test_two_members_follow_post_like_unfollow_and_delete(
    live_server, page: Page, second_page: Page, shoot
):
    base = live_server.url
    kim, lee = page, second_page
    sign_up(kim, base, email="kim@example.com", nickname="김")
    sign_up(lee, base, email="lee@example.com", nickname="Lee")
    kim_id, lee_id = member_id("kim@example.com"), member_id("lee@example.com")

    # Each follows the other from their page.
    kim.goto(f"{base}/members/{lee_id}/posts/")
    kim.get_by_role("button", name="Follow").click()
    expect(kim.get_by_role("button", name="Unfollow")).to_be_visible()
    expect(kim.get_by_role("link", name="1 follower")).to_be_visible()
    lee.goto(f"{base}/members/{kim_id}/posts/")
    lee.get_by_role("button", name="Follow").click()
    lee.get_by_role("link", name="1 following").click()
    expect(lee.locator("ul.members li")).to_have_text(["Lee"])  # whom Kim follows

    # Lee posts; it is on Kim's home. Kim likes it.
    write(lee, base, "안녕하세요, 김 님! 👋")
    kim.get_by_role("link", name="Home").click()
    post = kim.locator(".post").filter(has_text="안녕하세요, 김 님!")
    expect(post).to_have_count(1)
    like = post.get_by_role("button", name=re.compile(r"^Like\b"))
    expect(like).to_have_attribute("aria-pressed", "false")
    like.click()  # in place: the page is not loaded again
    liked = kim.locator(".post").filter(has_text="안녕하세요, 김 님!")
    expect(liked.locator(".likes")).to_have_text("1")
    expect(liked.get_by_role("button", name=re.compile(r"^Like\b"))).to_have_attribute(
        "aria-pressed", "true"
    )
    shoot(kim, "20-home-after-a-like")

    # Kim posts back; Lee sees it at home and on the all-posts timeline, with the count.
    write(kim, base, "Hi Lee, thanks for the follow.")
    lee.get_by_role("link", name="Home").click()
    expect(lee.locator(".post-body")).to_have_text(
        ["Hi Lee, thanks for the follow.", "안녕하세요, 김 님! 👋"]
    )
    lee.goto(f"{base}/posts/")
    expect(lee.locator(".post").filter(has_text="안녕하세요").locator(".likes")).to_have_text("1")
    shoot(lee, "21-timeline-with-likes")

    # Kim unfollows: Lee's post leaves Kim's home, Kim's own stays.
    kim.goto(f"{base}/members/{lee_id}/posts/")
    kim.get_by_role("button", name="Unfollow").click()
    expect(kim.get_by_role("link", name="0 followers")).to_be_visible()
    kim.get_by_role("link", name="Home").click()
    expect(kim.locator(".post-body")).to_have_text(["Hi Lee, thanks for the follow."])

    # Lee deletes the post: gone from Lee's page and from the timeline.
    lee.goto(f"{base}/members/{lee_id}/posts/")
    shoot(lee, "22-member-page-with-follow-counts")
    # Delete asks first, in place.
    lee.locator(".post").filter(has_text="안녕하세요").get_by_role("link", name="Delete").click()
    lee.locator(".delete-question").get_by_role("button", name="Delete").click()
    expect(lee.get_by_role("status")).to_have_text("Your post is deleted.")
    expect(lee.locator(".post")).to_have_count(0)
    lee.goto(f"{base}/posts/")
    expect(lee.locator(".post-body")).to_have_text(["Hi Lee, thanks for the follow."])
