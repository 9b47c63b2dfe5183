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
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone

from core import outbox
from core.cache import local_forget, local_get_or_set
from core.db import Prepared, retry_on_lock_conflict
from core.pagination import Cursor, Page, keyset_page
from core.web.pagecache import pages_changed
from feeds.models import FanoutJob, FeedEntry, FeedFloor, PullAuthor
from follows import services as follows
from posts import services as posts

# One fan-out chunk: followers read and feed rows written per statement and transaction.
CHUNK_SIZE = 5_000
# Each fan-out trims about one in TRIM_ONE_IN of the feeds it wrote to, so a feed
# holds FEED_MAX_ENTRIES plus a small, bounded-on-average overflow.
TRIM_ONE_IN = 50


# --- feed rows -------------------------------------------------------------------
#
# Every write of feed rows below bumps the stamps of the feeds it wrote
# (``pages_changed(feeds=...)``, after its commit): a member's kept home is
# good while its feed's stamp is unchanged (core/web/pagecache.py), so a writer
# that forgot would leave a home stale for its lifetime. A post's deletion takes
# its rows by foreign key: ``feeds_of_posts_deleting`` bumps their feeds.


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
    pages_changed(feeds={owner for owner, _, _ in rows})


def feeds_add_posts(*, owner_ids: Iterable[int], post_ids: list[int], author_id: int) -> None:
    """Put many posts of one author into many feeds (an author pushed back)."""
    _insert([(owner, post_id, author_id) for owner in owner_ids for post_id in post_ids])


def feed_remove_author(*, owner_id: int, author_id: int) -> int:
    """Take an author's posts out of one feed (unfollow); reads that feed only."""
    deleted, _ = FeedEntry.objects.filter(owner_id=owner_id, author_id=author_id).delete()
    if deleted:
        pages_changed(feeds=[owner_id])
    return deleted


def feed_unfollowed(*, owner_id: int, author_id: int) -> int:
    """Take the unfollowed author's posts out of the feed; call in the unfollow's transaction.

    A feed that had reached its cap was trimmed to make room for those posts, so
    the posts it dropped belong in it again: a refill job brings them back
    (``feed_repair``) after the commit. Returns the rows removed.
    """
    removed = feed_remove_author(owner_id=owner_id, author_id=author_id)
    if removed and feed_size(owner_id=owner_id) + removed >= settings.FEED_MAX_ENTRIES:
        _job(kind=FanoutJob.Kind.REFILL, author_id=author_id, member_id=owner_id)
    return removed


def feed_size(*, owner_id: int) -> int:
    """Entries in one feed (a range read of at most ~FEED_MAX_ENTRIES primary-key entries)."""
    return FeedEntry.objects.filter(owner_id=owner_id).count()


def feed_remove_posts(*, post_ids: Iterable[int], limit: int) -> int:
    """Take up to ``limit`` feed rows of these posts out of every feed; how many went.

    For deleting many posts in bounded steps (a member's removal): called until it
    returns 0, the posts' own DELETE then finds no feed rows left to cascade to.
    """
    rows = list(
        FeedEntry.objects.filter(post_id__in=set(post_ids)).values_list("owner_id", "post_id")[
            :limit
        ]
    )
    if rows:
        FeedEntry.objects.filter(pk__in=rows).delete()
        pages_changed(feeds={owner for owner, _ in rows})
    return len(rows)


def feed_clear(*, owner_id: int, limit: int) -> int:
    """Take up to ``limit`` rows out of one member's feed, oldest first; how many went."""
    oldest = FeedEntry.objects.filter(owner_id=owner_id).order_by("post_id")
    last = oldest.values_list("post_id", flat=True)[limit - 1 : limit].first()
    remaining = FeedEntry.objects.filter(owner_id=owner_id)
    if last is not None:
        remaining = remaining.filter(post_id__lte=last)
    deleted, _ = remaining.delete()
    if deleted:
        pages_changed(feeds=[owner_id])
    return deleted


@transaction.atomic
def feed_trim(*, owner_id: int, keep: int | None = None) -> int:
    """Keep the newest ``keep`` (FEED_MAX_ENTRIES) entries of a feed; returns rows removed.

    Raises the feed's floor to the newest post it took out: what is below may be gone.
    """
    keep = settings.FEED_MAX_ENTRIES if keep is None else keep
    _floor_locked(owner_id)  # one trim or repair of a feed at a time
    newest = FeedEntry.objects.filter(owner_id=owner_id).order_by("-post_id")
    cutoff = newest.values_list("post_id", flat=True)[keep : keep + 1].first()
    if cutoff is None:
        return 0
    deleted, _ = FeedEntry.objects.filter(owner_id=owner_id, post_id__lte=cutoff).delete()
    FeedFloor.objects.filter(owner_id=owner_id, post_id__lt=cutoff).update(post_id=cutoff)
    if deleted:
        pages_changed(feeds=[owner_id])
    return deleted


