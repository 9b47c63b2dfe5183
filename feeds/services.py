"""The public face of the feed domain: feed rows, the fan-out outbox, the pull authors,
and what a feed should hold (the checks and the rebuild).

The feed domain stands above posts and follows: it reads them through their
services to know what a feed should hold. The fan-out itself (what the worker
runs) is ``feeds.fanout``; the use cases that write a post or a follow and record
its fan-out are the top floor's (``social.usecases``).
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction

from core import outbox
from core.cache import local_forget, local_get_or_set
from core.db import Prepared
from core.pagination import Cursor, Page, keyset_page
from feeds.models import FanoutJob, FeedEntry
from follows import services as follows
from posts import services as posts

# One fan-out chunk: followers read and feed rows written per statement and transaction.
CHUNK_SIZE = 5_000
# Each fan-out trims about one in TRIM_ONE_IN of the feeds it wrote to, so a feed
# holds FEED_MAX_ENTRIES plus a small, bounded-on-average overflow.
TRIM_ONE_IN = 50


# --- feed rows -------------------------------------------------------------------


def feed_add(*, owner_ids: Iterable[int], post_id: int, author_id: int) -> None:
    """Put one post into many feeds. Rows that exist are skipped: safe to run twice."""
    _insert([(owner_id, post_id, author_id) for owner_id in owner_ids])


def feed_add_posts(*, owner_id: int, post_ids: Iterable[int], author_id: int) -> None:
    """Put many posts of one author into one feed (a follow's backfill)."""
    _insert([(owner_id, post_id, author_id) for post_id in post_ids])


def _insert(rows: list[tuple[int, int, int]], *, batch: int = 1_000) -> None:
    """Multi-row ``INSERT``s of up to ``batch`` rows (not ``executemany``: one statement,
    one round trip, and the same on every driver and under the debug toolbar)."""
    q = connection.ops.quote_name
    # MySQL's IGNORE also skips a row whose post was deleted meanwhile (its
    # foreign key fails); SQLite checks foreign keys at commit, see feeds.fanout.
    ignore = "INSERT IGNORE" if connection.vendor == "mysql" else "INSERT OR IGNORE"
    head = (
        f"{ignore} INTO {q(FeedEntry._meta.db_table)} "
        f"({q('owner_id')}, {q('post_id')}, {q('author_id')}) VALUES "
    )
    with connection.cursor() as cursor:
        for start in range(0, len(rows), batch):
            chunk = rows[start : start + batch]
            cursor.execute(
                head + ", ".join(["(%s, %s, %s)"] * len(chunk)),
                [value for row in chunk for value in row],
            )


def feed_remove_author(*, owner_id: int, author_id: int) -> int:
    """Take an author's posts out of one feed (unfollow); reads that feed only."""
    deleted, _ = FeedEntry.objects.filter(owner_id=owner_id, author_id=author_id).delete()
    return deleted


def feed_trim(*, owner_id: int, keep: int | None = None) -> int:
    """Keep the newest ``keep`` (FEED_MAX_ENTRIES) entries of a feed; returns rows removed."""
    keep = settings.FEED_MAX_ENTRIES if keep is None else keep
    newest = FeedEntry.objects.filter(owner_id=owner_id).order_by("-post_id")
    cutoff = newest.values_list("post_id", flat=True)[keep : keep + 1].first()
    if cutoff is None:
        return 0
    deleted, _ = FeedEntry.objects.filter(owner_id=owner_id, post_id__lte=cutoff).delete()
    return deleted


def feed_trim_some(*, owner_ids: Iterable[int], rng: random.Random | None = None) -> int:
    """Trim a random one in TRIM_ONE_IN of the feeds (fan-out calls this per chunk)."""
    rng = rng or random.Random()
    return sum(feed_trim(owner_id=o) for o in owner_ids if rng.randrange(TRIM_ONE_IN) == 0)


# The newest entries of a feed: every home request reads them (core.db.Prepared).
_FEED_NEWEST = Prepared(
    lambda owner_id, *, limit: (
        FeedEntry.objects.filter(owner_id=owner_id)
        .order_by("-post_id")
        .values_list("post_id")[:limit]
    )
)


def feed_page(*, owner_id: int, cursor: Cursor) -> Page[int]:
    """A page of post ids from a member's feed, newest first: a primary-key range read."""
    if cursor.before is None and cursor.after is None:
        # The first page, as keyset_page gives it, by a read compiled once.
        ids = [post_id for (post_id,) in _FEED_NEWEST(owner_id, limit=cursor.size + 1)]
        shown = ids[: cursor.size]
        older = Cursor(before=shown[-1], size=cursor.size) if len(ids) > cursor.size else None
        return Page(shown, cursor.size, older, None)
    entries = FeedEntry.objects.filter(owner_id=owner_id).only("post_id")
    page = keyset_page(entries, cursor, key="post_id")
    return Page([e.post_id for e in page.items], page.size, page.older, page.newer)


def feed_post_ids(*, owner_id: int) -> list[int]:
    """Every post id in a member's feed, newest first (checks and rebuilds)."""
    entries = FeedEntry.objects.filter(owner_id=owner_id).order_by("-post_id")
    return list(entries.values_list("post_id", flat=True))


def feed_owner_ids() -> set[int]:
    return set(FeedEntry.objects.order_by().values_list("owner_id", flat=True).distinct())


def feed_replace(*, owner_id: int, entries: list[tuple[int, int]]) -> None:
    """Make a feed exactly ``(post_id, author_id)`` entries (the rebuild)."""
    with transaction.atomic():
        FeedEntry.objects.filter(owner_id=owner_id).delete()
        _insert([(owner_id, post_id, author_id) for post_id, author_id in entries])


def feeds_holding(*, post_id: int) -> dict[int, int]:
    """``{owner_id: entries}`` for the feeds that hold the post (read by its post index)."""
    rows = FeedEntry.objects.filter(post_id=post_id).values_list("owner_id", flat=True)
    held: dict[int, int] = {}
    for owner_id in rows:
        held[owner_id] = held.get(owner_id, 0) + 1
    return held


def feed_oldest_post_id(*, owner_id: int) -> int | None:
    """The oldest post id kept in a full feed (None while the feed is below its cap)."""
    newest = FeedEntry.objects.filter(owner_id=owner_id).order_by("-post_id")
    keep = settings.FEED_MAX_ENTRIES
    return newest.values_list("post_id", flat=True)[keep - 1 : keep].first()


# --- the outbox ------------------------------------------------------------------


def job_post(*, author_id: int, post_id: int) -> FanoutJob:
    """Record a new post's fan-out into its author's followers' feeds (see ``_job``)."""
    return _job(kind=FanoutJob.Kind.POST, author_id=author_id, post_id=post_id)


def job_follow(*, follower_id: int, followee_id: int) -> FanoutJob:
    """Record a new follow's backfill of the followee's recent posts (see ``_job``)."""
    return _job(kind=FanoutJob.Kind.FOLLOW, author_id=followee_id, member_id=follower_id)


def _job(**fields) -> FanoutJob:
    """A fan-out to do, queued after the commit; call inside the transaction that needs it.

    No ``full_clean()``: the use cases pass ids they have just written, and the
    table's own constraints (kind and fields, foreign key) still hold.
    """
    job = FanoutJob.objects.create(**fields)
    outbox.outbox_enqueue(job)
    return job


def job_get(*, job_id: int) -> FanoutJob | None:
    return FanoutJob.objects.filter(pk=job_id, done_at__isnull=True).first()


def job_advance(*, job_id: int, cursor: int) -> bool:
    """Record progress; False when the job is gone (its post was deleted)."""
    return FanoutJob.objects.filter(pk=job_id).update(cursor=cursor) == 1


def job_done(*, job_id: int) -> None:
    outbox.outbox_done(FanoutJob, job_id)


def job_pending_for_post(*, post_id: int) -> bool:
    return FanoutJob.objects.filter(post_id=post_id, done_at__isnull=True).exists()


# --- pull: authors with huge audiences ---------------------------------------------------

PULL_AUTHORS_KEY = "feeds:pull-authors"
PULL_AUTHORS_SECONDS = 60


def pull_authors() -> frozenset[int]:
    """Members whose posts are read at read time (followers > FEED_FANOUT_LIMIT), cached.

    Read on every home page: in the shared cache for PULL_AUTHORS_SECONDS, and in
    each process for LOCAL_CACHE_SECONDS. Without the cache, counted every time.
    """
    return local_get_or_set(PULL_AUTHORS_KEY, _shared_pull_authors)


def _shared_pull_authors() -> frozenset[int]:
    return frozenset(
        cache.get_or_set(
            PULL_AUTHORS_KEY,
            lambda: follows.members_with_followers_over(limit=settings.FEED_FANOUT_LIMIT),
            PULL_AUTHORS_SECONDS,
        )
    )


def pull_authors_forget() -> None:
    """Count the pull authors afresh on the next call (after FEED_FANOUT_LIMIT changes)."""
    cache.delete(PULL_AUTHORS_KEY)
    local_forget(PULL_AUTHORS_KEY)


def is_pull_author(member_id: int) -> bool:
    """Asks the counter itself, not the cache: fan-out decides once per post."""
    return follows.follow_counts(member_id=member_id).followers > settings.FEED_FANOUT_LIMIT


# --- derived data: what a feed should hold ---------------------------------------------------


def feed_expected(*, member_id: int) -> list[tuple[int, int]]:
    """``(post_id, author_id)`` a member's feed should hold, newest first, at most the cap.

    Their own posts and those of the pushed authors they follow; pulled authors'
    posts are merged at read time instead.
    """
    keep = settings.FEED_MAX_ENTRIES
    heavy = follows.members_with_followers_over(limit=settings.FEED_FANOUT_LIMIT)
    authors = [a for a in follows.followee_ids(member_id=member_id) if a not in heavy]
    entries = [
        (post_id, author)
        for author in [member_id, *authors]
        for post_id in posts.latest_post_ids(member_id=author, limit=keep)
    ]
    return sorted(entries, reverse=True)[:keep]


def feed_differences(*, member_id: int) -> tuple[set[int], set[int]]:
    """``(missing, extra)`` post ids of a member's feed against what it should hold.

    Entries beyond the cap that a trim has not reached yet are not counted as extra.
    """
    expected = {post_id for post_id, _ in feed_expected(member_id=member_id)}
    stored = feed_post_ids(owner_id=member_id)
    stored_capped = set(stored[: settings.FEED_MAX_ENTRIES])
    return expected - set(stored), stored_capped - expected


def feed_rebuild(*, member_id: int) -> None:
    feed_replace(owner_id=member_id, entries=feed_expected(member_id=member_id))


@dataclass(frozen=True)
class PostReach:
    """Where a post is, against where it should be (``feeds_check``)."""

    post_id: int
    author_id: int
    pulled: bool  # the author is read at read time: no feed rows expected but the author's
    followers: int
    held: int  # followers' feeds that hold it
    missing: list[int]  # followers whose feeds should hold it and do not
    twice: list[int]  # feeds that hold it more than once
    trimmed: int  # followers whose full feeds are past it: not expected
    pending: bool  # its fan-out job has not finished


def post_reach(*, post_id: int) -> PostReach | None:
    found = posts.post_get(post_id=post_id)
    if found is None:
        return None
    author = found.member_id
    held = feeds_holding(post_id=post_id)
    follower_ids: list[int] = []
    after = 0
    while chunk := follows.followers_after(member_id=author, after=after, limit=CHUNK_SIZE):
        follower_ids += [follower for _, follower in chunk]
        after = chunk[-1][0]
    pulled = is_pull_author(author)
    missing, trimmed = [], 0
    for owner in [] if pulled else follower_ids:
        if owner in held:
            continue
        oldest = feed_oldest_post_id(owner_id=owner)
        if oldest is not None and post_id < oldest:
            trimmed += 1
        else:
            missing.append(owner)
    if author not in held:
        missing.append(author)
    return PostReach(
        post_id=post_id,
        author_id=author,
        pulled=pulled,
        followers=len(follower_ids),
        held=sum(1 for owner in held if owner != author),
        missing=missing,
        twice=[owner for owner, n in held.items() if n > 1],
        trimmed=trimmed,
        pending=job_pending_for_post(post_id=post_id),
    )
