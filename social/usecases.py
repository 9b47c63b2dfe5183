"""The use cases that change more than one domain: writing, deleting, following, leaving.

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
from likes import services as likes
from members import services as members
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


# --- a member leaves ---------------------------------------------------------------------

# Rows per transaction when a member is removed: each step locks and deletes at most
# this many rows of one table, so no transaction grows with the member's size.
REMOVE_CHUNK = 2_000
# The member's posts are deleted this many at a time (their feed rows and likes first).
REMOVE_POSTS = 200


def member_removal_run(*, removal_id: int) -> bool:
    """Do one removal (``members.services.member_delete_request``); what its task runs.

    False when there is nothing to do: done already, or done by a copy that ran first.
    """
    member_id = members.member_removal_pending(removal_id=removal_id)
    if member_id is None:
        return False
    member_remove(member_id=member_id)
    members.member_removal_done(removal_id=removal_id)
    return True


def member_remove(*, member_id: int, chunk: int = REMOVE_CHUNK) -> bool:
    """Delete a member and everything of theirs, keeping every count they touched right.

    Their posts leave every timeline and feed (with their likes and their days'
    counts), their likes leave the posts' counts, their follows leave both sides'
    counters, and their own feed, history and counters go with the member row. The
    bulk goes a chunk per transaction (``chunk`` rows at most), each of which leaves
    every count right by itself, so a run cut off halfway resumes where it stopped.
    What remains, and whatever arrived meanwhile, goes with the member row in one
    last transaction that holds the member's row lock. False: no such member.
    """
    while _remove_some(member_id, chunk):
        pass
    return _remove_the_rest(member_id, chunk)


@retry_on_lock_conflict
@transaction.atomic
def _remove_the_rest(member_id: int, chunk: int) -> bool:
    if not members.member_lock(member_id=member_id):
        return False
    while _remove_some(member_id, chunk):
        pass
    members.member_delete(member_id=member_id)
    return True


def _remove_some(member_id: int, chunk: int) -> int:
    """One step of a removal, at most ``chunk`` rows of one table; 0 once nothing is left."""
    post_ids = posts.latest_post_ids(member_id=member_id, limit=REMOVE_POSTS)
    if post_ids:
        # The posts' feed rows and likes in steps, so the posts' own DELETE is small.
        while feeds.feed_remove_posts(post_ids=post_ids, limit=chunk):
            pass
        while likes.likes_remove_of_posts(post_ids=post_ids, limit=chunk):
            pass
        return posts.posts_delete(post_ids=post_ids)
    return (
        likes.likes_remove_by_member(member_id=member_id, limit=chunk)
        or follows.follows_remove_of_member(member_id=member_id, limit=chunk)
        or feeds.feed_clear(owner_id=member_id, limit=chunk)
    )
