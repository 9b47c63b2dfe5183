"""What only MySQL/MariaDB can show for feeds and follows: the plans of their reads."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.pagination import Cursor
from feeds import services as feeds
from feeds.models import FeedEntry
from follows import services as follows
from follows.models import Follow
from posts.tests.mothers import a_member, posts_on_days

pytestmark = pytest.mark.mysql


def explain_sql(sql: str) -> dict:
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}")
        columns = [c[0].lower() for c in cursor.description]
        [row] = cursor.fetchall()
        return dict(zip(columns, row, strict=True))


@pytest.fixture
def busy_feeds(transactional_db):
    """Twenty members' feeds of 300 posts each, and 3 000 follows: enough for the optimiser."""
    from datetime import date, timedelta

    members = [a_member() for _ in range(20)]
    authors = members[:5]
    made = []
    for author in authors:
        made += posts_on_days(author, {date(2024, 1, 1) + timedelta(days=i): 1 for i in range(60)})
    for owner in members:
        FeedEntry.objects.bulk_create(
            [FeedEntry(owner=owner, post=p, author_id=p.member_id) for p in made]
        )
    Follow.objects.bulk_create(
        [Follow(follower=f, followee=e) for f in members for e in members if f != e]
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE TABLE feeds_feedentry, follows_follow")
        cursor.fetchall()
    return members


@pytest.mark.parametrize("depth", ["first", "deep", "newer"])
def test_a_home_page_is_a_primary_key_range_read_without_filesort(busy_feeds, depth):
    owner = busy_feeds[7]
    ids = feeds.feed_post_ids(owner_id=owner.pk)
    cursor = {
        "first": Cursor(size=20),
        "deep": Cursor(before=ids[250], size=20),
        "newer": Cursor(after=ids[250], size=20),
    }[depth]

    with CaptureQueriesContext(connection) as ctx:
        feeds.feed_page(owner_id=owner.pk, cursor=cursor)

    for query in ctx.captured_queries:
        plan = explain_sql(query["sql"])
        assert plan["key"] == "PRIMARY", (query["sql"], plan)
        assert plan["type"] in {"range", "ref"}, (query["sql"], plan)
        assert "filesort" not in (plan["extra"] or "").lower(), plan


@pytest.mark.parametrize("followers", [True, False])
def test_follow_lists_are_index_range_reads_at_depth(busy_feeds, followers):
    member = busy_feeds[3]
    page = follows.followers_page if followers else follows.following_page
    first = page(member_id=member.pk, cursor=Cursor(size=5))

    with CaptureQueriesContext(connection) as ctx:
        page(member_id=member.pk, cursor=first.older)

    for query in ctx.captured_queries:
        plan = explain_sql(query["sql"])
        expected = "follow_followee_id" if followers else "follow_follower_id"
        assert plan["key"] == expected, (query["sql"], plan)
        assert plan["type"] == "range", plan
        assert "filesort" not in (plan["extra"] or "").lower(), plan


def test_fan_out_reads_followers_by_the_followee_index(busy_feeds):
    star = busy_feeds[0]
    with CaptureQueriesContext(connection) as ctx:
        follows.followers_after(member_id=star.pk, after=0, limit=1000)
    plan = explain_sql(ctx.captured_queries[0]["sql"])
    assert plan["key"] == "follow_followee_id", plan
    assert "filesort" not in (plan["extra"] or "").lower(), plan
