"""What must stay true of a member's pages through every cache (docs/speed.md): their own
writes on their next request, others' within the stated bounds, a deleted post gone
everywhere, nothing of one member shown to another, a warm home page's queries.

On local memory and on Redis (TEST_REDIS_DB), with writes that commit as in
production; the suite runs them on SQLite and on MariaDB.
"""

from __future__ import annotations

import os
import time

import pytest
from django.core.cache import cache
from django.test import Client, override_settings

from core.cache import cache_from_url, local_clear_all
from feeds import services as feeds
from likes import services as likes
from members import services as members
from members.tests.mothers import PASSWORD
from posts.models import Post
from social.tests.mothers import a_member, follow, publish

pytestmark = pytest.mark.django_db(transaction=True)

REDIS = {
    "default": cache_from_url(f"redis://127.0.0.1:6379/{os.environ.get('TEST_REDIS_DB', '9')}")
}


@pytest.fixture(params=["locmem", "redis"])
def caches(request, settings):
    settings.PAGE_CACHE = True
    if request.param == "redis":
        with override_settings(CACHES=REDIS):
            cache.clear()
            yield request.param
            cache.clear()
    else:
        yield request.param


def logged_in(member) -> Client:
    """A browser logged in as ``member`` a while ago: the login's writer window is over, so
    their pages are kept (core/web/pagecache.py) from the second request on."""
    client = Client()
    assert (
        client.post("/login/", {"username": member.email, "password": PASSWORD}).status_code == 302
    )
    cache.delete(f"wrote:{member.pk}")
    return client


def warm(client: Client, *paths: str) -> None:
    for path in paths:
        for _ in range(2):
            assert client.get(path).status_code == 200


def as_another_process() -> None:
    """What a request served by another process sees: none of this one's memos."""
    local_clear_all()


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


def pages_of(author) -> list[str]:
    return ["/home/", "/posts/", f"/members/{author.pk}/posts/", "/me/", "/api/me/home"]


def post_id(contents: str) -> int:
    return Post.objects.get(contents=contents).pk


# --- a member's own writes, on their next request -----------------------------------------


def test_my_post_like_unlike_and_delete_show_on_my_next_request(caches, author, reader):
    client = logged_in(reader)
    warm(client, *pages_of(author))

    client.post("/posts/new/", {"contents": "my own post"})
    as_another_process()
    for path in ("/home/", "/posts/", f"/members/{reader.pk}/posts/", "/api/me/home"):
        assert "my own post" in client.get(path).text, path

    liked = post_id("the author first post")
    client.post(f"/posts/{liked}/like/")
    as_another_process()
    for path in ("/home/", "/posts/", f"/members/{author.pk}/posts/"):
        page = client.get(path).text
        assert f'action="/posts/{liked}/unlike/"' in page, path
        assert 'aria-pressed="true"' in page
    assert '"likes": 1' in client.get("/api/me/home").text

    client.post(f"/posts/{liked}/unlike/")
    as_another_process()
    assert f'action="/posts/{liked}/like/"' in client.get("/posts/").text
    assert '"likes": 1' not in client.get("/api/me/home").text

    mine = post_id("my own post")
    client.post(f"/posts/{mine}/delete/")
    as_another_process()
    for path in ("/home/", "/posts/", f"/members/{reader.pk}/posts/", "/api/me/home"):
        assert "my own post" not in client.get(path).text, path


def test_my_follow_unfollow_and_nickname_show_on_my_next_request(caches, author, reader):
    other = a_member(nickname="other")
    publish(other, "the other post")
    client = logged_in(reader)
    warm(client, *pages_of(author), f"/members/{other.pk}/posts/")

    client.post(f"/members/{other.pk}/follow/")
    as_another_process()
    page = client.get(f"/members/{other.pk}/posts/").text
    assert "Unfollow" in page
    assert "1 follower" in page
    assert "the other post" in client.get("/home/").text

    client.post(f"/members/{other.pk}/unfollow/")
    as_another_process()
    assert "Unfollow" not in client.get(f"/members/{other.pk}/posts/").text
    assert "the other post" not in client.get("/home/").text

    client.post("/me/nickname/", {"nickname": "renamed"})
    as_another_process()
    for path in ("/me/", "/home/", "/posts/"):
        assert ">renamed</a>" in client.get(path).text, path  # the header
    assert "<td>renamed</td>" in client.get("/me/").text  # the history


def test_my_writes_show_after_the_writers_window_too(caches, author, reader, settings):
    # Once the window in which the writer reads from the database is over, the
    # caches themselves hold the write.
    settings.MEMO_SECONDS = 0
    client = logged_in(reader)
    warm(client, *pages_of(author))
    client.post("/me/nickname/", {"nickname": "later"})
    client.post("/posts/new/", {"contents": "written before the window ended"})
    cache.delete(f"wrote:{reader.pk}")  # the window is over

    assert ">later</a>" in client.get("/posts/").text
    assert "written before the window ended" in client.get("/posts/").text
    assert "<td>later</td>" in client.get("/me/").text


# --- what others wrote --------------------------------------------------------------------