def _floor_locked(owner_id: int) -> int:
    """The feed's floor (0: never trimmed), its row locked until the transaction ends."""
    FeedFloor.objects.bulk_create([FeedFloor(owner_id=owner_id, post_id=0)], ignore_conflicts=True)
    return FeedFloor.objects.select_for_update().get(owner_id=owner_id).post_id


def feed_floors(*, owner_ids: Iterable[int]) -> dict[int, int]:
    """``{owner_id: floor}``: each feed holds every post it should newer than its floor."""
    owner_ids = list(set(owner_ids))
    found: dict[int, int] = {}
    for start in range(0, len(owner_ids), CHUNK_SIZE):
        rows = FeedFloor.objects.filter(owner_id__in=owner_ids[start : start + CHUNK_SIZE])
        found.update(rows.values_list("owner_id", "post_id"))
    return {owner_id: found.get(owner_id, 0) for owner_id in owner_ids}


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


def feed_entries(*, owner_id: int) -> list[tuple[int, int]]:
    """Every ``(post_id, author_id)`` of a member's feed, newest first (checks and repairs)."""
    entries = FeedEntry.objects.filter(owner_id=owner_id).order_by("-post_id")
    return list(entries.values_list("post_id", "author_id"))


def feeds_of_posts_deleting(*, post_ids: list[int], **kwargs) -> None:
    """Bump the feeds that hold posts about to be deleted (``posts.services.posts_deleting``,
    sent with the posts locked: no fan-out can add a row of theirs until they are gone).

    Read by the posts' index; their rows then go with them by foreign key.
    """
    owners = FeedEntry.objects.filter(post_id__in=post_ids).values_list("owner_id", flat=True)
    pages_changed(feeds=set(owners))


def feeds_holding(*, post_id: int) -> dict[int, int]:
    """``{owner_id: entries}`` for the feeds that hold the post (read by its post index)."""
    rows = FeedEntry.objects.filter(post_id=post_id).values_list("owner_id", flat=True)
    held: dict[int, int] = {}
    for owner_id in rows:
        held[owner_id] = held.get(owner_id, 0) + 1
    return held


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
# Seconds added to the readers' staleness before an author's posts stop being pushed:
# a reader that filled its cache while the row's transaction was still committing.
PULL_SETTLE_MARGIN = 5


def pull_authors() -> frozenset[int]:
    """The authors every home page merges in at read time (``PullAuthor`` rows), cached.

    Read on every home page: in the shared cache for PULL_AUTHORS_SECONDS, and in
    each process for LOCAL_CACHE_SECONDS. Without the cache, read every time. A
    stale copy is harmless: an author's posts are pushed until every copy has them
    (``pull_settle``) and pushed back before their row goes.
    """
    return local_get_or_set(PULL_AUTHORS_KEY, _shared_pull_authors)


def _shared_pull_authors() -> frozenset[int]:
    return frozenset(
        cache.get_or_set(
            PULL_AUTHORS_KEY,
            pull_authors_now,
            PULL_AUTHORS_SECONDS,
        )
    )


def pull_authors_forget() -> None:
    """Read the pull authors afresh on the next call in this process (and the shared copy)."""
    cache.delete(PULL_AUTHORS_KEY)
    local_forget(PULL_AUTHORS_KEY)


def pull_settle() -> timedelta:
    """How old a reader's copy of the pull authors can be: the shared cache's expiry,
    each process's own copy, a replica it was read from (at most REPLICA_MAX_LAG
    behind, else the primary is read), and a margin."""
    lag = settings.REPLICA_MAX_LAG if settings.REPLICA_URL else 0
    seconds = PULL_AUTHORS_SECONDS + settings.LOCAL_CACHE_SECONDS + lag + PULL_SETTLE_MARGIN
    return timedelta(seconds=seconds)


def pulled_for(*, author_id: int, at: datetime) -> bool:
    """Whether a post the author wrote at ``at`` is left to the readers (not pushed).

    Only once the author's row has settled (every reader pulls them) and while
    they are not being pushed back. Read from the row itself, never a cache.
    """
    row = (
        PullAuthor.objects.filter(member_id=author_id)
        .values_list("pulled_from", "pushback_job_id")
        .first()
    )
    return row is not None and row[1] is None and at >= row[0]


def is_pull_author(member_id: int) -> bool:
    """Whether the author's posts written now are pulled (``pulled_for`` now)."""
    return pulled_for(author_id=member_id, at=timezone.now())


