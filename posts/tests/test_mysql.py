"""What only MySQL/MariaDB can show: the plans, real concurrency, stored dates."""

import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection, connections
from django.db.models import Count
from django.test.utils import CaptureQueriesContext

from core.pagination import Cursor
from posts import services
from posts.models import Post
from posts.tests.mothers import a_member, posts_on_days

pytestmark = pytest.mark.mysql


def explain_sql(sql: str, params=None) -> list[dict]:
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}", params)
        columns = [c[0].lower() for c in cursor.description]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def explain(queryset) -> list[dict]:
    return explain_sql(*queryset.query.sql_with_params())


@pytest.fixture
def busy_members(transactional_db):
    """Enough rows over several members that the optimiser takes indexes seriously.

    ANALYZE TABLE commits implicitly, so these tests flush the tables afterwards
    (transactional_db) instead of rolling back.
    """
    members = [a_member() for _ in range(12)]
    start = date(2024, 1, 1)
    for member in members:
        posts_on_days(member, {start + timedelta(days=i): 1 + i % 3 for i in range(200)})
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE TABLE posts_post, posts_dailypostcount")
        cursor.fetchall()
    return members


@pytest.mark.parametrize("depth", ["first", "deep", "newer"])
def test_member_timeline_is_an_index_range_read_without_filesort(busy_members, depth):
    member = busy_members[1]
    ids = list(Post.objects.filter(member=member).order_by("-id").values_list("id", flat=True))
    cursor = {
        "first": Cursor(size=20),
        "deep": Cursor(before=ids[300], size=20),
        "newer": Cursor(after=ids[300], size=20),
    }[depth]

    with CaptureQueriesContext(connection) as ctx:
        services.timeline_page(member_id=member.pk, cursor=cursor)

    # The page, and the EXISTS probe for a newer or older page.
    assert len(ctx.captured_queries) == (1 if depth == "first" else 2)
    for query in ctx.captured_queries:
        [plan] = explain_sql(query["sql"])
        assert plan["key"] == "post_member_id", (query["sql"], plan)
        assert "filesort" not in (plan["extra"] or "").lower(), plan
        # "ref" would read the member's entries from the newest down to the
        # cursor: at depth 100 000, 100 000 of them. "range" seeks to the cursor.
        expected = {"ref", "range"} if depth == "first" else {"range"}
        assert plan["type"] in expected, (query["sql"], plan)


def test_calendar_query_is_an_index_range_read_without_filesort(busy_members):
    member = busy_members[2]

    with CaptureQueriesContext(connection) as ctx:
        services.daily_post_counts(
            member_id=member.pk, start=date(2024, 2, 1), end=date(2024, 3, 31)
        )

    [plan] = explain_sql(ctx.captured_queries[0]["sql"])
    assert plan["key"] == "daily_post_count_member_date", plan
    assert plan["type"] == "range", plan
    assert "filesort" not in (plan["extra"] or "").lower(), plan


def test_group_by_over_the_composite_index_reads_the_index_only(busy_members):
    member = busy_members[0]
    query = (
        Post.objects.filter(
            member_id=member.pk, created_date__range=(date(1900, 1, 1), date(2025, 3, 1))
        )
        .values("created_date")
        .annotate(n=Count("id"))
        .order_by("created_date")
    )

    [plan] = explain(query)

    assert plan["key"] == "post_member_created_date", plan
    assert "using index" in (plan["extra"] or "").lower(), plan
    assert "filesort" not in (plan["extra"] or "").lower(), plan


@pytest.mark.parametrize("depth", ["first", "deep", "newer"])
def test_a_days_posts_are_a_range_read_of_the_member_day_index(busy_members, depth):
    """The calendar's day page: WHERE member_id = ? AND created_date = ? AND id < ?
    ORDER BY id DESC, read from (member_id, created_date), whose entries end with the id."""
    member, day = busy_members[3], date(2024, 3, 1)
    posts_on_days(member, {day: 400})
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE TABLE posts_post")
        cursor.fetchall()
    ids = list(
        Post.objects.filter(member=member, created_date=day)
        .order_by("-id")
        .values_list("id", flat=True)
    )
    cursor = {
        "first": Cursor(size=20),
        "deep": Cursor(before=ids[300], size=20),
        "newer": Cursor(after=ids[300], size=20),
    }[depth]

    with CaptureQueriesContext(connection) as ctx:
        page = services.day_posts_page(member_id=member.pk, day=day, cursor=cursor)

    assert len(page.items) == 20
    assert len(ctx.captured_queries) == (1 if depth == "first" else 2)
    for query in ctx.captured_queries:
        [plan] = explain_sql(query["sql"])
        assert plan["key"] == "post_member_created_date", (query["sql"], plan)
        assert "filesort" not in (plan["extra"] or "").lower(), plan
        # "range": a seek to the cursor within the day, not a read from its newest entry.
        expected = {"ref", "range"} if depth == "first" else {"range"}
        assert plan["type"] in expected, (query["sql"], plan)


@pytest.mark.django_db(transaction=True)
def test_eight_writers_for_one_member_leave_counts_equal_to_group_by():
    member = a_member()
    writers, per_writer = 8, 50
    days = [date(2025, 3, 1) + timedelta(days=d) for d in range(3)]
    barrier = threading.Barrier(writers)
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            barrier.wait()
            for i in range(per_writer):
                day = days[(n + i) % len(days)]
                at = datetime(day.year, day.month, day.day, 3, tzinfo=UTC)
                services.post_write(member_id=member.pk, contents=f"w{n} p{i}", at=at)
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert Post.objects.filter(member=member).count() == writers * per_writer
    assert services.daily_counts_differences(member_id=member.pk) == []


@pytest.mark.django_db
def test_a_post_at_23_30_utc_is_stored_on_the_next_day_in_seoul():
    member = a_member()
    post = services.post_write(
        member_id=member.pk, contents="late", at=datetime(2025, 3, 1, 23, 30, tzinfo=UTC)
    )
    stored = Post.objects.values_list("created_at", "created_date").get(pk=post.pk)
    assert stored == (datetime(2025, 3, 1, 23, 30, tzinfo=UTC), date(2025, 3, 2))
    assert services.daily_post_counts(
        member_id=member.pk, start=date(2025, 3, 2), end=date(2025, 3, 2)
    ) == [services.DayCount(date(2025, 3, 2), 1)]
