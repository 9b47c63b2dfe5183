"""The feed lesson: pull, push and hybrid, on the current database.

Reading a home page costs what the strategy makes it cost:

- **pull** reads the posts table at read time, ``WHERE member_id IN (everyone
  I follow) ORDER BY id DESC LIMIT 21``: every followed author's posts are
  candidates, so the work grows with the followings;
- **push** reads the member's own feed rows, written by fan-out when each post
  was published: one primary-key range read whatever the followings;
- **hybrid** is push with the few authors over ``FEED_FANOUT_LIMIT`` merged in
  at read time (the product's home page).

Writing moves the other way. The request (``post_publish``) writes the post,
the author's feed row and a job, whatever the audience; the worker
(``fanout_run``) writes one feed row per follower, so its time grows with the
followers and the figure that matters is rows/s.

The lab makes its own members (seeded with ``LAB_SEED``), follows and posts
through the domains' services, and removes them afterwards unless told to keep
them. It reads the posts and feed tables directly only for the naive pull
query and the plans: measuring them is the point (the lab's exception to going
through services). It stands in for the queue: the job ``post_publish`` would
send is kept, so that the write and the worker's share are timed apart.
"""

from __future__ import annotations

import re
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from unittest import mock

from django.conf import settings
from django.db import connection, reset_queries, transaction
from django.test.utils import CaptureQueriesContext, override_settings
from django.utils import timezone

from core import outbox
from core.pagination import Cursor
from feeds import fanout
from feeds import services as feeds
from feeds.models import FeedEntry
from follows import services as follows
from lab import index_lab, seeding
from lab.timing import median_ms
from members import services as members
from posts import services as posts
from posts.models import Post
from social import facades, usecases

LAB_SEED = 7_351  # the lab's members are member<k>.s7351@seed.example
POSTS_PER_AUTHOR = 5
PAGE_SIZE = 20
PULL_SHARE = 100  # hybrid: one followed author in a hundred (at least one) is pulled
READ_FOLLOWINGS = [10, 100, 1_000]
WRITE_FOLLOWERS = [1_000, 10_000, 100_000]


def default_max_followers() -> int:
    return 100_000 if connection.vendor == "mysql" else 10_000


def default_crowd_posts() -> int:
    return 100_000 if connection.vendor == "mysql" else 10_000


# --- what the lab made, and removing it ----------------------------------------------


@dataclass
class Made:
    member_ids: list[int] = field(default_factory=list)
    # Authors whose followers the lab seeded: they go too.
    followed: list[int] = field(default_factory=list)
    # Members with bulk-loaded posts: those are deleted table by table first.
    crowd: list[int] = field(default_factory=list)


def clean_up(made: Made) -> int:
    """Delete every member the lab made (their posts, follows and feeds go with them)."""
    for member_id in made.crowd:
        # Nobody follows or likes the crowd: its posts have no rows elsewhere.
        seeding.posts_unseed(member_id=member_id)
    ids = set(made.member_ids)
    for author in made.followed:
        after = 0
        while chunk := follows.followers_after(member_id=author, after=after, limit=10_000):
            ids.update(follower for _, follower in chunk)
            after = chunk[-1][0]
    deleted = members.members_delete(member_ids=ids)
    made.member_ids.clear()
    made.followed.clear()
    made.crowd.clear()
    return deleted


@contextmanager
def pull_limit(limit: int) -> Iterator[None]:
    """FEED_FANOUT_LIMIT set to ``limit`` for a while, the authors over it pulled at once
    (as the sweep would leave them once settled); the pulled authors as they were after."""
    saved = feeds.pull_authors_now()
    try:
        with override_settings(FEED_FANOUT_LIMIT=limit):
            feeds.pull_authors_replace(member_ids=follows.members_with_followers_over(limit=limit))
            yield
    finally:
        feeds.pull_authors_replace(member_ids=saved)


# --- plans ---------------------------------------------------------------------------


@dataclass(frozen=True)
class TablePlan:
    table: str
    plan: index_lab.Plan


MEASURED_TABLES = (Post._meta.db_table, FeedEntry._meta.db_table)


def plans_of(sqls: list[str]) -> list[TablePlan]:
    """The plan of each query that reads the posts or feed table (the reads that differ)."""
    found = []
    for sql in sqls:
        match = re.search(r"FROM [`\"]?(\w+)", sql)
        if sql.lstrip().upper().startswith("SELECT") and match and match[1] in MEASURED_TABLES:
            found.append(TablePlan(match[1], index_lab.explain(sql, None)))
    return found


# --- reading a home page ----------------------------------------------------------------


@dataclass(frozen=True)
class Readers:
    authors: list[int]  # each with POSTS_PER_AUTHOR posts, newest interleaved
    readers: dict[int, int]  # followings -> the member who follows that many authors
    heavy: list[int]  # the authors pulled in the hybrid run