def pull_leave_at(limit: int) -> int:
    """An author pulled goes back to push at or below this many followers: 90 % of the
    limit, so one member following and unfollowing at the limit cannot make the
    worker push an author's posts back again and again."""
    return limit - limit // 10


def pull_authors_reconcile(*, now: datetime | None = None) -> dict[str, int]:
    """Bring ``PullAuthor`` in line with the follower counts; the outbox sweep runs it.

    An author over FEED_FANOUT_LIMIT gets a row that settles after ``pull_settle``
    (their posts are pushed until then); one at or below ``pull_leave_at`` gets a
    push-back job (readers keep pulling them until it has run, then the row goes)
    or, if their row never settled, loses it at once (nothing of theirs was pulled).
    Returns how many rows each change touched.
    """
    now = now or timezone.now()
    limit = settings.FEED_FANOUT_LIMIT
    over = follows.members_with_followers_over(limit=limit)
    staying = follows.members_with_followers_over(limit=pull_leave_at(limit))
    rows = {
        member_id: (pulled_from, job_id)
        for member_id, pulled_from, job_id in PullAuthor.objects.values_list(
            "member_id", "pulled_from", "pushback_job_id"
        )
    }
    done = {"entered": 0, "leaving": 0, "left": 0, "back": 0}
    entering = sorted(over - rows.keys())
    PullAuthor.objects.bulk_create(
        [PullAuthor(member_id=m, pulled_from=now + pull_settle()) for m in entering],
        ignore_conflicts=True,  # a sweep running beside this one
    )
    done["entered"] = len(entering)
    for member_id, (_, job_id) in sorted(rows.items()):
        if job_id is None and member_id not in staying:
            unsettled = PullAuthor.objects.filter(member_id=member_id, pulled_from__gt=now)
            if unsettled.delete()[0]:
                done["left"] += 1
            elif _pushback_start(member_id):
                done["leaving"] += 1
        elif job_id is not None and member_id in over:
            # Back over the limit while being pushed back: pulled again, settling anew
            # (the push-back job finishes harmlessly and leaves the row alone).
            done["back"] += PullAuthor.objects.filter(
                member_id=member_id, pushback_job_id=job_id
            ).update(pushback_job_id=None, pulled_from=now + pull_settle())
    if any(done.values()):
        pull_authors_forget()
    return done


@transaction.atomic
def _pushback_start(member_id: int) -> bool:
    row = (
        PullAuthor.objects.select_for_update()
        .filter(member_id=member_id, pushback_job_id__isnull=True)
        .first()
    )
    if row is None:
        return False
    row.pushback_job_id = _job(kind=FanoutJob.Kind.PUSHBACK, author_id=member_id).pk
    row.save(update_fields=["pushback_job_id"])
    return True


def pull_author_pushed_back(*, member_id: int, job_id: int) -> None:
    """The push-back job is done: the author's row goes (unless pulled again meanwhile)."""
    if PullAuthor.objects.filter(member_id=member_id, pushback_job_id=job_id).delete()[0]:
        pull_authors_forget()


# --- derived data: what a feed should hold ---------------------------------------------------


@dataclass(frozen=True)
class FeedDifferences:
    """What is wrong with one feed against its sources (empty sets: nothing)."""

    missing: set[int]  # posts it should hold and does not
    extra: set[int]  # posts of an author the owner does not follow (or a wrong author)
    twice: set[int]  # posts it holds more than once

    def __bool__(self) -> bool:
        return bool(self.missing or self.extra or self.twice)


def _required(*, member_id: int, followees: set[int]) -> list[tuple[int, int]]:
    """``(post_id, author_id)`` the feed must hold if room allows, newest first: the
    member's own posts and those of the followees who are not pulled, each author's
    newest FEED_MAX_ENTRIES."""
    keep = settings.FEED_MAX_ENTRIES
    pulled = set(PullAuthor.objects.values_list("member_id", flat=True))
    authors = [member_id, *sorted(a for a in followees if a not in pulled and a != member_id)]
    entries = [
        (post_id, author)
        for author in authors
        for post_id in posts.latest_post_ids(member_id=author, limit=keep)
    ]
    return sorted(entries, reverse=True)


def _compare(
    *, member_id: int, followees: set[int], stored: list[tuple[int, int]], floor: int
) -> FeedDifferences:
    """The feed's rows against its sources.

    A row is *extra* when its author is neither the owner nor someone they follow
    (a feed row that outlived its follow), or is not the post's author. Rows of a
    followed author who is pulled are allowed, not required. A post is *missing*
    when it is required and newer than the feed's floor: what is older may have
    been trimmed away, and a feed that lost rows to a deleted post or an unfollow
    is not short of anything it should show.
    """
    seen: dict[int, int] = {}
    for post_id, _ in stored:
        seen[post_id] = seen.get(post_id, 0) + 1
    twice = {post_id for post_id, n in seen.items() if n > 1}
    authors = {p.pk: p.member_id for p in posts.posts_by_ids(post_ids=seen).values()}
    allowed = followees | {member_id}
    extra = {
        post_id
        for post_id, author in stored
        if author not in allowed or authors.get(post_id, author) != author
    }
    kept = set(seen) - extra
    required = _required(member_id=member_id, followees=followees)
    missing = {post_id for post_id, _ in required if post_id > floor and post_id not in kept}
    return FeedDifferences(missing=missing, extra=extra, twice=twice)


