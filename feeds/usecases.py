"""The use cases that change more than one domain: writing, deleting, following.

Each is one transaction over the domains' services, plus a fan-out job in the
outbox (``FanoutJob``) when feeds must follow. The job is sent to the queue only
after the commit (``transaction.on_commit``); a send that fails is logged and left
to the sweeper. The work itself is idempotent (feed rows are unique per owner and
post), so a job that runs twice, or resumes after a crash, changes nothing more.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction

from config.cache import local_forget, local_get_or_set
from config.db import retry_on_lock_conflict
from feeds import services as feeds
from feeds.models import FanoutJob
from follows import services as follows
from posts import services as posts

if TYPE_CHECKING:
    from posts.models import Post

logger = logging.getLogger(__name__)

PULL_AUTHORS_KEY = "feeds:pull-authors"
PULL_AUTHORS_SECONDS = 60


# --- sending jobs ------------------------------------------------------------------


def send(job_id: int) -> None:
    """Queue a job now. A broker that is down leaves it to the sweeper, quietly."""
    from feeds.tasks import fanout  # the task module imports this one

    try:
        fanout.delay(job_id)
    except Exception:
        logger.warning("fan-out job %s not sent (broker unavailable?); the sweeper will", job_id)


def _send_after_commit(job: FanoutJob) -> None:
    transaction.on_commit(lambda: send(job.pk))


# --- writing and deleting posts ------------------------------------------------------


@retry_on_lock_conflict
@transaction.atomic
def post_publish(*, member_id: int, contents: str) -> Post:
    """Write a post, put it in its author's own feed, and record its fan-out.

    The request does a constant amount of work whatever the author's audience;
    the followers' feeds are written by the worker.
    """
    post = posts.post_write(member_id=member_id, contents=contents)
    feeds.feed_add(owner_ids=[member_id], post_id=post.pk, author_id=member_id)
    _send_after_commit(
        feeds.job_create(kind=FanoutJob.Kind.POST, author_id=member_id, post_id=post.pk)
    )
    return post


def post_remove(*, member_id: int, post_id: int) -> None:
    """The author deletes a post: it leaves the timelines, every feed, its likes and its day.

    Raises posts.services.PostNotFound or NotTheAuthor. Feed entries, likes and a
    pending fan-out job go with the post through their foreign keys.
    """
    posts.post_delete_by_author(member_id=member_id, post_id=post_id)


# --- following -----------------------------------------------------------------------


@retry_on_lock_conflict
@transaction.atomic
def follow(*, follower_id: int, followee_id: int) -> bool:
    """Follow, and have the worker bring the followee's recent posts into the feed."""
    created = follows.follow_add(follower_id=follower_id, followee_id=followee_id)
    if created:
        _send_after_commit(
            feeds.job_create(
                kind=FanoutJob.Kind.FOLLOW, author_id=followee_id, member_id=follower_id
            )
        )
    return created


@retry_on_lock_conflict
@transaction.atomic
def unfollow(*, follower_id: int, followee_id: int) -> bool:
    """Unfollow and take the followee's posts out of the feed, in one transaction."""
    removed = follows.follow_remove(follower_id=follower_id, followee_id=followee_id)
    if removed:
        feeds.feed_remove_author(owner_id=follower_id, author_id=followee_id)
    return removed


# --- pull: authors with huge audiences ---------------------------------------------------


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


def _is_pull_author(member_id: int) -> bool:
    # Fan-out asks the counter itself, not the cache: it decides once per post.
    return follows.follow_counts(member_id=member_id).followers > settings.FEED_FANOUT_LIMIT


# --- running jobs (the worker) -------------------------------------------------------------


def fanout_run(*, job_id: int, chunk_size: int = feeds.CHUNK_SIZE) -> None:
    """Do one fan-out job, resuming from its cursor. Safe to run twice or concurrently."""
    job = feeds.job_get(job_id=job_id)
    if job is None:
        return  # done already, or its post was deleted
    if job.kind == FanoutJob.Kind.FOLLOW:
        _backfill(job)
    elif not _is_pull_author(job.author_id):
        _push(job, chunk_size)
    feeds.job_done(job_id=job.pk)


def _push(job: FanoutJob, chunk_size: int) -> None:
    rng = random.Random(job.pk)
    cursor = job.cursor
    while chunk := follows.followers_after(member_id=job.author_id, after=cursor, limit=chunk_size):
        owners = [follower_id for _, follower_id in chunk]
        cursor = chunk[-1][0]
        try:
            with transaction.atomic():
                feeds.feed_add(owner_ids=owners, post_id=job.post_id, author_id=job.author_id)
                if not feeds.job_advance(job_id=job.pk, cursor=cursor):
                    return  # the post was deleted: so was its job
        except IntegrityError:
            # SQLite checks the post's foreign key at commit: the post is gone.
            if posts.post_exists(post_id=job.post_id):
                raise
            return
        feeds.feed_trim_some(owner_ids=owners, rng=rng)


def _backfill(job: FanoutJob) -> None:
    follower_id, followee_id = job.member_id, job.author_id
    if not follows.is_following(follower_id=follower_id, followee_id=followee_id):
        return  # unfollowed before the job ran
    if _is_pull_author(followee_id):
        return  # merged at read time
    post_ids = posts.latest_post_ids(member_id=followee_id, limit=settings.FEED_MAX_ENTRIES)
    with transaction.atomic():
        feeds.feed_add_posts(owner_id=follower_id, post_ids=post_ids, author_id=followee_id)
    feeds.feed_trim(owner_id=follower_id)


def sweep() -> int:
    """Send again every job that should have finished by now; returns how many."""
    ids = feeds.jobs_to_resend()
    for job_id in ids:
        send(job_id)
    feeds.jobs_forget_done()
    return len(ids)


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
    stored = feeds.feed_post_ids(owner_id=member_id)
    stored_capped = set(stored[: settings.FEED_MAX_ENTRIES])
    return expected - set(stored), stored_capped - expected


def feed_rebuild(*, member_id: int) -> None:
    feeds.feed_replace(owner_id=member_id, entries=feed_expected(member_id=member_id))


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
    held = feeds.feeds_holding(post_id=post_id)
    follower_ids: list[int] = []
    after = 0
    while chunk := follows.followers_after(member_id=author, after=after, limit=feeds.CHUNK_SIZE):
        follower_ids += [follower for _, follower in chunk]
        after = chunk[-1][0]
    pulled = _is_pull_author(author)
    missing, trimmed = [], 0
    for owner in [] if pulled else follower_ids:
        if owner in held:
            continue
        oldest = feeds.feed_oldest_post_id(owner_id=owner)
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
        pending=feeds.job_pending_for_post(post_id=post_id),
    )
