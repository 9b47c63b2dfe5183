"""The public face of the post domain.

Writing and deleting a post keep ``DailyPostCount`` right in the same
transaction, with an atomic upsert (no read-modify-write in Python), retried
when the database reports a deadlock or a lock wait timeout.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.db.models import Count, QuerySet, Sum
from django.dispatch import Signal
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.db import retry_on_lock_conflict
from core.exceptions import NotFound
from core.pagination import Cursor, Page, keyset_page
from core.web.pagecache import pages_changed
from posts.models import MEMBER_DAY_INDEX, MEMBER_TIMELINE_INDEX, DailyPostCount, Post

# Sent with ``post_ids`` once posts about to be deleted are locked, in the deleting
# transaction: what holds rows of theirs that go by foreign key, and keeps stamps
# of those rows, learns it here (the home feeds, ``feeds.apps``).
posts_deleting = Signal()


@dataclass(frozen=True)
class DayCount:
    date: date
    count: int


@retry_on_lock_conflict
@transaction.atomic
def post_write(*, member_id: int, contents: str, at: datetime | None = None) -> Post:
    """Write a post and count it on its day (in TIME_ZONE), in one transaction."""
    post = Post.write(member_id=member_id, contents=contents, at=at or timezone.now())
    post.full_clean()
    post.save()
    DailyPostCount.objects.add([(member_id, post.created_date, 1)])
    pages_changed(timeline=True, members=[member_id])
    return post


@retry_on_lock_conflict
@transaction.atomic
def posts_delete(*, post_ids: Iterable[int]) -> int:
    """Delete posts and take them off their days' counts; returns how many went."""
    posts = list(
        Post.objects.select_for_update()
        .filter(pk__in=set(post_ids))
        .values_list("id", "member_id", "created_date")
    )
    if not posts:
        return 0
    locked = [post_id for post_id, _, _ in posts]
    posts_deleting.send(sender=Post, post_ids=locked)
    Post.objects.filter(pk__in=locked).delete()
    per_day = Counter((member_id, day) for _, member_id, day in posts)
    DailyPostCount.objects.add((member_id, day, -n) for (member_id, day), n in per_day.items())
    pages_changed(
        timeline=True, members={m for _, m, _ in posts}, posts=[post_id for post_id, _, _ in posts]
    )
    return len(posts)


def post_delete(*, post_id: int) -> bool:
    return posts_delete(post_ids=[post_id]) == 1


class PostNotFound(NotFound):
    message = _("No such post.")


class NotTheAuthor(PermissionDenied):
    """Someone else's post: Django answers it with a 403."""

    def __init__(self, post_id: int):
        super().__init__(_("Only its author can delete a post."))
        self.post_id = post_id


@retry_on_lock_conflict
@transaction.atomic
def post_delete_by_author(*, member_id: int, post_id: int) -> None:
    """The author deletes their post. Raises PostNotFound, or NotTheAuthor for anyone else.

    The post's likes, like counts and home-feed entries go with it (their foreign
    keys cascade, one DELETE per table), and its day is counted down.
    """
    author = (
        Post.objects.select_for_update().filter(pk=post_id).values_list("member_id", flat=True)
    ).first()
    if author is None:
        raise PostNotFound(post_id)
    if author != member_id:
        raise NotTheAuthor(post_id)
    posts_delete(post_ids=[post_id])


TIMELINE_FIELDS = ("id", "member_id", "contents", "created_at")


def post_exists(*, post_id: int) -> bool:
    return Post.objects.filter(pk=post_id).exists()


def post_get(*, post_id: int) -> Post | None:
    return Post.objects.only(*TIMELINE_FIELDS).filter(pk=post_id).first()


def posts_by_ids(*, post_ids: Iterable[int]) -> dict[int, Post]:
    """Posts by primary key in one query (ids that no longer exist are left out)."""
    post_ids = set(post_ids)
    if not post_ids:
        return {}
    return {post.id: post for post in Post.objects.only(*TIMELINE_FIELDS).filter(pk__in=post_ids)}


def latest_post_ids(*, member_id: int, limit: int) -> list[int]:
    """The member's newest ``limit`` post ids, newest first: a range read of its index."""
    posts = Post.objects.filter(member_id=member_id).order_by("-id").values_list("id", flat=True)
    return list(posts[:limit])


def post_count(*, member_id: int) -> int:
    """How many posts the member has: the sum of their days (one row per day, not per post)."""
    total = DailyPostCount.objects.filter(member_id=member_id).aggregate(n=Sum("count"))["n"]
    return total or 0


def daily_post_counts(*, member_id: int, start: date, end: date) -> list[DayCount]:
    """Days in ``start..end`` (inclusive) on which the member wrote, ascending."""
    rows = (
        DailyPostCount.objects.filter(member_id=member_id, date__range=(start, end))
        .order_by("date")
        .values_list("date", "count")
    )
    return [DayCount(day, count) for day, count in rows]


def timeline_page(*, cursor: Cursor, member_id: int | None = None) -> Page[Post]:
    """A page of all posts, or of one member's, newest first."""
    if member_id is None:
        return keyset_page(Post.objects.only(*TIMELINE_FIELDS), cursor)
    posts = Post.objects.filter(member_id=member_id).only(*TIMELINE_FIELDS)
    return keyset_page(posts, cursor, index=MEMBER_TIMELINE_INDEX)


def day_posts_page(*, member_id: int, day: date, cursor: Cursor) -> Page[Post]:
    """A page of the member's posts written on ``day`` (in TIME_ZONE), newest first.

    Read from the (member_id, created_date) index: its entries end with the id,
    so the day's posts lie in id order and a page seeks to its cursor.
    """
    posts = Post.objects.filter(member_id=member_id, created_date=day).only(*TIMELINE_FIELDS)
    return keyset_page(posts, cursor, index=MEMBER_DAY_INDEX)


def _posts_per_day(member_id: int | None) -> QuerySet:
    """``(member_id, created_date, n)`` rows: GROUP BY over the posts."""
    posts = Post.objects.all() if member_id is None else Post.objects.filter(member_id=member_id)
    return posts.order_by().values_list("member_id", "created_date").annotate(n=Count("id"))


@transaction.atomic
def daily_counts_rebuild(*, member_id: int | None = None) -> int:
    """Recompute DailyPostCount from the posts (all members, or one); returns the rows.

    One ``INSERT ... SELECT ... GROUP BY`` in the database: the rows never travel
    to Python.
    """
    grouped = _posts_per_day(member_id)
    counts = DailyPostCount.objects.all()
    if member_id is not None:
        counts = counts.filter(member_id=member_id)
    counts.delete()
    select_sql, params = grouped.query.sql_with_params()
    q = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {q(DailyPostCount._meta.db_table)} "  # noqa: S608
            f"({q('member_id')}, {q('date')}, {q('count')}) {select_sql}",
            params,
        )
        return cursor.rowcount


def daily_counts_differences(*, member_id: int | None = None) -> list[tuple[int, date, int, int]]:
    """``(member_id, date, stored, actual)`` wherever DailyPostCount and the posts disagree."""
    grouped = _posts_per_day(member_id)
    counts = DailyPostCount.objects.all()
    if member_id is not None:
        counts = counts.filter(member_id=member_id)
    actual = {(m, day): n for m, day, n in grouped.iterator()}
    stored = {
        (m, day): n for m, day, n in counts.values_list("member_id", "date", "count").iterator()
    }
    return sorted(
        (m, day, stored.get((m, day), 0), actual.get((m, day), 0))
        for m, day in stored.keys() | actual.keys()
        if stored.get((m, day), 0) != actual.get((m, day), 0)
    )
