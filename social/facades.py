"""The pages that show posts: the timelines, a member's page and the home feed.

Each asks every domain for its own rows by id and combines them in Python, never
a join: posts from ``posts.services``, nicknames from ``members.services``, like
counts from ``likes.services``, follow counts from ``follows.services``. The
number of queries of a page does not depend on how many posts it shows.

What a member's page repeats on every request is kept (docs/speed.md):

- what is the same for every viewer, in the shared cache under the stamps of
  what it shows (``core.cache.stamped_get_or_set``): a page of the timeline, a
  member's card with a page of their posts. A post written or deleted, a follow,
  a nickname makes them stale at once;
- in each process, posts by id (a post never changes once written), and the
  nicknames and like counts of others for MEMO_SECONDS;
- what is the viewer's own is read every time: which of the posts they like,
  whether they follow the member, their home feed's page (a fan-out writes it).

A viewer who has just written reads everything from the database
(``core.cache.reads_fresh``), and so does an anonymous render: it is what the
page cache keeps and shows to every visitor.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from django.conf import settings

from core.cache import LocalMemo, reads_fresh, stamped_get_or_set
from core.pagination import Cursor, Page, merge_pages
from core.web.dbrouter import reading_primary
from core.web.pagecache import TIMELINE, feed_scope, member_scope
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


class PostRow(NamedTuple):
    """What a page needs of a post: small to keep, and the same for every viewer."""

    id: int
    member_id: int
    contents: str
    created_at: datetime


def _rows(post_list: Iterable) -> list[PostRow]:
    return [PostRow(p.id, p.member_id, p.contents, p.created_at) for p in post_list]


def _row_page(page: Page) -> Page[PostRow]:
    return Page(_rows(page.items), page.size, page.older, page.newer)


# Kept in each process (core.cache.LocalMemo). Posts never change once written (the
# admin's edits show within PAGE_CACHE_SECONDS); nicknames and like counts of
# others may be MEMO_SECONDS old on a member's page.
_posts: LocalMemo[int, PostRow] = LocalMemo(
    size=20_000, seconds=lambda: settings.PAGE_CACHE_SECONDS
)
_nicknames: LocalMemo[int, str] = LocalMemo(size=20_000, seconds=lambda: settings.MEMO_SECONDS)
_like_counts: LocalMemo[int, int] = LocalMemo(size=20_000, seconds=lambda: settings.MEMO_SECONDS)


def _read_nicknames(member_ids: Iterable[int]) -> dict[int, str]:
    found = members.members_public_by_ids(member_ids=member_ids)
    return {member_id: m.nickname for member_id, m in found.items()}


def _read_like_counts(post_ids: list[int]) -> dict[int, int]:
    counts = likes.like_counts(post_ids=post_ids)
    return {post_id: counts.get(post_id, 0) for post_id in post_ids}


def _fresh(viewer_id: int | None) -> bool:
    """Read from the database: for everyone (an anonymous render is what the page cache
    keeps), or for a viewer who has just written."""
    return viewer_id is None or reads_fresh(viewer_id)


def _entries(
    rows: list[PostRow], viewer_id: int | None, *, marks: bool = True
) -> list[TimelineEntry]:
    """Posts with their authors' current nicknames and like counts: three queries at most.

    ``marks``: say which the viewer likes (a query); the JSON shows none.
    """
    ids = [p.id for p in rows]
    authors = {p.member_id for p in rows}
    if _fresh(viewer_id):
        nicknames = _read_nicknames(authors)
        counts = _read_like_counts(ids) if ids else {}
    else:
        nicknames = _nicknames.get_many(authors, _read_nicknames)
        counts = _like_counts.get_many(ids, _read_like_counts)
    liked = likes.liked_among(member_id=viewer_id, post_ids=ids) if viewer_id and marks else set()
    return [
        TimelineEntry(
            id=p.id,
            member_id=p.member_id,
            # An author deleted between the queries has no nickname left.
            nickname=nicknames.get(p.member_id, ""),
            contents=p.contents,
            created_at=p.created_at,
            likes=counts.get(p.id, 0),
            liked=p.id in liked,
        )
        for p in rows
    ]


def _card_shared(member_id: int) -> tuple[PublicMember, FollowCounts, int]:
    member = members.member_public(member_id=member_id)
    if member is None:
        raise MemberNotFound(member_id)
    return member, follows.follow_counts(member_id=member_id), posts.post_count(member_id=member_id)


def _card(shared: tuple[PublicMember, FollowCounts, int], viewer_id: int | None) -> MemberCard:
    member, counts, post_count = shared
    followed = (
        viewer_id is not None
        and viewer_id != member.id
        and follows.is_following(follower_id=viewer_id, followee_id=member.id)
    )
    return MemberCard(member=member, counts=counts, followed=followed, posts=post_count)


def member_card(*, member_id: int, viewer_id: int | None = None) -> MemberCard:
    return _card(_card_shared(member_id), viewer_id)


def _shared_timeline(member_id: int | None):
    """The first page of a timeline as it is for every viewer: (card, page of rows).

    Kept in the shared cache under the stamp of what it shows (the timeline, or
    the member), read from the primary when it is not. A member that does not
    exist is not kept: MemberNotFound every time.
    """

    def read():
        with reading_primary():
            card = _card_shared(member_id) if member_id else None
            return card, _row_page(posts.timeline_page(cursor=Cursor(), member_id=member_id))

    scope = member_scope(member_id) if member_id else TIMELINE
    key = f"social:timeline:{member_id or 'all'}"
    return stamped_get_or_set(key, [scope], read, timeout=settings.PAGE_CACHE_SECONDS)


def timeline(
    *, cursor: Cursor, member_id: int | None = None, viewer_id: int | None = None
) -> Timeline:
    """A page of all posts, or of one member's (with their card)."""
    # Only the first page is kept: it is the one members reload, and a member
    # walking cursors must not fill the cache with pages nobody else reads.
    if _fresh(viewer_id) or cursor != Cursor():
        card = _card_shared(member_id) if member_id else None
        page = _row_page(posts.timeline_page(cursor=cursor, member_id=member_id))
    else:
        card, page = _shared_timeline(member_id)
    shown_card = _card(card, viewer_id) if card else None
    return Timeline(_entries(page.items, viewer_id), page.older, page.newer, shown_card)


