"""The fan-out (what ``feeds.tasks.fanout`` runs): a post into its author's followers'
feeds, a followee's recent posts into a new follower's feed, a feed topped up after
an unfollow, an author's posts pushed back into every follower's feed.

A job resumes from its cursor, so a worker that dies mid-job leaves the rest to the
next delivery; feed rows are unique per owner and post, so a job that runs twice,
or two copies of it at once, change nothing more.

No feed row outlives the follow it came from: every row for a follower is written
in a transaction that holds that follow locked (``follows.followers_after_locked``,
``followees_locked``), and an unfollow deletes the follow before the rows, in one
transaction. So an unfollow either comes first (the follow is not read, nothing is
written) or waits for the write to commit and then removes what it wrote.
"""

from __future__ import annotations

import random

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.db import retry_on_lock_conflict
from feeds import services as feeds
from feeds.models import FanoutJob
from follows import services as follows
from posts import services as posts


def fanout_run(*, job_id: int, chunk_size: int = feeds.CHUNK_SIZE) -> None:
    """Do one fan-out job, resuming from its cursor. Safe to run twice or concurrently."""
    job = feeds.job_get(job_id=job_id)
    if job is None:
        return  # done already, or its post was deleted
    if job.kind == FanoutJob.Kind.FOLLOW:
        _backfill(job)
    elif job.kind == FanoutJob.Kind.REFILL:
        feeds.feed_repair(member_id=job.member_id)
    elif job.kind == FanoutJob.Kind.PUSHBACK:
        _push_back(job, chunk_size)
    else:
        _push(job, chunk_size)
    feeds.job_done(job_id=job.pk)


def _push(job: FanoutJob, chunk_size: int) -> None:
    post = posts.post_get(post_id=job.post_id)
    if post is None:
        return  # deleted: its job went with it
    if feeds.pulled_for(author_id=job.author_id, at=post.created_at):
        return  # every reader merges this author in at read time
    _fan_out(job, [job.post_id], chunk_size, trim=feeds.feed_trim_some)


def _push_back(job: FanoutJob, chunk_size: int) -> None:
    """An author back under the limit: their newest posts into every follower's feed,
    before readers stop pulling them (their ``PullAuthor`` row goes only after this)."""
    post_ids = posts.latest_post_ids(member_id=job.author_id, limit=settings.FEED_MAX_ENTRIES)
    if post_ids:
        per_chunk = max(1, chunk_size // len(post_ids))
        trim_all = lambda *, owner_ids, rng: sum(feeds.feed_trim(owner_id=o) for o in owner_ids)  # noqa: E731
        _fan_out(job, post_ids, per_chunk, trim=trim_all)
    feeds.pull_author_pushed_back(member_id=job.author_id, job_id=job.pk)


def _fan_out(job: FanoutJob, post_ids: list[int], chunk_size: int, *, trim) -> None:
    """The author's posts into their followers' feeds, one locked chunk of followers at a time."""
    rng = random.Random(job.pk)
    cursor = job.cursor
    while True:
        try:
            owners, cursor = _chunk(job, post_ids, cursor, chunk_size)
        except IntegrityError:
            # SQLite checks the posts' foreign keys at commit: a post is gone.
            if all(posts.post_exists(post_id=p) for p in post_ids):
                raise
            if job.kind == FanoutJob.Kind.POST:
                return  # and its job with it
            post_ids = [p for p in post_ids if posts.post_exists(post_id=p)]
            continue
        if not owners:
            return
        trim(owner_ids=owners, rng=rng)


@retry_on_lock_conflict
@transaction.atomic
def _chunk(job: FanoutJob, post_ids: list[int], cursor: int, limit: int) -> tuple[list[int], int]:
    """One chunk in one transaction, with the job's cursor: ``(owners written, cursor)``."""
    chunk = follows.followers_after_locked(member_id=job.author_id, after=cursor, limit=limit)
    if not chunk:
        return [], cursor
    owners = [follower_id for _, follower_id in chunk]
    feeds.feeds_add_posts(owner_ids=owners, post_ids=post_ids, author_id=job.author_id)
    if not feeds.job_advance(job_id=job.pk, cursor=chunk[-1][0]):
        transaction.set_rollback(True)
        return [], cursor  # the post was deleted: so was its job
    return owners, chunk[-1][0]


def _backfill(job: FanoutJob) -> None:
    follower_id, followee_id = job.member_id, job.author_id
    if feeds.pulled_for(author_id=followee_id, at=timezone.now()):
        return  # merged at read time
    if _backfill_locked(follower_id, followee_id):
        feeds.feed_trim(owner_id=follower_id)


@retry_on_lock_conflict
@transaction.atomic
def _backfill_locked(follower_id: int, followee_id: int) -> bool:
    if not follows.followees_locked(follower_id=follower_id, among={followee_id}):
        return False  # unfollowed before the job ran
    post_ids = posts.latest_post_ids(member_id=followee_id, limit=settings.FEED_MAX_ENTRIES)
    feeds.feed_add_posts(owner_id=follower_id, post_ids=post_ids, author_id=followee_id)
    return True