def feed_differences(*, member_id: int) -> FeedDifferences:
    """What is wrong with a member's feed (``rebuild_feeds --check``); reads only."""
    stored = feed_entries(owner_id=member_id)
    followees = set(follows.followee_ids(member_id=member_id))
    [floor] = feed_floors(owner_ids=[member_id]).values()
    return _compare(member_id=member_id, followees=followees, stored=stored, floor=floor)


@retry_on_lock_conflict
@transaction.atomic
def feed_repair(*, member_id: int) -> FeedDifferences:
    """Make a feed right, and full again: add what is missing, remove what is extra or
    doubled, then put back the newest posts below its floor that fit under the cap
    (the refill after an unfollow, and ``rebuild_feeds``); returns what was wrong.

    The feed's floor is locked first, then the feed read, then the member's follows
    locked: a follow that comes after the read brings its own backfill (its rows were
    not read, so they stay), and an unfollow waits for this commit, then removes what
    this wrote.
    """
    floor = _floor_locked(member_id)
    stored = feed_entries(owner_id=member_id)
    followees = follows.followees_locked(follower_id=member_id)
    wrong = _compare(member_id=member_id, followees=followees, stored=stored, floor=floor)
    gone = wrong.extra | wrong.twice
    if gone:
        FeedEntry.objects.filter(owner_id=member_id, post_id__in=gone).delete()
        pages_changed(feeds=[member_id])
    required = _required(member_id=member_id, followees=followees)
    author_of = dict(required)
    held = ({post_id for post_id, _ in stored} - wrong.extra) | wrong.missing
    below = [post_id for post_id, _ in required if post_id <= floor and post_id not in held]
    room = max(0, settings.FEED_MAX_ENTRIES - len(held))
    back = sorted((wrong.missing | wrong.twice) - wrong.extra) + below[:room]
    _insert([(member_id, post_id, author_of[post_id]) for post_id in sorted(back)])
    # Whole above the newest required post still left out (none left out: whole).
    new_floor = below[room] if len(below) > room else 0
    FeedFloor.objects.filter(owner_id=member_id).update(post_id=new_floor)
    return wrong


def feed_rebuild(*, member_id: int) -> None:
    """Make a feed exactly what it should hold: repaired, then trimmed to its cap."""
    feed_repair(member_id=member_id)
    feed_trim(owner_id=member_id)


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
    strangers: list[int]  # feeds that hold it and should not: not the author's, nor a follower's
    trimmed: int  # followers whose full feeds are past it: not expected
    pending: bool  # its fan-out job has not finished

    @property
    def wrong(self) -> bool:
        return bool(self.missing or self.twice or self.strangers)


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
    pulled = author in pull_authors_now()
    missing, trimmed = [], 0
    lacking = [] if pulled else [owner for owner in follower_ids if owner not in held]
    for owner, floor in sorted(feed_floors(owner_ids=lacking).items()):
        if post_id <= floor:
            trimmed += 1  # the feed was trimmed past it
        else:
            missing.append(owner)
    if author not in held:
        missing.append(author)
    audience = set(follower_ids) | {author}
    return PostReach(
        post_id=post_id,
        author_id=author,
        pulled=pulled,
        followers=len(follower_ids),
        held=sum(1 for owner in held if owner != author and owner in audience),
        missing=missing,
        twice=[owner for owner, n in held.items() if n > 1],
        strangers=sorted(owner for owner in held if owner not in audience),
        trimmed=trimmed,
        pending=job_pending_for_post(post_id=post_id),
    )


def pull_authors_replace(*, member_ids: set[int]) -> None:
    """Make exactly these authors pulled, settled at once, nothing pushed back: for the
    labs, which set a limit for a measurement and rebuild the feeds they read."""
    with transaction.atomic():
        PullAuthor.objects.exclude(member_id__in=member_ids).delete()
        PullAuthor.objects.bulk_create(
            [PullAuthor(member_id=m, pulled_from=timezone.now()) for m in member_ids],
            ignore_conflicts=True,
        )
    pull_authors_forget()


def pull_authors_now() -> set[int]:
    """The pull authors read from their table, not the cache (the checks)."""
    return set(PullAuthor.objects.values_list("member_id", flat=True))