def test_a_followed_authors_post_is_on_the_next_home_request(caches, author, reader):
    client = logged_in(reader)
    warm(client, "/home/", "/api/me/home")

    publish(author, "fanned out")  # no broker: the fan-out runs right after the commit

    assert "fanned out" in client.get("/home/").text
    assert "fanned out" in client.get("/api/me/home").text
    assert "fanned out" in client.get("/posts/").text


def test_someone_elses_like_shows_within_memo_seconds(caches, author, reader, settings):
    settings.MEMO_SECONDS = 0.3
    client = logged_in(reader)
    warm(client, "/posts/", "/api/me/home")
    fan = a_member()

    likes.like_add(member_id=fan.pk, post_id=post_id("the author first post"))
    as_another_process()
    time.sleep(0.35)  # the bound

    assert '<span class="likes">1</span>' in client.get("/posts/").text
    assert '"likes": 1' in client.get("/api/me/home").text


def test_a_deleted_post_is_gone_everywhere_on_the_next_request(caches, author, reader):
    doomed = publish(author, "soon deleted")
    client = logged_in(reader)
    warm(client, *pages_of(author))
    visitor = Client()
    for path in ("/posts/", f"/members/{author.pk}/posts/", f"/api/posts/{doomed.pk}"):
        warm(visitor, path)

    logged_in(author).post(f"/posts/{doomed.pk}/delete/")

    for path in ("/home/", "/posts/", f"/members/{author.pk}/posts/", "/api/me/home"):
        assert "soon deleted" not in client.get(path).text, path
    assert "soon deleted" not in visitor.get("/posts/").text
    assert "soon deleted" not in visitor.get(f"/members/{author.pk}/posts/").text
    assert visitor.get(f"/api/posts/{doomed.pk}").status_code == 404


def test_another_members_nickname_shows_on_the_next_request_of_visitors(caches, author):
    visitor = Client()
    warm(visitor, "/posts/", f"/members/{author.pk}/posts/")
    members.member_change_nickname(member_id=author.pk, nickname="new name")
    assert "new name" in visitor.get("/posts/").text
    assert "new name" in visitor.get(f"/members/{author.pk}/posts/").text


# --- nothing of one member reaches another ------------------------------------------------


def test_nothing_of_one_member_reaches_another_or_a_visitor(caches, author):
    first = a_member(nickname="first")
    second = a_member(nickname="second")
    liked = post_id("the author first post")
    one, two = logged_in(first), logged_in(second)
    one.post(f"/posts/{liked}/like/")
    one.post(f"/members/{author.pk}/follow/")
    one_token = one.cookies["csrftoken"].value
    for path in pages_of(author):
        one.get(path)
        one.get(path)

    for path in ("/home/", "/posts/", f"/members/{author.pk}/posts/", "/me/"):
        page = two.get(path).text
        assert ">second</a>" in page
        assert ">first</a>" not in page, path
        assert 'aria-pressed="true"' not in page, path
        assert one_token not in page
    assert "Unfollow" not in two.get(f"/members/{author.pk}/posts/").text
    for path in ("/posts/", f"/members/{author.pk}/posts/"):
        page = Client().get(path).text
        assert ">first</a>" not in page
        assert "Log out" not in page
        assert "csrfmiddlewaretoken" not in page


# --- the cost of a warm page ----------------------------------------------------------------


def test_a_warm_home_page_makes_no_query_and_a_render_two(
    caches, author, reader, django_assert_num_queries
):
    client = logged_in(reader)
    warm(client, "/home/", "/api/me/home", "/home/?size=20")

    # Kept: the feed's stamp (every writer of its rows bumps it) says the page still
    # shows the same posts; the session and the member come from their copies.
    for path in ("/home/", "/api/me/home"):
        with django_assert_num_queries(0):
            response = client.get(path)
        assert response["X-Page-Cache"] == "hit"
        assert "the author first post" in response.text
    # Rendered (a page with a query is never kept): the feed's page and which of
    # its posts the member likes; the posts, nicknames and counts from the memos.
    with django_assert_num_queries(2):
        response = client.get("/home/?size=20")
    assert "X-Page-Cache" not in response
    assert "the author first post" in response.text


def test_a_kept_home_following_a_pulled_author_makes_one_query(
    caches, author, reader, django_assert_num_queries
):
    """Which pulled authors the member follows (their posts are read from the authors'
    own, whose stamps join the feed's): one read of the follows index."""
    feeds.pull_authors_replace(member_ids={author.pk})
    client = logged_in(reader)
    warm(client, "/home/")
    with django_assert_num_queries(1):
        response = client.get("/home/")
    assert response["X-Page-Cache"] == "hit"


@pytest.fixture(autouse=True)
def _fanout_after_commit(monkeypatch):
    """Each fan-out runs in-process right after its commit, as without a broker. (On
    MariaDB, after the tests with a real worker, Celery's own eager path refuses the
    jobs in this process: they would wait for the sweep.)"""
    from django.db import transaction

    from core import outbox

    def enqueue(row):
        task, pk = outbox._task(type(row).task), row.pk
        transaction.on_commit(lambda: task.run(pk))

    monkeypatch.setattr(outbox, "outbox_enqueue", enqueue)
