"""Rate limits: likes, follows and posts per member, sign-ups per address.

Each limit is tried at its value minus one, at it and one over: the request over it
is a 429 that writes nothing, another member (or address) is not held back, and a
new window lets the member write again.
"""

import pytest
from django.core.cache import cache
from django.test import Client

from follows.models import Follow
from likes.models import Like
from members.models import Member
from members.tests.mothers import a_member, signup_data
from posts.models import Post
from posts.tests.mothers import a_post

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def limits_on(settings):
    settings.RATELIMIT_ENABLE = True
    settings.RATE_LIMIT_LIKES = "3/m"
    settings.RATE_LIMIT_FOLLOWS = "3/m"
    settings.RATE_LIMIT_POSTS = "3/m"
    settings.RATE_LIMIT_SIGNUPS = "3/h"
    cache.clear()
    yield
    cache.clear()


def logged_in() -> Client:
    client = Client()
    client.force_login(a_member())
    return client


def test_likes_and_unlikes_share_one_limit_per_member():
    kim, lee = logged_in(), logged_in()
    post = a_post()
    for path in ("like", "unlike", "like"):  # three: the limit
        assert kim.post(f"/posts/{post.pk}/{path}/").status_code == 302
    over = kim.post(f"/posts/{post.pk}/unlike/")

    assert over.status_code == 429
    assert over["Retry-After"] == "60"
    assert Like.objects.filter(post=post).count() == 1  # the unlike over the limit did nothing
    assert lee.post(f"/posts/{post.pk}/like/").status_code == 302  # someone else may


def test_follows_per_member():
    kim = logged_in()
    stars = [a_member() for _ in range(4)]
    codes = [kim.post(f"/members/{s.pk}/follow/").status_code for s in stars]
    assert codes == [302, 302, 302, 429]
    assert Follow.objects.count() == 3


def test_posts_per_member_and_the_form_page_is_not_counted():
    kim = logged_in()
    for _ in range(5):
        assert kim.get("/posts/new/").status_code == 200
    codes = [kim.post("/posts/new/", {"contents": f"post {n}"}).status_code for n in range(4)]
    assert codes == [302, 302, 302, 429]
    assert Post.objects.count() == 3


def test_sign_ups_per_address_and_a_new_window_writes_again(settings):
    here, elsewhere = Client(REMOTE_ADDR="203.0.113.5"), Client(REMOTE_ADDR="198.51.100.5")
    codes = [
        Client(REMOTE_ADDR="203.0.113.5").post("/signup/", signup_data(email=f"m{n}@example.com"))
        for n in range(4)
    ]
    assert [c.status_code for c in codes] == [302, 302, 302, 429]
    assert "Too many requests" in codes[-1].text
    assert Member.objects.count() == 3
    assert here.get("/signup/").status_code == 200  # only posting counts
    assert elsewhere.post("/signup/", signup_data(email="x@example.com")).status_code == 302

    cache.clear()  # the window is over
    assert here.post("/signup/", signup_data(email="y@example.com")).status_code == 302


def test_an_empty_limit_is_none(settings):
    settings.RATE_LIMIT_FOLLOWS = ""
    kim = logged_in()
    stars = [a_member() for _ in range(5)]
    assert {kim.post(f"/members/{s.pk}/follow/").status_code for s in stars} == {302}


def test_a_cache_that_is_down_does_not_stop_writes(settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    kim = logged_in()
    post = a_post()
    assert {kim.post(f"/posts/{post.pk}/like/").status_code for _ in range(5)} == {302}
