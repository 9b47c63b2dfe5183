"""The anonymous page cache: served from the cache, fresh on the next request after a
write, never a member's page or a CSRF token, on local memory and on Redis."""

import os
import time

import pytest
from django.core.cache import cache
from django.test import Client, override_settings

from core.cache import cache_from_url
from core.testing.concurrency import run_together
from core.web import pagecache
from follows import services as follows
from likes import services as likes
from members import services as members
from members.tests.mothers import a_member
from social import usecases

pytestmark = pytest.mark.django_db(transaction=True)  # writes commit, as in production

# As CACHE_URL configures it (django-redis), on a database number of the tests' own.
REDIS = {
    "default": cache_from_url(f"redis://127.0.0.1:6379/{os.environ.get('TEST_REDIS_DB', '9')}")
}


@pytest.fixture(params=["locmem", "redis"])
def page_cache(request, settings):
    settings.PAGE_CACHE = True
    if request.param == "redis":
        with override_settings(CACHES=REDIS):
            cache.clear()
            yield request.param
            cache.clear()
    else:
        cache.clear()
        yield request.param
        cache.clear()


def anonymous(path: str, **headers):
    return Client().get(path, **headers)


def state(response) -> str | None:
    return response.headers.get("X-Page-Cache")


@pytest.fixture
def author():
    author = a_member(nickname="writer")
    usecases.post_publish(member_id=author.pk, contents="first post")
    return author


PAGES = ["/posts/", "/api/posts", "/members/{id}/posts/", "/api/members/{id}/posts"]


def test_the_second_visit_is_served_from_the_cache(page_cache, author):
    first = anonymous("/posts/")
    second = anonymous("/posts/")
    assert (state(first), state(second)) == ("miss", "hit")
    assert second.content == first.content
    assert second["Content-Security-Policy"] == first["Content-Security-Policy"]


@pytest.mark.parametrize("page", PAGES)
def test_a_new_post_is_on_the_next_request(page_cache, author, page):
    url = page.format(id=author.pk)
    assert state(anonymous(url)) == "miss"
    assert state(anonymous(url)) == "hit"

    usecases.post_publish(member_id=author.pk, contents="second post")

    fresh = anonymous(url)
    assert state(fresh) == "miss"
    assert "second post" in fresh.text


def test_nickname_likes_follows_and_deletes_show_at_once(page_cache, author):
    url = f"/members/{author.pk}/posts/"
    fan = a_member()
    post_id = anonymous("/api/posts").json()["posts"][0]["id"]
    anonymous(url)

    members.member_change_nickname(member_id=author.pk, nickname="renamed")
    assert "renamed" in anonymous(url).text

    likes.like_add(member_id=fan.pk, post_id=post_id)
    assert anonymous(f"/api/posts/{post_id}").json()["likes"] == 1
    assert anonymous(f"/api/posts/{post_id}").json()["likes"] == 1  # and from the cache

    follows.follow_add(follower_id=fan.pk, followee_id=author.pk)
    assert anonymous(f"/api/members/{author.pk}").json()["followers"] == 1

    usecases.post_remove(member_id=author.pk, post_id=post_id)
    assert anonymous(f"/api/posts/{post_id}").status_code == 404
    assert "first post" not in anonymous(url).text


def test_a_member_is_never_served_a_visitors_page_nor_leaves_one(page_cache, author):
    member = a_member(nickname="private")
    client = Client()
    client.force_login(member)
    mine = client.get("/posts/")
    assert state(mine) is None
    assert "Log out" in mine.text

    for _ in range(2):
        page = anonymous("/posts/")
        assert "Log out" not in page.text
        assert "private" not in page.text
    again = client.get("/posts/")  # their own page (test_member_pagecache.py), not the visitors'
    assert "Log out" in again.text
    assert ">private</a>" in again.text


def test_cached_pages_carry_no_csrf_token_and_set_no_cookie(page_cache, author):
    for _ in range(2):
        page = anonymous("/posts/")
        assert "csrfmiddlewaretoken" not in page.text
        assert not page.cookies


def test_a_response_that_sets_a_cookie_is_not_cached(page_cache, author):
    # The login page sets the CSRF cookie: it is never stored.
    assert state(anonymous("/login/")) is None
    assert state(anonymous("/login/")) is None


def test_each_language_has_its_own_pages(page_cache, author):
    english = anonymous("/posts/", HTTP_ACCEPT_LANGUAGE="en")
    korean = anonymous("/posts/", HTTP_ACCEPT_LANGUAGE="ko")
    assert "Timeline" in english.text
    assert "타임라인" in korean.text
    assert state(anonymous("/posts/", HTTP_ACCEPT_LANGUAGE="ko")) == "hit"


