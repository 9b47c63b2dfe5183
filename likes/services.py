"""The public face of the like domain.

Liking inserts the like row (the unique ``(post, member)`` index makes a second
like a no-op) and adds one to the member's slot of the post's count, in one
transaction. Counts for a page of posts are one grouped read of the slots.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.db.models import Count, F, Sum

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


@retry_on_lock_conflict
@transaction.atomic
def like_add(*, member_id: int, post_id: int) -> bool:
    """The member likes the post; False if they already did. Raises PostNotFound."""
    if not posts.post_exists(post_id=post_id):
        raise PostNotFound(post_id)
    try:
        with transaction.atomic():
            Like.objects.create(member_id=member_id, post_id=post_id)
    except IntegrityError:
        if Like.objects.filter(member_id=member_id, post_id=post_id).exists():
            return False
        raise
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