def post(*, post_id: int, viewer_id: int | None = None) -> TimelineEntry:
    found = posts.post_get(post_id=post_id)
    if found is None:
        raise PostNotFound(post_id)
    return _entries(_rows([found]), viewer_id)[0]


def own_post(*, member_id: int, post_id: int) -> TimelineEntry:
    """The member's own post, as a page shows it; someone else's is ``NotTheAuthor``."""
    entry = post(post_id=post_id, viewer_id=member_id)
    if entry.member_id != member_id:
        raise NotTheAuthor(post_id)
    return entry


def _read_posts(post_ids: list[int]) -> dict[int, PostRow]:
    return {p.id: p for p in _rows(posts.posts_by_ids(post_ids=post_ids).values())}


def home(*, member_id: int, cursor: Cursor, marks: bool = True) -> Timeline:
    """The member's home feed: their feed rows merged with the pulled authors they follow.

    One primary-key range read of the feed, one index range read per pulled
    author they follow (a handful at most), then the posts by id (kept in each
    process: a post never changes). Both sources are paged by post id, so the
    merge pages exactly. The feed's page is read on every render; a kept home is
    good while the feed's stamp is unchanged (``home_scopes``).
    """
    merged, have = _home_ids(member_id, cursor)
    missing = [post_id for post_id in merged.items if post_id not in have]
    have.update(_posts.get_many(missing, _read_posts))
    # A post deleted between the two reads is simply not shown.
    post_list = [have[post_id] for post_id in merged.items if post_id in have]
    return Timeline(_entries(post_list, member_id, marks=marks), merged.older, merged.newer, None)


def _home_ids(member_id: int, cursor: Cursor) -> tuple[Page[int], dict[int, PostRow]]:
    """The page of the home feed's post ids, and the rows of those read with them."""
    pulled = follows.following_among(follower_id=member_id, member_ids=feeds.pull_authors())
    feed_page = feeds.feed_page(owner_id=member_id, cursor=cursor)
    pull_pages = [posts.timeline_page(cursor=cursor, member_id=a) for a in sorted(pulled)]
    id_pages = [feed_page] + [
        Page([p.id for p in pg.items], pg.size, pg.older, pg.newer) for pg in pull_pages
    ]
    merged = merge_pages(id_pages, cursor)
    return merged, {p.id: p for pg in pull_pages for p in _rows(pg.items)}


def home_scopes(*, member_id: int) -> list[str]:
    """What others' writes change on the member's home: their feed (every writer of its
    rows bumps it, ``feeds.services``) and the pulled authors they follow, whose
    posts the page reads from the authors' own (their member scopes)."""
    pulled = follows.following_among(follower_id=member_id, member_ids=feeds.pull_authors())
    return [feed_scope(member_id), *(member_scope(author) for author in sorted(pulled))]


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
