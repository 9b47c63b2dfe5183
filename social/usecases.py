"""The use cases that change more than one domain: writing, deleting, following.

Each is one transaction over the domains' services. When feeds must follow, the
transaction also records a fan-out job in the outbox (``feeds.services.job_post``, ``job_follow``),
which is queued for the worker after the commit and swept when it was not
(``core.outbox``). The fan-out is idempotent, so a job that runs twice, or resumes
after a crash, changes nothing more.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction

from core.db import retry_on_lock_conflict
from feeds import services as feeds
from follows import services as follows
from posts import services as posts

if TYPE_CHECKING:
    from posts.models import Post


@retry_on_lock_conflict
@transaction.atomic
def post_publish(*, member_id: int, contents: str) -> Post:
    """Write a post, put it in its author's own feed, and record its fan-out.

    The request does a constant amount of work whatever the author's audience;
    the followers' feeds are written by the worker.
    """
    post = posts.post_write(member_id=member_id, contents=contents)
    feeds.feed_add(owner_ids=[member_id], post_id=post.pk, author_id=member_id)
    feeds.job_post(author_id=member_id, post_id=post.pk)
    return post


def post_remove(*, member_id: int, post_id: int) -> None:
    """The author deletes a post: it leaves the timelines, every feed, its likes and its day.

    Raises posts.services.PostNotFound or NotTheAuthor. Feed entries, likes and a
    pending fan-out job go with the post through their foreign keys.
    """
    posts.post_delete_by_author(member_id=member_id, post_id=post_id)


@retry_on_lock_conflict
@transaction.atomic
def follow(*, follower_id: int, followee_id: int) -> bool:
    """Follow, and have the worker bring the followee's recent posts into the feed."""
    created = follows.follow_add(follower_id=follower_id, followee_id=followee_id)
    if created:
        feeds.job_follow(follower_id=follower_id, followee_id=followee_id)
    return created


@retry_on_lock_conflict
@transaction.atomic
def unfollow(*, follower_id: int, followee_id: int) -> bool:
    """Unfollow and take the followee's posts out of the feed, in one transaction.

    The follow goes first: a fan-out or backfill writing from it holds it locked,
    so this waits for that to commit and then removes its rows too.
    """
    removed = follows.follow_remove(follower_id=follower_id, followee_id=followee_id)
    if removed:
        feeds.feed_unfollowed(owner_id=follower_id, author_id=followee_id)
    return removed
