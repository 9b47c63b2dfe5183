from datetime import date

import pytest

from core.pagination import Cursor, CursorForm, keyset_page
from posts.models import Post
from posts.tests.mothers import a_member, a_post, posts_on_days

pytestmark = pytest.mark.django_db


class TestCursorForm:
    @pytest.mark.parametrize(
        ("params", "cursor"),
        [
            ({}, Cursor(None, None, 20)),
            ({"before": "10"}, Cursor(10, None, 20)),
            ({"after": "0", "size": "100"}, Cursor(None, 0, 100)),
            ({"size": "1"}, Cursor(None, None, 1)),
        ],
    )
    def test_valid(self, params, cursor):
        form = CursorForm(params)
        assert form.is_valid(), form.errors
        assert form.cursor() == cursor

    @pytest.mark.parametrize(
        ("params", "field"),
        [
            ({"before": "abc"}, "before"),
            ({"before": "0"}, "before"),
            ({"after": "-1"}, "after"),
            ({"size": "0"}, "size"),
            ({"size": "101"}, "size"),
            ({"size": "ten"}, "size"),
            ({"before": "5", "after": "1"}, "__all__"),
            ({"before": str(2**63)}, "before"),
            ({"after": "99999999999999999999"}, "after"),
        ],
    )
    def test_invalid(self, params, field):
        form = CursorForm(params)
        assert not form.is_valid()
        assert field in form.errors


def all_posts():
    return Post.objects.all()


def walk_older(size: int) -> tuple[list[int], list]:
    """Follow "older" links from the first page; returns the ids seen and the pages."""
    seen, pages, cursor = [], [], Cursor(size=size)
    while True:
        page = keyset_page(all_posts(), cursor)
        pages.append(page)
        seen += [p.pk for p in page.items]
        if page.older is None:
            return seen, pages
        cursor = page.older


def walk_newer(cursor: Cursor) -> list[int]:
    seen = []
    while True:
        page = keyset_page(all_posts(), cursor)
        seen += [p.pk for p in page.items]
        if page.newer is None:
            return seen
        cursor = page.newer


@pytest.fixture
def posts():
    return posts_on_days(a_member(), {date(2025, 1, d): d for d in range(1, 7)})  # 21 posts


@pytest.mark.parametrize("size", [1, 2, 3, 4, 7, 20, 21, 100])
def test_walking_older_then_newer_visits_every_post_once(posts, size):
    ids = sorted((p.pk for p in posts), reverse=True)

    seen, pages = walk_older(size)

    assert seen == ids
    assert pages[0].newer is None
    assert pages[-1].older is None
    assert all(len(page.items) == size for page in pages[:-1])
    # Back from the last page: every post once more, newest first page by page.
    back = walk_newer(pages[-1].newer) if pages[-1].newer else []
    assert sorted(back + [p.pk for p in pages[-1].items]) == sorted(ids)
    assert len(back) == len(set(back))


def test_posts_written_during_a_walk(posts):
    ids = sorted((p.pk for p in posts), reverse=True)
    member = posts[0].member
    seen, cursor, written = [], Cursor(size=4), []
    while True:
        page = keyset_page(all_posts(), cursor)
        seen += [p.pk for p in page.items]
        written.append(a_post(member).pk)  # arrives between page loads
        if page.older is None:
            break
        cursor = page.older
    # Walking older is not disturbed: no gap, no duplicate, nothing new.
    assert seen == ids
    # Walking back reaches every post, the new ones too, each once.
    back = walk_newer(Cursor(after=0, size=4))
    assert sorted(back) == sorted(ids + written)
    assert len(back) == len(set(back))


def test_empty():
    page = keyset_page(all_posts(), Cursor())
    assert (page.items, page.older, page.newer) == ([], None, None)


def test_before_beyond_the_newest_links_back_to_the_newest(posts):
    newest = max(p.pk for p in posts)
    page = keyset_page(all_posts(), Cursor(before=newest + 100, size=5))
    assert page.items[0].pk == newest
    assert page.newer is None


def test_after_beyond_the_newest_is_empty_with_a_way_back(posts):
    newest = max(p.pk for p in posts)
    page = keyset_page(all_posts(), Cursor(after=newest, size=5))
    assert page.items == []
    assert page.newer is None
    assert keyset_page(all_posts(), page.older).items[0].pk == newest


def test_one_page_costs_the_same_queries_at_any_depth(posts, django_assert_num_queries):
    ids = sorted((p.pk for p in posts), reverse=True)
    with django_assert_num_queries(1):
        keyset_page(all_posts(), Cursor(size=5))
    with django_assert_num_queries(2):
        keyset_page(all_posts(), Cursor(before=ids[15], size=5))
    with django_assert_num_queries(2):
        keyset_page(all_posts(), Cursor(after=ids[15], size=5))
