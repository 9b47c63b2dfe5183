"""Members' own pages kept in the cache (core/web/pagecache.py, ``member_page``): served
only to the session they were made for while it is valid, the same answer as a render,
a CSRF token that still works, gone when what they show changes; on local memory and
on Redis. The freshness of each page after each kind of write is
social/tests/test_member_caches.py."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import HASH_SESSION_KEY
from django.core.cache import cache
from django.test import Client

from core.web import pagecache
from feeds import services as feeds
from members import services as members
from members.tests.mothers import PASSWORD
from social.tests.mothers import a_member, follow, publish
from social.tests.test_member_caches import caches, logged_in  # noqa: F401 - caches: a fixture

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("caches")]

PAGES = ["/home/", "/posts/", "/members/{author}/posts/", "/me/", "/api/me/home"]


@pytest.fixture
def author():
    author = a_member(nickname="author")
    publish(author, "the author first post")
    return author


@pytest.fixture
def reader(author):
    reader = a_member(nickname="reader")
    follow(reader, author)
    return reader


def pages(author) -> list[str]:
    return [p.format(author=author.pk) for p in PAGES]


def state(response) -> str | None:
    return response.headers.get("X-Page-Cache")


def kept(client: Client, path: str):
    """The page twice: rendered and kept, then served from the cache."""
    first = client.get(path)
    assert first.status_code == 200, path
    assert state(first) == "miss", path
    second = client.get(path)
    assert state(second) == "hit", path
    return first, second


def _without_token(text: str) -> str:
    # A render masks the CSRF secret anew each time; both masks are valid.
    return re.sub(r'(name="csrfmiddlewaretoken" value=")[^"]+', r"\1", text)


def test_a_kept_page_is_the_render_header_for_header(author, reader):
    client = logged_in(reader)
    for path in pages(author):
        rendered, served = kept(client, path)
        assert _without_token(served.text) == _without_token(rendered.text), path
        own = ("X-Page-Cache", "X-Request-ID")  # the request's own
        same = {k: v for k, v in rendered.items() if k not in own}
        assert {k: v for k, v in served.items() if k not in own} == same, path
        assert served["X-Request-ID"] != rendered["X-Request-ID"]
        assert served.cookies.keys() == rendered.cookies.keys(), path
        for name in served.cookies:
            assert served.cookies[name].value == rendered.cookies[name].value


def test_the_token_of_a_kept_page_is_accepted(author, reader):
    client = Client(enforce_csrf_checks=True)  # logs in as a browser does, with the form's token
    login_page = client.get("/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login_page.text)[1]
    login = {"username": reader.email, "password": PASSWORD, "csrfmiddlewaretoken": token}
    assert client.post("/login/", login).status_code == 302
    cache.delete(f"wrote:{reader.pk}")
    _, served = kept(client, "/me/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', served.text)[1]

    changed = client.post("/me/nickname/", {"nickname": "tokened", "csrfmiddlewaretoken": token})

    assert changed.status_code == 302
    assert members.member_public(member_id=reader.pk).nickname == "tokened"


def test_a_session_logged_out_elsewhere_is_never_served_its_pages(author, reader):
    browser = logged_in(reader)
    for path in pages(author):
        kept(browser, path)
    other = logged_in(reader)

    assert other.post("/me/logout-everywhere/").status_code == 302

    for path in pages(author):
        answer = browser.get(path)
        assert state(answer) is None, path  # neither their kept page nor the visitors'
        public = path in ("/posts/", f"/members/{author.pk}/posts/")
        assert answer.status_code == (200 if public else 302 if "api" not in path else 401)
        assert ">reader</a>" not in answer.content.decode(), path


def test_a_logged_out_copy_of_the_cookie_is_never_served(author, reader):
    browser = logged_in(reader)
    kept(browser, "/home/")
    thief = Client()
    thief.cookies = browser.cookies.__class__(browser.cookies)  # the same cookies

    assert browser.post("/logout/").status_code == 302

    answer = thief.get("/home/")
    assert answer.status_code == 302
    assert answer["Location"].startswith("/login/")


def test_a_password_changed_elsewhere_ends_the_kept_pages(author, reader):
    browser = logged_in(reader)
    kept(browser, "/me/")
    member = members.member_for_session(member_id=reader.pk)
    stale_hash = browser.session[HASH_SESSION_KEY]

    member.set_password("another-password-42")
    member.save()

    assert member.get_session_auth_hash() != stale_hash
    assert browser.get("/me/").status_code == 302


def test_a_deleted_member_is_never_served_their_pages(author, reader):
    from social import usecases

    browser = logged_in(reader)
    kept(browser, "/home/")
    usecases.member_remove(member_id=reader.pk)
    assert browser.get("/home/").status_code == 302


def test_one_members_page_never_reaches_another_with_the_same_csrf_cookie(author):
    first, second = a_member(nickname="first"), a_member(nickname="second")
    one, two = logged_in(first), logged_in(second)
    for path in pages(author):
        kept(one, path)
    two.cookies["csrftoken"] = one.cookies["csrftoken"].value

    for path in ("/home/", "/posts/", f"/members/{author.pk}/posts/", "/me/"):
        page = two.get(path)
        assert state(page) == "miss", path  # rendered for them, not the first's copy
        assert ">second</a>" in page.text
        assert ">first</a>" not in page.text


def test_pages_with_a_query_or_a_pending_message_are_never_kept(author, reader):
    client = logged_in(reader)
    for _ in range(2):
        assert state(client.get("/home/?size=20")) is None
    client.cookies["messages"] = "anything"
    for _ in range(2):
        assert state(client.get("/home/")) is None


def test_a_first_visit_without_a_csrf_cookie_is_rendered(author, reader):
    client = logged_in(reader)
    del client.cookies["csrftoken"]
    answer = client.get("/me/")
    assert state(answer) is None
    assert "csrftoken" in answer.cookies  # given one: the next request may be kept


def test_a_writer_is_not_served_kept_pages_nor_leaves_them(author, reader):
    client = logged_in(reader)
    kept(client, "/posts/")
    client.post("/posts/new/", {"contents": "mine"})  # the window starts
    for _ in range(2):
        answer = client.get("/posts/")
        assert state(answer) is None
        assert "mine" in answer.text


def test_a_kept_page_lives_memo_seconds(author, reader, settings):
    settings.MEMO_SECONDS = 0  # kept for no time at all: every request renders
    client = logged_in(reader)
    for _ in range(3):
        assert state(client.get("/me/")) in ("miss", None)


def test_a_fanout_ends_the_kept_home_and_the_next_is_kept_again(author, reader):
    client = logged_in(reader)
    kept(client, "/home/")
    kept(client, "/api/me/home")
    publish(author, "fanned out")  # the fan-out runs right after the commit, in-process

    for path in ("/home/", "/api/me/home"):
        answer = client.get(path)
        assert state(answer) == "miss"
        assert "fanned out" in answer.text
        assert state(client.get(path)) == "hit"


def test_a_pulled_authors_post_ends_the_kept_home(author, reader):
    feeds.pull_authors_replace(member_ids={author.pk})
    client = logged_in(reader)
    kept(client, "/home/")
    publish(author, "pulled on read")

    answer = client.get("/home/")
    assert "pulled on read" in answer.text
    assert state(answer) == "miss"


def test_the_cache_failing_renders_every_page(author, reader, monkeypatch):
    client = logged_in(reader)
    kept(client, "/home/")

    def failing(*args, **kwargs):
        raise ConnectionError("the cache is gone")

    monkeypatch.setattr(pagecache, "stamps_read", failing)
    for path in pages(author):
        answer = client.get(path)
        assert answer.status_code == 200, path
        assert state(answer) is None, path
    assert pagecache.MEMBER_RESULTS.labels("error")._value.get() >= len(PAGES)
