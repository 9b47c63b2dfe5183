"""The public face of the like domain.

Liking inserts the like row (the unique ``(post, member)`` index makes a second
like a no-op) and adds one to the member's slot of the post's count, in one
transaction. Counts for a page of posts are one grouped read of the slots.

A like is two statements and a commit: ``INSERT IGNORE`` of the row (its
foreign key is the check that the post exists, so a post deleted a moment
before is a ``PostNotFound``, never a 500) and the upsert of one slot. The
strategy was chosen by ``like_lab``'s numbers: see docs/feeds.md.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from django.db import IntegrityError, connection, transaction
from django.db.models import Count, F, Sum
from django.utils import timezone

from core.db import Prepared, retry_on_lock_conflict, upsert_add
from core.web.pagecache import pages_changed
from likes.models import LIKE_COUNT_SLOTS, Like, LikeCount
from posts import services as posts
from posts.services import PostNotFound


def _add_to_count(*, post_id: int, member_id: int, delta: int) -> None:
    upsert_add(
        LikeCount,
        keys=["post_id", "slot"],
        counters=["count"],
        rows=[(post_id, member_id % LIKE_COUNT_SLOTS, delta)],
    )


MISSING_PARENT = 1452  # MySQL/MariaDB: a foreign key's row is not there


def _insert_like(*, member_id: int, post_id: int) -> bool:
    """Insert the like row unless the member has one; True if it went in.

    One statement, no savepoint: a duplicate is ignored by the database. On
    MySQL/MariaDB the foreign key checks the post on the spot (``IGNORE`` makes
    a missing one a warning, read here); SQLite checks foreign keys only at
    commit (Django declares them deferred), so there the post is asked for
    first.
    """
    q = connection.ops.quote_name
    columns = ", ".join(q(c) for c in ("member_id", "post_id", "created_at"))
    values = [member_id, post_id, connection.ops.adapt_datetimefield_value(timezone.now())]
    table = q(Like._meta.db_table)
    with connection.cursor() as cursor:
        if connection.vendor == "mysql":
            cursor.execute(f"INSERT IGNORE INTO {table} ({columns}) VALUES (%s, %s, %s)", values)  # noqa: S608
            if cursor.rowcount:
                return True
            cursor.execute("SHOW WARNINGS")
            if any(code == MISSING_PARENT for _level, code, _text in cursor.fetchall()):
                raise PostNotFound(post_id)
            return False
        if not posts.post_exists(post_id=post_id):
            raise PostNotFound(post_id)
        cursor.execute(
            f"INSERT INTO {table} ({columns}) VALUES (%s, %s, %s) "  # noqa: S608
            f"ON CONFLICT ({q('post_id')}, {q('member_id')}) DO NOTHING",
            values,
        )
        return bool(cursor.rowcount)


@retry_on_lock_conflict
def like_add(*, member_id: int, post_id: int) -> bool:
    """The member likes the post; False if they already did. Raises PostNotFound."""
    try:
        return _like_add(member_id=member_id, post_id=post_id)
    except IntegrityError:
        # The post went between two statements (or before SQLite's commit-time
        # check): a like of a deleted post is a 404, not a 500.
        if posts.post_exists(post_id=post_id):
            raise
        raise PostNotFound(post_id) from None


@transaction.atomic
def _like_add(*, member_id: int, post_id: int) -> bool:
    if not _insert_like(member_id=member_id, post_id=post_id):
        return False
    _add_to_count(post_id=post_id, member_id=member_id, delta=1)
    pages_changed(posts=[post_id])
    return True


@retry_on_lock_conflict
@transaction.atomic
def like_remove(*, member_id: int, post_id: int) -> bool:
    """Take the like back; False if there was none. Raises PostNotFound."""
    if not posts.post_exists(post_id=post_id):
        raise PostNotFound(post_id)
    deleted, _ = Like.objects.filter(member_id=member_id, post_id=post_id).delete()
    if not deleted:
        return False
    _add_to_count(post_id=post_id, member_id=member_id, delta=-1)
    pages_changed(posts=[post_id])
    return True


# --- removing many likes at once (a member's removal) -------------------------------


def likes_remove_by_member(*, member_id: int, limit: int) -> int:
    """Take back up to ``limit`` of the member's likes, each post's count with it; how many."""
    return _remove(Like.objects.filter(member_id=member_id), limit)


def likes_remove_of_posts(*, post_ids: Iterable[int], limit: int) -> int:
    """Remove up to ``limit`` likes of these posts (before deleting them), counts with them."""
    return _remove(Like.objects.filter(post_id__in=set(post_ids)), limit)


@retry_on_lock_conflict
@transaction.atomic
def _remove(likes, limit: int) -> int:
    """Delete up to ``limit`` of ``likes`` and take each from its post's slot, in one transaction.

    The rows are locked first, so a like taken back at the same moment
    (``like_remove``) is counted down once, by whichever deletes it.
    """
    rows = list(
        likes.select_for_update().order_by("pk").values_list("pk", "post_id", "member_id")[:limit]
    )
    if not rows:
        return 0
    Like.objects.filter(pk__in=[pk for pk, _, _ in rows]).delete()
    per_slot = Counter((post_id, member_id % LIKE_COUNT_SLOTS) for _, post_id, member_id in rows)
    # One UPDATE per slot and amount, not one per post: a member's likes all sit in
    # one slot, one per post.
    posts_by: dict[tuple[int, int], list[int]] = {}
    for (post_id, slot), n in per_slot.items():
        posts_by.setdefault((slot, n), []).append(post_id)
    for (slot, n), post_ids in sorted(posts_by.items()):
        LikeCount.objects.filter(slot=slot, post_id__in=sorted(post_ids)).update(
            count=F("count") - n
        )
    pages_changed(posts=sorted(per_slot_post for per_slot_post, _ in per_slot))
    return len(rows)


def like_counts(*, post_ids: Iterable[int]) -> dict[int, int]:
    """``{post_id: likes}`` for the posts that have any, in one query."""
    post_ids = set(post_ids)
    if not post_ids:
        return {}
    rows = (
        LikeCount.objects.filter(post_id__in=post_ids)
        .values("post_id")
        .annotate(total=Sum("count"))
        .values_list("post_id", "total")
    )
    return {post_id: total for post_id, total in rows if total}


_LIKED = Prepared(
    lambda member_id, post_ids: Like.objects.filter(
        member_id=member_id, post_id__in=post_ids
    ).values_list("post_id")
)


def liked_among(*, member_id: int, post_ids: Iterable[int]) -> set[int]:
    """Which of the posts the member likes: point reads of the unique index, by a read
    compiled once (every page a member sees asks it)."""
    post_ids = sorted(set(post_ids))
    if not post_ids:
        return set()
    return {post_id for (post_id,) in _LIKED(member_id, post_ids)}


# --- derived data: check and rebuild ------------------------------------------


def _actual_slots() -> dict[tuple[int, int], int]:
    rows = (
        Like.objects.order_by()
        .annotate(slot=F("member_id") % LIKE_COUNT_SLOTS)
        .values_list("post_id", "slot")
        .annotate(n=Count("id"))
        .values_list("post_id", "slot", "n")
    )
    return {(post_id, slot): n for post_id, slot, n in rows.iterator()}


def like_counts_differences() -> list[tuple[int, int, int, int]]:
    """``(post_id, slot, stored, actual)`` wherever the counts and the like rows disagree."""
    actual = _actual_slots()
    stored = {
        (p, s): n
        for p, s, n in LikeCount.objects.values_list("post_id", "slot", "count").iterator()
    }
    return sorted(
        (p, s, stored.get((p, s), 0), actual.get((p, s), 0))
        for p, s in stored.keys() | actual.keys()
        if stored.get((p, s), 0) != actual.get((p, s), 0)
    )


@transaction.atomic
def like_counts_rebuild() -> int:
    """Recompute every post's count slots from the like rows; returns the rows written."""
    LikeCount.objects.all().delete()
    rows = [LikeCount(post_id=p, slot=s, count=n) for (p, s), n in _actual_slots().items()]
    LikeCount.objects.bulk_create(rows, batch_size=5_000)
    return len(rows)
