"""The fan-out (what ``feeds.tasks.fanout`` runs): a post into its author's followers'
feeds, a followee's recent posts into a new follower's feed.

A job resumes from its cursor, so a worker that dies mid-job leaves the rest to the
next delivery; feed rows are unique per owner and post, so a job that runs twice,
or two copies of it at once, change nothing more.
"""

from __future__ import annotations

import random

from django.conf import settings
from django.db import IntegrityError, transaction

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
    elif not feeds.is_pull_author(job.author_id):
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
    if feeds.is_pull_author(followee_id):
        return  # merged at read time
    post_ids = posts.latest_post_ids(member_id=followee_id, limit=settings.FEED_MAX_ENTRIES)
    with transaction.atomic():
        feeds.feed_add_posts(owner_id=follower_id, post_ids=post_ids, author_id=followee_id)
    feeds.feed_trim(owner_id=follower_id)