def test_errors_and_other_hosts_are_kept_apart(page_cache, author, settings):
    settings.ALLOWED_HOSTS = ["testserver", "other.example"]
    assert state(anonymous("/api/posts?size=0")) is None  # a 400 is not stored
    here = anonymous("/api/posts?size=1")
    there = anonymous("/api/posts?size=1", HTTP_HOST="other.example")
    assert state(there) == "miss"
    assert (here.json()["next"] or "").startswith("http://testserver/") or not here.json()["next"]


def test_a_bad_host_is_the_usual_400_without_a_traceback(page_cache, caplog):
    response = anonymous("/posts/", HTTP_HOST="x" * 8000)
    assert response.status_code == 400
    assert not any(r.exc_info for r in caplog.records if r.name.startswith("config"))


def test_a_cache_that_raises_is_a_miss_logged_in_one_line(settings, author, caplog):
    # Django's own RedisCache raises when Redis is down (the site's django-redis
    # does not: config/tests/test_cache.py); the middleware copes with either.
    settings.PAGE_CACHE = True
    down = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 0.5},
        }
    }
    with override_settings(CACHES=down):
        response = anonymous("/posts/")
    assert response.status_code == 200
    assert "first post" in response.text
    warnings = [r for r in caplog.records if r.name == "core.web.pagecache"]
    assert warnings
    assert "ConnectionError" in warnings[0].getMessage()
    assert not any(r.exc_info for r in warnings)


# --- a write makes stale what shows it; the key space is bounded; misses render once ---------


def test_a_like_renders_again_only_the_post_it_changed(page_cache, author, settings):
    settings.MEMO_SECONDS = 60  # the timelines' like counts: their bound, not a bump
    other = a_member()
    usecases.post_publish(member_id=other.pk, contents="other post")
    post_id = anonymous("/api/posts").json()["posts"][-1]["id"]  # the author's
    pages = ["/posts/", f"/members/{other.pk}/posts/", f"/api/posts/{post_id}"]
    for page in pages:
        anonymous(page)
        assert state(anonymous(page)) == "hit"

    likes.like_add(member_id=other.pk, post_id=post_id)

    assert state(anonymous("/posts/")) == "hit"
    assert state(anonymous(f"/members/{other.pk}/posts/")) == "hit"
    fresh = anonymous(f"/api/posts/{post_id}")
    assert (state(fresh), fresh.json()["likes"]) == ("miss", 1)


def test_timelines_with_like_counts_are_kept_memo_seconds(page_cache, author, settings):
    settings.MEMO_SECONDS = 0.2
    anonymous("/posts/")
    assert state(anonymous("/posts/")) == "hit"
    time.sleep(0.25)
    assert state(anonymous("/posts/")) == "miss"


def test_a_follow_renders_again_only_its_two_members_pages(page_cache, author):
    fan, bystander = a_member(), a_member()
    usecases.post_publish(member_id=bystander.pk, contents="bystander post")
    pages = [f"/members/{m.pk}/posts/" for m in (author, fan, bystander)] + ["/posts/"]
    for page in pages:
        anonymous(page)

    follows.follow_add(follower_id=fan.pk, followee_id=author.pk)

    states = [state(anonymous(page)) for page in pages]
    assert states == ["miss", "miss", "hit", "hit"]


def test_unknown_query_parameters_never_make_an_entry(page_cache, author):
    before = _entries()
    for n in range(5):
        response = anonymous(f"/posts/?r={n}")
        assert response.status_code == 200
        assert state(response) is None  # rendered, not looked up, not stored
    assert _entries() == before


def test_a_page_with_a_query_is_stored_on_its_second_request(page_cache, author):
    assert state(anonymous("/posts/?size=5")) == "miss"  # only remembered
    assert state(anonymous("/posts/?size=5")) == "miss"  # stored
    assert state(anonymous("/posts/?size=5")) == "hit"
    assert state(anonymous("/posts/?size=6")) == "miss"  # another URL: first sight again


def test_concurrent_misses_of_one_page_render_it_once(page_cache, author, monkeypatch):
    renders, answers = [], []
    render = pagecache.PageCacheMiddleware._render

    def slow_render(self, request, *args, **kwargs):
        renders.append(kwargs["store"])
        time.sleep(0.3)  # long enough for the others to find the lock taken
        return render(self, request, *args, **kwargs)

    monkeypatch.setattr(pagecache.PageCacheMiddleware, "_render", slow_render)
    errors = run_together(lambda _: answers.append(anonymous("/posts/").text), range(6))

    assert not errors
    assert len(answers) == 6
    assert len(set(answers)) == 1
    assert renders == [True]  # one render, stored; the five others waited for it


def _entries() -> int:
    """How many keys the cache holds (Redis or local memory)."""
    if hasattr(cache, "keys"):
        return len(cache.keys("*"))
    return len(cache._cache)
