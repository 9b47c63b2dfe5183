"""The public face of the follow domain.

A follow and both members' counters change in one transaction; counters move by
atomic upserts (``core.db.upsert_add``), so concurrent follows are all counted.
Lists are keyset pages over the follow id, read through an index that leads
with the member: page 10 000 of a celebrity's followers costs what page 1 costs.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q
from django.utils.translation import gettext as _

from core.db import Prepared, retry_on_lock_conflict, upsert_add
from core.pagination import Cursor, Page, keyset_page
from core.web.pagecache import pages_changed
from follows.models import FOLLOWERS_INDEX, FOLLOWING_INDEX, Follow, FollowCount
from members import services as members
from members.services import MemberNotFound


@dataclass(frozen=True)
class FollowCounts:
    followers: int
    following: int


def _count_deltas(pairs: Counter[tuple[int, int]]) -> list[tuple[int, int, int]]:
    """``{(follower, followee): delta}`` -> ``(member_id, followers, following)`` rows."""
    per_member: dict[int, list[int]] = {}
    for (follower, followee), delta in pairs.items():
        per_member.setdefault(followee, [0, 0])[0] += delta
        per_member.setdefault(follower, [0, 0])[1] += delta
    return [(member_id, f, g) for member_id, (f, g) in per_member.items()]


def _add_counts(pairs: Counter[tuple[int, int]]) -> None:
    upsert_add(
        FollowCount,
        keys=["member_id"],
        counters=["followers", "following"],
        rows=_count_deltas(pairs),
    )


@retry_on_lock_conflict
@transaction.atomic
def follow_add(*, follower_id: int, followee_id: int) -> bool:
    """``follower`` follows ``followee``; False when they already did (nothing changes).

    Raises MemberNotFound for no such followee, ValidationError for oneself.
    """
    if follower_id == followee_id:
        raise ValidationError(_("You cannot follow yourself."), code="self")
    if members.member_public(member_id=followee_id) is None:
        raise MemberNotFound(followee_id)
    try:
        with transaction.atomic():
            Follow.objects.create(follower_id=follower_id, followee_id=followee_id)
    except IntegrityError:
        if is_following(follower_id=follower_id, followee_id=followee_id):
            return False
        if members.member_public(member_id=followee_id) is None:
            raise MemberNotFound(followee_id) from None  # deleted since the check above
        raise  # a follower that does not exist
    _add_counts(Counter({(follower_id, followee_id): 1}))
    pages_changed(members=[follower_id, followee_id])
    return True


@retry_on_lock_conflict
@transaction.atomic
def follow_remove(*, follower_id: int, followee_id: int) -> bool:
    """Stop following; False when there was nothing to remove. Raises MemberNotFound."""
    if members.member_public(member_id=followee_id) is None:
        raise MemberNotFound(followee_id)
    deleted, _ = Follow.objects.filter(follower_id=follower_id, followee_id=followee_id).delete()
    if not deleted:
        return False
    _add_counts(Counter({(follower_id, followee_id): -1}))
    pages_changed(members=[follower_id, followee_id])
    return True


@retry_on_lock_conflict
@transaction.atomic
def follows_remove_of_member(*, member_id: int, limit: int) -> int:
    """Remove up to ``limit`` follows from or to the member (a member's removal); how many.

    Every other member's counter moves with their follow, in the same transaction;
    the rows are locked first, so an unfollow at the same moment is counted once.
    """
    mine = Follow.objects.filter(Q(follower_id=member_id) | Q(followee_id=member_id))
    rows = list(
        mine.select_for_update()
        .order_by("pk")
        .values_list("pk", "follower_id", "followee_id")[:limit]
    )
    if not rows:
        return 0
    Follow.objects.filter(pk__in=[pk for pk, _, _ in rows]).delete()
    # Each other member is in at most one follow each way: one UPDATE per direction.
    followees = sorted(followee for _, follower, followee in rows if follower == member_id)
    followers = sorted(follower for _, follower, followee in rows if followee == member_id)
    FollowCount.objects.filter(member_id__in=followees).update(followers=F("followers") - 1)
    FollowCount.objects.filter(member_id__in=followers).update(following=F("following") - 1)
    FollowCount.objects.filter(member_id=member_id).update(
        followers=F("followers") - len(followers), following=F("following") - len(followees)
    )
    pages_changed(members=[member_id, *followees, *followers])
    return len(rows)


_FOLLOWING = Prepared(
    lambda follower_id, followee_id: Follow.objects.filter(
        follower_id=follower_id, followee_id=followee_id
    ).values_list("id")[:1]
)


def is_following(*, follower_id: int, followee_id: int) -> bool:
    """A point read of the unique index, compiled once (every member's page asks it)."""
    return bool(_FOLLOWING(follower_id, followee_id))


def following_among(*, follower_id: int, member_ids: AbstractSet[int]) -> set[int]:
    """Which of ``member_ids`` the follower follows: point reads of the unique index."""
    if not member_ids:
        return set()
    return set(
        Follow.objects.filter(follower_id=follower_id, followee_id__in=member_ids).values_list(
            "followee_id", flat=True
        )
    )


def follow_counts(*, member_id: int) -> FollowCounts:
    row = FollowCount.objects.filter(pk=member_id).values_list("followers", "following").first()
    return FollowCounts(*row) if row else FollowCounts(0, 0)


def members_with_followers_over(*, limit: int) -> set[int]:
    """Members followed by more than ``limit``: a range read of the followers index."""
    return set(FollowCount.objects.filter(followers__gt=limit).values_list("member_id", flat=True))


def followers_page(*, member_id: int, cursor: Cursor) -> Page[Follow]:
    """Who follows the member, most recent follow first."""
    follows = Follow.objects.filter(followee_id=member_id).only("id", "follower_id")
    return keyset_page(follows, cursor, index=FOLLOWERS_INDEX)


def following_page(*, member_id: int, cursor: Cursor) -> Page[Follow]:
    """Whom the member follows, most recent follow first."""
    follows = Follow.objects.filter(follower_id=member_id).only("id", "followee_id")
    return keyset_page(follows, cursor, index=FOLLOWING_INDEX)


def followers_after(*, member_id: int, after: int, limit: int) -> list[tuple[int, int]]:
    """``(follow id, follower id)`` with follow id > ``after``, ascending: fan-out's chunks."""
    return list(
        Follow.objects.filter(followee_id=member_id, pk__gt=after)
        .order_by("pk")
        .values_list("pk", "follower_id")[:limit]
    )


# --- locked reads: a feed row is written only while the follow it comes from is held --


def followers_after_locked(*, member_id: int, after: int, limit: int) -> list[tuple[int, int]]:
    """``followers_after``, locking the follows it returns until the transaction ends.

    An unfollow deletes its follow first, so it waits for the caller's commit and
    then removes what the caller wrote from that follow; a follow deleted before
    is not returned. Call inside a transaction. (SQLite has no row locks: there
    every write transaction holds the one write lock from its start.)
    """
    return list(
        Follow.objects.select_for_update()
        .filter(followee_id=member_id, pk__gt=after)
        .order_by("pk")
        .values_list("pk", "follower_id")[:limit]
    )


def followees_locked(*, follower_id: int, among: AbstractSet[int] | None = None) -> set[int]:
    """Whom the member follows (of ``among``, or all), locked as ``followers_after_locked``."""
    follows = Follow.objects.select_for_update().filter(follower_id=follower_id)
    if among is not None:
        if not among:
            return set()
        follows = follows.filter(followee_id__in=among)
    return set(follows.order_by("pk").values_list("followee_id", flat=True))


def followee_ids(*, member_id: int) -> list[int]:
    """Everyone the member follows (for rebuilding a feed, not for reading one)."""
    return list(Follow.objects.filter(follower_id=member_id).values_list("followee_id", flat=True))


# --- derived data: check and rebuild ------------------------------------------


def _actual_counts() -> dict[int, FollowCounts]:
    followers = dict(
        Follow.objects.order_by()
        .values_list("followee_id")
        .annotate(n=Count("id"))
        .values_list("followee_id", "n")
    )
    following = dict(
        Follow.objects.order_by()
        .values_list("follower_id")
        .annotate(n=Count("id"))
        .values_list("follower_id", "n")
    )
    return {
        m: FollowCounts(followers.get(m, 0), following.get(m, 0))
        for m in followers.keys() | following.keys()
    }


def follow_counts_differences() -> list[tuple[int, FollowCounts, FollowCounts]]:
    """``(member_id, stored, actual)`` wherever the counters and the follows disagree."""
    actual = _actual_counts()
    stored = {
        m: FollowCounts(f, g)
        for m, f, g in FollowCount.objects.values_list("member_id", "followers", "following")
    }
    zero = FollowCounts(0, 0)
    return sorted(
        (m, stored.get(m, zero), actual.get(m, zero))
        for m in stored.keys() | actual.keys()
        if stored.get(m, zero) != actual.get(m, zero)
    )


@transaction.atomic
def follow_counts_rebuild() -> int:
    """Recompute every member's counters from the follows; returns the rows written."""
    FollowCount.objects.all().delete()
    rows = [
        FollowCount(member_id=m, followers=c.followers, following=c.following)
        for m, c in _actual_counts().items()
    ]
    FollowCount.objects.bulk_create(rows, batch_size=5_000)
    return len(rows)
