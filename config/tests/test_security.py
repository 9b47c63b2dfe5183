"""The security promises, checked across every page at once."""

import pytest
from django.test import Client

from members.models import Member
from members.tests.mothers import PASSWORD, a_member
from posts.models import Post
from posts.tests.mothers import a_post

pytestmark = pytest.mark.django_db

EVIL = "<script>alert(1)</script>"

POSTS = [
    (
        "/signup/",
        {
            "email": "x@example.com",
            "nickname": "x",
            "birthdate": "1990-01-01",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    ),
    ("/login/", {"username": "victim@example.com", "password": PASSWORD}),
    ("/logout/", {}),
    ("/me/nickname/", {"nickname": "hijacked"}),
    ("/posts/new/", {"contents": "forged"}),
    ("/posts/1/like/", {}),
    ("/posts/1/unlike/", {}),
    ("/posts/1/delete/", {}),
    ("/members/1/follow/", {}),
    ("/members/1/unfollow/", {}),
    ("/admin/login/", {"username": "victim@example.com", "password": PASSWORD}),
]
MEMBER_PAGES = ["/me/", "/me/calendar/", "/posts/new/", "/home/"]
ADMIN_PAGES = [
    "/admin/",
    "/admin/members/member/",
    "/admin/members/nicknamehistory/",
    "/admin/posts/post/",
    "/admin/posts/dailypostcount/",
    "/admin/follows/follow/",
    "/admin/likes/like/",
    "/admin/feeds/fanoutjob/",
]


@pytest.mark.parametrize(("url", "data"), POSTS)
def test_every_post_is_refused_without_the_csrf_token(url, data):
    victim = a_member(email="victim@example.com", nickname="victim")
    client = Client(enforce_csrf_checks=True)
    client.force_login(victim)

    response = client.post(url, data)

    assert response.status_code == 403
    victim.refresh_from_db()
    assert victim.nickname == "victim"
    assert Member.objects.count() == 1
    assert not Post.objects.exists()


def test_the_language_switcher_needs_no_token():
    # Exempt on purpose (config/urls.py): a language is no one's secret, and public
    # pages without a token can be cached whole for every visitor.
    client = Client(enforce_csrf_checks=True)
    response = client.post("/i18n/setlang/", {"language": "ko", "next": "/posts/"})
    assert (response.status_code, response.url) == (302, "/posts/")
    assert "csrfmiddlewaretoken" not in client.get("/posts/").text


@pytest.mark.parametrize("url", MEMBER_PAGES)
def test_member_pages_send_anonymous_visitors_to_log_in(client, url):
    response = client.get(url)
    assert (response.status_code, response.url) == (302, f"/login/?next={url}")


def test_the_member_api_refuses_anonymous_visitors(client):
    response = client.get("/api/me/calendar?start=2025-01-01&end=2025-01-31")
    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"


@pytest.mark.parametrize("url", ADMIN_PAGES)
def test_the_admin_refuses_members_who_are_not_staff(client, url):
    client.force_login(a_member())
    response = client.get(url)
    assert response.status_code == 302
    assert response.url.startswith("/admin/login/")


def test_contents_and_nicknames_are_escaped_everywhere(client):
    author = a_member(nickname="<b>bad</b>")
    a_post(author, contents=EVIL)
    client.force_login(author)
    for url in (
        "/posts/",
        f"/members/{author.pk}/posts/",
        "/me/",
        "/me/calendar/",
        "/me/calendar/?year=2025",
        "/posts/new/",
    ):
        text = client.get(url).text
        assert EVIL not in text, url
        assert "<b>bad</b>" not in text, url
        assert "&lt;b&gt;bad&lt;/b&gt;" in text, url


def test_no_page_shows_another_members_email(client):
    other = a_member(email="other.person@example.com")
    a_post(other)
    me = a_member(email="me@example.com")
    client.force_login(me)
    for url in (
        "/posts/",
        f"/members/{other.pk}/posts/",
        "/me/",
        "/me/calendar/",
        "/api/posts",
        f"/api/members/{other.pk}/posts",
        "/api/me/calendar?start=2025-01-01&end=2025-12-31",
    ):
        body = client.get(url).content.decode()
        assert "other.person@example.com" not in body, url


def test_responses_carry_the_security_headers(client):
    response = client.get("/posts/")
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
