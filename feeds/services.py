"""The public face of the feed domain: feed rows and the fan-out outbox.

These functions touch only the feed tables. Composing them with posts and
follows (who gets a post, what a follow brings in) is the use cases' job
(``feeds.usecases``).
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models.functions import Coalesce
from django.utils import timezone

from config.pagination import Cursor, Page, keyset_page
from feeds.models import FanoutJob, FeedEntry

# One fan-out chunk: followers read and feed rows written per statement and transaction.
CHUNK_SIZE = 5_000
# Each fan-out trims about one in TRIM_ONE_IN of the feeds it wrote to, so a feed
# holds FEED_MAX_ENTRIES plus a small, bounded-on-average overflow.
TRIM_ONE_IN = 50
# A job not finished this long after it was last sent is sent again by the sweeper.
RESEND_AFTER = timedelta(seconds=30)
KEEP_DONE_JOBS = timedelta(days=1)


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
    # foreign key fails); SQLite checks foreign keys at commit, see usecases.
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


def feed_page(*, owner_id: int, cursor: Cursor) -> Page[int]:
    """A page of post ids from a member's feed, newest first: a primary-key range read."""
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


def job_create(
    *, kind: str, author_id: int, post_id: int | None = None, member_id: int | None = None
) -> FanoutJob:
    """Record a fan-out to do; call inside the transaction that makes it necessary.

    No ``full_clean()``: the use cases pass ids they have just written, and the
    table's own constraints (kind and fields, foreign key) still hold.
    """
    return FanoutJob.objects.create(
        kind=kind, author_id=author_id, post_id=post_id, member_id=member_id
    )


def job_get(*, job_id: int) -> FanoutJob | None:
    return FanoutJob.objects.filter(pk=job_id, done_at__isnull=True).first()


def job_advance(*, job_id: int, cursor: int) -> bool:
    """Record progress; False when the job is gone (its post was deleted)."""
    return FanoutJob.objects.filter(pk=job_id).update(cursor=cursor) == 1


def job_done(*, job_id: int) -> None:
    FanoutJob.objects.filter(pk=job_id).update(done_at=timezone.now())


def jobs_to_resend(*, limit: int = 1_000) -> list[int]:
    """Unfinished jobs last sent (or made) more than RESEND_AFTER ago; marks them sent."""
    now = timezone.now()
    stale = (
        FanoutJob.objects.filter(done_at__isnull=True)
        .annotate(last=Coalesce("sent_at", "created_at"))
        .filter(last__lt=now - RESEND_AFTER)
        .order_by("id")
        .values_list("id", flat=True)[:limit]
    )
    ids = list(stale)
    if ids:
        FanoutJob.objects.filter(pk__in=ids).update(sent_at=now)
    return ids


def job_pending_for_post(*, post_id: int) -> bool:
    return FanoutJob.objects.filter(post_id=post_id, done_at__isnull=True).exists()


def jobs_pending() -> list[int]:
    return list(FanoutJob.objects.filter(done_at__isnull=True).values_list("id", flat=True))


def jobs_forget_done() -> int:
    """Delete jobs finished more than KEEP_DONE_JOBS ago."""
    cutoff = timezone.now() - KEEP_DONE_JOBS
    deleted, _ = FanoutJob.objects.filter(done_at__lt=cutoff).delete()
    return deleted
