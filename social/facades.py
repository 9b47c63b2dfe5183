"""The pages that show posts: the timelines, a member's page and the home feed.

Each asks every domain for its own rows by id and combines them in Python, never
a join: posts from ``posts.services``, nicknames from ``members.services``, like
counts from ``likes.services``, follow counts from ``follows.services``. The
number of queries of a page does not depend on how many posts it shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.pagination import Cursor, Page, merge_pages
from feeds import services as feeds
from follows import services as follows
from follows.services import FollowCounts
from likes import services as likes
from members import services as members
from members.services import MemberNotFound, PublicMember
from posts import services as posts
from posts.services import NotTheAuthor, PostNotFound


@dataclass(frozen=True)
class TimelineEntry:
    id: int
    member_id: int
    nickname: str
    contents: str
    created_at: datetime
    likes: int
    liked: bool  # by the viewer


@dataclass(frozen=True)
class MemberCard:
    member: PublicMember
    counts: FollowCounts
    followed: bool  # by the viewer
    posts: int


@dataclass(frozen=True)
class Timeline:
    entries: list[TimelineEntry]
    older: Cursor | None
    newer: Cursor | None
    card: MemberCard | None  # set for one member's timeline


def _entries(post_list: list, viewer_id: int | None) -> list[TimelineEntry]:
    """Posts with their authors' current nicknames and like counts: three queries at most."""
    ids = [p.id for p in post_list]
    authors = members.members_public_by_ids(member_ids={p.member_id for p in post_list})
    counts = likes.like_counts(post_ids=ids)
    liked = likes.liked_among(member_id=viewer_id, post_ids=ids) if viewer_id else set()
    return [
        TimelineEntry(
            id=p.id,
            member_id=p.member_id,
            # An author deleted between the queries has no nickname left.
            nickname=authors[p.member_id].nickname if p.member_id in authors else "",
            contents=p.contents,
            created_at=p.created_at,
            likes=counts.get(p.id, 0),
            liked=p.id in liked,
        )
        for p in post_list
    ]


def member_card(*, member_id: int, viewer_id: int | None = None) -> MemberCard:
    member = members.member_public(member_id=member_id)
    if member is None:
        raise MemberNotFound(member_id)
    followed = (
        viewer_id is not None
        and viewer_id != member_id
        and follows.is_following(follower_id=viewer_id, followee_id=member_id)
    )
    return MemberCard(
        member=member,
        counts=follows.follow_counts(member_id=member_id),
        followed=followed,
        posts=posts.post_count(member_id=member_id),
    )


def timeline(
    *, cursor: Cursor, member_id: int | None = None, viewer_id: int | None = None
) -> Timeline:
    """A page of all posts, or of one member's (with their card)."""
    card = member_card(member_id=member_id, viewer_id=viewer_id) if member_id else None
    page = posts.timeline_page(cursor=cursor, member_id=member_id)
    return Timeline(_entries(page.items, viewer_id), page.older, page.newer, card)


def post(*, post_id: int, viewer_id: int | None = None) -> TimelineEntry:
    found = posts.post_get(post_id=post_id)
    if found is None:
        raise PostNotFound(post_id)
    return _entries([found], viewer_id)[0]


def own_post(*, member_id: int, post_id: int) -> TimelineEntry:
    """The member's own post, as a page shows it; someone else's is ``NotTheAuthor``."""
    entry = post(post_id=post_id, viewer_id=member_id)
    if entry.member_id != member_id:
        raise NotTheAuthor(post_id)
    return entry


def home(*, member_id: int, cursor: Cursor) -> Timeline:
    """The member's home feed: their feed rows merged with the pulled authors they follow.

    One primary-key range read of the feed, one index range read per pulled
    author they follow (a handful at most), then the posts by id. Both sources
    are paged by post id, so the merge pages exactly.
    """
    pulled = follows.following_among(follower_id=member_id, member_ids=feeds.pull_authors())
    feed_page = feeds.feed_page(owner_id=member_id, cursor=cursor)
    pull_pages = [posts.timeline_page(cursor=cursor, member_id=a) for a in sorted(pulled)]
    id_pages = [feed_page] + [
        Page([p.id for p in pg.items], pg.size, pg.older, pg.newer) for pg in pull_pages
    ]
    merged = merge_pages(id_pages, cursor)
    have = {p.id: p for pg in pull_pages for p in pg.items}
    missing = [post_id for post_id in merged.items if post_id not in have]
    have.update(posts.posts_by_ids(post_ids=missing))
    # A post deleted between the two reads is simply not shown.
    post_list = [have[post_id] for post_id in merged.items if post_id in have]
    return Timeline(_entries(post_list, member_id), merged.older, merged.newer, None)


# --- follow lists ----------------------------------------------------------------


@dataclass(frozen=True)
class FollowList:
    member: PublicMember
    members: list[PublicMember]
    older: Cursor | None
    newer: Cursor | None


def follow_list(*, member_id: int, cursor: Cursor, followers: bool) -> FollowList:
    """Who follows the member (``followers``) or whom they follow, most recent first."""
    member = members.member_public(member_id=member_id)
    if member is None:
        raise MemberNotFound(member_id)
    if followers:
        page = follows.followers_page(member_id=member_id, cursor=cursor)
        ids = [f.follower_id for f in page.items]
    else:
        page = follows.following_page(member_id=member_id, cursor=cursor)
        ids = [f.followee_id for f in page.items]
    found = members.members_public_by_ids(member_ids=ids)
    listed = [found[i] for i in ids if i in found]
    return FollowList(member, listed, page.older, page.newer)