def readers_build(*, followings: list[int], made: Made, crowd_posts: int = 0) -> Readers:
    """Authors with a few posts each, and one reader per size following the first N of them.

    Each round of the authors' posts is followed by a share of ``crowd_posts``
    by a member nobody follows: on a real site the posts of the members I
    follow are a few among everyone's, and a pull that walks the posts table
    newest first meets the others too. Feeds are built by
    ``feeds.feed_rebuild``, the same rows fan-out writes. The heavy authors
    (one in PULL_SHARE, at least one per reader) get a few more followers, so
    that a low FEED_FANOUT_LIMIT pulls exactly them.
    """
    sizes = sorted(set(followings))
    authors = seeding.members_seed(count=sizes[-1], seed=LAB_SEED)
    made.member_ids += authors
    readers = seeding.members_seed(count=len(sizes), seed=LAB_SEED)
    made.member_ids += readers
    [crowd] = seeding.members_seed(count=1, seed=LAB_SEED)
    made.member_ids.append(crowd)
    made.crowd.append(crowd)
    day = timezone.localdate()
    for n in range(POSTS_PER_AUTHOR):
        with transaction.atomic():
            # Round robin, so a page holds posts of many authors, as a real feed does.
            for author in authors:
                posts.post_write(member_id=author, contents=f"feed lab post {n + 1}")
        if crowd_posts // POSTS_PER_AUTHOR:
            seeding.posts_seed(
                member_id=crowd, count=crowd_posts // POSTS_PER_AUTHOR, start=day, end=day
            )
    with transaction.atomic():
        for reader, size in zip(readers, sizes, strict=True):
            for author in authors[:size]:
                follows.follow_add(follower_id=reader, followee_id=author)
    for reader in readers:
        feeds.feed_rebuild(member_id=reader)
    heavy = authors[::PULL_SHARE]
    for author in heavy:
        seeding.follows_seed_followers(member_id=author, count=len(sizes), seed=LAB_SEED)
    made.followed += heavy
    return Readers(authors, dict(zip(sizes, readers, strict=True)), heavy)


def hybrid_limit(readers: Readers) -> int:
    """A FEED_FANOUT_LIMIT that pulls exactly the heavy authors: they have the most followers."""
    return len(readers.readers)


def pull_sql(count: int) -> str:
    q = connection.ops.quote_name
    columns = ", ".join(q(c) for c in posts.TIMELINE_FIELDS)
    marks = ", ".join(["%s"] * count)
    return (
        f"SELECT {columns} FROM {q(Post._meta.db_table)} "  # noqa: S608
        f"WHERE {q('member_id')} IN ({marks}) ORDER BY {q('id')} DESC LIMIT {PAGE_SIZE + 1}"
    )


def pull_ids(reader_id: int) -> list[int]:
    """The naive pull: whom I follow, then their newest posts from the posts table."""
    authors = follows.followee_ids(member_id=reader_id)
    if not authors:
        return []
    with connection.cursor() as cursor:
        cursor.execute(pull_sql(len(authors)), authors)
        return [row[0] for row in cursor.fetchall()][:PAGE_SIZE]


def push_feed_ids(reader_id: int) -> list[int]:
    return feeds.feed_page(owner_id=reader_id, cursor=Cursor(size=PAGE_SIZE)).items


def home_ids(reader_id: int) -> list[int]:
    page = facades.home(member_id=reader_id, cursor=Cursor(size=PAGE_SIZE))
    return [entry.id for entry in page.entries]


@dataclass(frozen=True)
class Read:
    followings: int
    strategy: str
    pulled: int  # authors merged at read time
    queries: int
    median_ms: float
    post_ids: list[int]
    same: bool  # the same post ids as the pull query
    plans: list[TablePlan]


STRATEGIES: list[tuple[str, Callable[[int], list[int]]]] = [
    ("pull: the posts query", pull_ids),
    ("push: the feed query", push_feed_ids),
    ("push: home page", home_ids),
    ("hybrid: home page", home_ids),
]


def _read(
    size: int, strategy: str, read: Callable[[], list[int]], *, repeat: int, pulled: int, expected
) -> Read:
    reset_queries()  # under DEBUG the log is full already; start it empty
    with CaptureQueriesContext(connection) as ctx:
        ids = read()
    sqls = [q["sql"] for q in ctx.captured_queries]
    ms = median_ms(read, repeat)
    return Read(size, strategy, pulled, len(sqls), ms, ids, ids == expected, plans_of(sqls))


def measure_reads(
    *, readers: Readers, repeat: int, on_step: Callable[[str], None] | None = None
) -> list[Read]:
    """Each strategy at each number of followings; every one must find the pull's posts."""
    results: list[Read] = []
    expected = {size: pull_ids(reader) for size, reader in readers.readers.items()}
    for size, reader in readers.readers.items():
        if on_step:
            on_step(f"reading a home page following {size:,} authors ...")
        for name, read in STRATEGIES[:3]:
            pulled = size if name.startswith("pull") else 0
            results.append(
                _read(
                    size,
                    name,
                    lambda r=read, m=reader: r(m),
                    repeat=repeat,
                    pulled=pulled,
                    expected=expected[size],
                )
            )
    # Hybrid: the heavy authors are over the limit, their rows leave the feeds.
    with pull_limit(hybrid_limit(readers)):
        for size, reader in readers.readers.items():
            feeds.feed_rebuild(member_id=reader)
            pulled = len(follows.following_among(follower_id=reader, member_ids=set(readers.heavy)))
            name, read = STRATEGIES[3]
            results.append(
                _read(
                    size,
                    name,
                    lambda r=read, m=reader: r(m),
                    repeat=repeat,
                    pulled=pulled,
                    expected=expected[size],
                )
            )
    for reader in readers.readers.values():
        feeds.feed_rebuild(member_id=reader)  # as they are under the real limit
    order = {name: n for n, (name, _) in enumerate(STRATEGIES)}
    return sorted(results, key=lambda r: (r.followings, order[r.strategy]))


# --- writing a post -----------------------------------------------------------------------


@contextmanager
def queue_held() -> Iterator[list[int]]:
    """The jobs ``post_publish`` sends after its commit, kept here instead of sent.

    The lab plays the worker: it runs each job itself, so the request's time
    and the fan-out's are measured apart (in-process fan-out would run inside
    the request's commit).
    """
    jobs: list[int] = []
    with mock.patch.object(outbox, "outbox_send", lambda model, pk: jobs.append(pk)):
        yield jobs


@dataclass(frozen=True)
class Write:
    followers: int
    write_ms: float  # median post_publish: the post, the author's feed row, the job
    base_ms: float  # the same by an author with no followers, measured alternately with it
    fanout_s: float | None  # the worker's share, one run
    limit: int  # FEED_FANOUT_LIMIT during the fan-out
    reached: bool | None  # every follower's feed holds the post once
    pulled_by_default: bool  # followers > FEED_FANOUT_LIMIT as configured: no fan-out at all

    @property
    def rows_per_s(self) -> float | None:
        if not self.fanout_s:
            return None
        return self.followers / self.fanout_s

    @property
    def ratio(self) -> float:
        return self.write_ms / self.base_ms if self.base_ms else 0.0


def _publish(author_ids: list[int], repeat: int) -> tuple[list[float], list[int], list[int]]:
    """Median ms of ``post_publish`` per author, taking turns so both see the same load.

    Returns the medians, and each author's last post and its job (the others
    are deleted, their jobs with them).
    """
    timings: dict[int, list[float]] = {a: [] for a in author_ids}
    made: dict[int, list[tuple[int, int]]] = {a: [] for a in author_ids}
    with queue_held() as jobs:
        for n in range(repeat + 1):  # the first round is the warm-up
            for author in author_ids:
                began = time.perf_counter()
                post = usecases.post_publish(member_id=author, contents=f"feed lab write {n}")
                timings[author].append((time.perf_counter() - began) * 1000)
                made[author].append((post.pk, jobs[-1] if jobs else 0))
    posts.posts_delete(post_ids=[p for a in author_ids for p, _ in made[a][:-1]])
    return (
        [statistics.median(timings[a][1:]) for a in author_ids],
        [made[a][-1][0] for a in author_ids],
        [made[a][-1][1] for a in author_ids],
    )


def measure_writes(
    *,
    followers: list[int],
    repeat: int,
    made: Made,
    on_step: Callable[[str], None] | None = None,
) -> list[Write]:
    """The write with no followers, then one author's audience grown to each size in turn.

    Each size's write is timed in turns with a write by an author with no
    followers, so the ratio of the two is measured side by side.
    """
    default_limit = settings.FEED_FANOUT_LIMIT
    quiet, author = seeding.members_seed(count=2, seed=LAB_SEED)
    made.member_ids += [quiet, author]
    made.followed.append(author)
    [base_ms], _, [job_id] = _publish([quiet], repeat)
    fanout.fanout_run(job_id=job_id)  # nobody to reach; leaves no job pending
    results = [Write(0, base_ms, base_ms, None, default_limit, None, False)]
    have = 0
    for size in sorted(set(followers)):
        if on_step:
            on_step(f"seeding {size - have:,} followers, publishing and fanning out ...")
        seeding.follows_seed_followers(member_id=author, count=size - have, seed=LAB_SEED)
        have = size
        limit = max(size, default_limit)  # pushed, even when the default would pull
        with pull_limit(limit):
            [write_ms, base_ms], [post_id, _], [job_id, quiet_job] = _publish(
                [author, quiet], repeat
            )
            fanout.fanout_run(job_id=quiet_job)
            began = time.perf_counter()
            fanout.fanout_run(job_id=job_id)
            seconds = time.perf_counter() - began
            reach = feeds.post_reach(post_id=post_id)
        reached = bool(
            reach
            and not reach.pulled
            and not reach.pending
            and reach.held == size
            and not reach.missing
            and not reach.twice
        )
        results.append(
            Write(size, write_ms, base_ms, seconds, limit, reached, size > default_limit)
        )
    return results
