"""The like lesson, measured: concurrent likes of ONE counter through each strategy.

Every strategy gets the same work: ``threads`` real threads, each with its own
database connection, started together by a barrier, each liking the counter
``likes_per_thread`` times as a different member. Each like is a transaction
that inserts a like row (unique per counter and member) and counts it. A like
that loses a deadlock (MySQL 1213), a lock wait timeout (1205) or SQLite's
"database is locked" is rolled back and tried again; so is an optimistic like
whose version check failed.

Afterwards the stored count is set against the likes attempted (the lost
updates) and against the like rows, which must be exactly the likes attempted.
The lab works on its own scratch tables (``lab.models``) and resets them first.

The last row is the product itself: ``likes.services.like_add`` on a real post,
liked by real (throw-away) members, through the ORM with its existence check,
its savepoint and its own retries (which the retries column does not see).
Set beside the raw-SQL sharded row, it shows what Django's share costs. The
post and its members are deleted after the run.
"""

from __future__ import annotations

import random
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import OperationalError, connection, transaction
from django.db.models import Sum
from django.utils import timezone

from lab import seeding
from lab.models import LabCounter, LabCounterSlot, LabLike
from likes import services as likes
from likes.models import Like
from members import services as members
from posts import services as posts

SLOTS = 16
LAB_SEED = 7_352  # the product run's members are member<k>.s7352@seed.example
MAX_ATTEMPTS = 1_000  # a like still failing after this many tries is a bug, not contention
DEADLOCK, LOCK_WAIT_TIMEOUT = 1213, 1205


class VersionConflict(Exception):
    """The optimistic update found another version: roll back and retry."""


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _tables() -> tuple[str, str, str]:
    return (
        _q(LabCounter._meta.db_table),
        _q(LabLike._meta.db_table),
        _q(LabCounterSlot._meta.db_table),
    )


def _insert_like(cursor, counter_id: int, member_id: int) -> None:
    _, likes, _ = _tables()
    cursor.execute(
        f"INSERT INTO {likes} (counter_id, member_id, created_at) VALUES (%s, %s, %s)",  # noqa: S608
        [counter_id, member_id, connection.ops.adapt_datetimefield_value(timezone.now())],
    )


def like_read_modify_write(counter_id: int, member_id: int) -> None:
    """Read the count, add one in Python, write it back: two likes can write the same number."""
    counter, _, _ = _tables()
    with transaction.atomic(), connection.cursor() as cursor:
        _insert_like(cursor, counter_id, member_id)
        cursor.execute(f"SELECT likes FROM {counter} WHERE id = %s", [counter_id])  # noqa: S608
        (likes,) = cursor.fetchone()
        cursor.execute(
            f"UPDATE {counter} SET likes = %s WHERE id = %s",  # noqa: S608
            [likes + 1, counter_id],
        )


def like_pessimistic(counter_id: int, member_id: int) -> None:
    """Lock the counter row first (SELECT ... FOR UPDATE): likes queue behind each other."""
    counter, _, _ = _tables()
    # SQLite has no row locks; its IMMEDIATE transactions serialize the writers anyway.
    for_update = " FOR UPDATE" if connection.features.has_select_for_update else ""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"SELECT likes FROM {counter} WHERE id = %s{for_update}",  # noqa: S608
            [counter_id],
        )
        (likes,) = cursor.fetchone()
        _insert_like(cursor, counter_id, member_id)
        cursor.execute(
            f"UPDATE {counter} SET likes = %s WHERE id = %s",  # noqa: S608
            [likes + 1, counter_id],
        )


def like_optimistic(counter_id: int, member_id: int) -> None:
    """Write only if nobody else did since the read (the version); else roll back, retry."""
    counter, _, _ = _tables()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"SELECT version FROM {counter} WHERE id = %s",  # noqa: S608
            [counter_id],
        )
        (version,) = cursor.fetchone()
        _insert_like(cursor, counter_id, member_id)
        cursor.execute(
            f"UPDATE {counter} SET likes = likes + 1, version = version + 1 "  # noqa: S608
            "WHERE id = %s AND version = %s",
            [counter_id, version],
        )
        if cursor.rowcount == 0:
            raise VersionConflict


def like_with_counter(counter_id: int, member_id: int) -> None:
    """The like row and an atomic increment in the database, one transaction."""
    counter, _, _ = _tables()
    with transaction.atomic(), connection.cursor() as cursor:
        _insert_like(cursor, counter_id, member_id)
        cursor.execute(
            f"UPDATE {counter} SET likes = likes + 1 WHERE id = %s",  # noqa: S608
            [counter_id],
        )


def like_with_sharded_counter(counter_id: int, member_id: int) -> None:
    """The like row and an increment of one of SLOTS rows: writers rarely meet on a row."""
    _, _, slots = _tables()
    if connection.vendor == "mysql":
        upsert = "ON DUPLICATE KEY UPDATE likes = likes + 1"
    else:
        upsert = "ON CONFLICT (counter_id, slot) DO UPDATE SET likes = likes + 1"
    with transaction.atomic(), connection.cursor() as cursor:
        _insert_like(cursor, counter_id, member_id)
        cursor.execute(
            f"INSERT INTO {slots} (counter_id, slot, likes) VALUES (%s, %s, 1) {upsert}",  # noqa: S608
            [counter_id, member_id % SLOTS],
        )


def like_through_the_service(post_id: int, member_id: int) -> None:
    """The product itself: ``likes.services.like_add``, with its checks, ORM and retries."""
    likes.like_add(member_id=member_id, post_id=post_id)


@dataclass(frozen=True)
class Target:
    """What the likers like: a counter id (or post id), who likes it, and how to count it."""

    counter_id: int
    member_ids: list[int]
    stored: Callable[[], int]  # the count the strategy kept
    like_rows: Callable[[], int]
    clean_up: Callable[[], None]


def scratch_target(*, likes_wanted: int, sharded: bool) -> Target:
    """A fresh counter in the scratch tables; member ids are plain numbers."""
    counter_id = reset()
    return Target(
        counter_id,
        list(range(1, likes_wanted + 1)),
        lambda: stored_count(counter_id, sharded=sharded),
        lambda: LabLike.objects.filter(counter_id=counter_id).count(),
        lambda: None,
    )


def product_target(*, likes_wanted: int, sharded: bool) -> Target:
    """A throw-away post by one of ``likes_wanted`` throw-away members, who all like it."""
    member_ids = seeding.members_seed(count=likes_wanted, seed=LAB_SEED)
    post_id = posts.post_write(member_id=member_ids[0], contents="like lab").pk
    return Target(
        post_id,
        member_ids,
        lambda: likes.like_counts(post_ids=[post_id]).get(post_id, 0),
        lambda: Like.objects.filter(post_id=post_id).count(),
        lambda: members.members_delete(member_ids=member_ids),  # the post goes with its author
    )


@dataclass(frozen=True)
class Strategy:
    name: str
    like: Callable[[int, int], None]
    sharded: bool = False  # the count is the sum over the slots
    target: Callable[..., Target] = scratch_target


STRATEGIES = [
    Strategy("read-modify-write", like_read_modify_write),
    Strategy("pessimistic lock", like_pessimistic),
    Strategy("optimistic lock", like_optimistic),
    Strategy("like table + counter", like_with_counter),
    Strategy("like table + sharded counter (product)", like_with_sharded_counter, sharded=True),
    Strategy(
        "likes.services (the product, through Django)",
        like_through_the_service,
        target=product_target,
    ),
]


@dataclass
class Result:
    strategy: str
    attempted: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list, repr=False)  # seconds per like
    retries: int = 0
    deadlocks: int = 0  # deadlocks and lock wait timeouts (SQLite: "database is locked")
    stored: int = 0  # the count the strategy kept
    like_rows: int = 0

    @property
    def throughput(self) -> float:
        return self.attempted / self.seconds if self.seconds else 0.0

    @property
    def lost(self) -> int:
        return self.attempted - self.stored

    @property
    def count_equals_rows(self) -> bool:
        return self.stored == self.like_rows

    def percentile_ms(self, p: float) -> float:
        if not self.latencies:
            return 0.0
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, round(p * (len(ordered) - 1)))] * 1000

    @property
    def p50_ms(self) -> float:
        return statistics.median(self.latencies) * 1000 if self.latencies else 0.0

    @property
    def p99_ms(self) -> float:
        return self.percentile_ms(0.99)


def _lock_conflict(exc: OperationalError) -> bool:
    if connection.vendor == "mysql":
        return bool(exc.args) and exc.args[0] in (DEADLOCK, LOCK_WAIT_TIMEOUT)
    return "locked" in str(exc)


def reset() -> int:
    """Empty the scratch tables; a new counter with its slots. Returns the counter id."""
    LabLike.objects.all().delete()
    LabCounterSlot.objects.all().delete()
    LabCounter.objects.all().delete()
    counter = LabCounter.objects.create()
    # The slots exist up front, so every upsert updates a row and never inserts
    # into the gap between two slots.
    LabCounterSlot.objects.bulk_create(
        LabCounterSlot(counter_id=counter.pk, slot=slot) for slot in range(SLOTS)
    )
    return counter.pk


def stored_count(counter_id: int, *, sharded: bool) -> int:
    if sharded:
        total = LabCounterSlot.objects.filter(counter_id=counter_id).aggregate(n=Sum("likes"))["n"]
        return total or 0
    return LabCounter.objects.values_list("likes", flat=True).get(pk=counter_id)


def run_once(strategy: Strategy, *, threads: int, likes_per_thread: int) -> Result:
    """One run: a fresh target, ``threads`` threads liking together, then the verification."""
    target = strategy.target(likes_wanted=threads * likes_per_thread, sharded=strategy.sharded)
    try:
        return _run(strategy, target, threads=threads, likes_per_thread=likes_per_thread)
    finally:
        target.clean_up()


def _run(strategy: Strategy, target: Target, *, threads: int, likes_per_thread: int) -> Result:
    counter_id = target.counter_id
    result = Result(strategy.name, attempted=threads * likes_per_thread)
    lock = threading.Lock()
    errors: list[BaseException] = []
    started: list[float] = []
    barrier = threading.Barrier(threads, action=lambda: started.append(time.perf_counter()))

    def worker(n: int) -> None:
        latencies, retries, deadlocks = [], 0, 0
        try:
            connection.ensure_connection()  # connecting is not part of a like
            barrier.wait()
            for i in range(likes_per_thread):
                member_id = target.member_ids[n * likes_per_thread + i]
                began = time.perf_counter()
                for attempt in range(1, MAX_ATTEMPTS + 1):
                    try:
                        strategy.like(counter_id, member_id)
                        break
                    except VersionConflict:
                        pass
                    except OperationalError as exc:
                        if not _lock_conflict(exc):
                            raise
                        deadlocks += 1
                    if attempt == MAX_ATTEMPTS:
                        raise RuntimeError(f"a like failed {MAX_ATTEMPTS} times")
                    retries += 1
                    # Random backoff, so the losers do not collide again in step.
                    time.sleep(random.uniform(0, 0.001 * 2 ** min(attempt, 5)))
                latencies.append(time.perf_counter() - began)
        except BaseException as exc:  # noqa: BLE001 - reported by the caller
            errors.append(exc)
            barrier.abort()  # the others stop waiting for this thread
        finally:
            connection.close()
            with lock:
                result.latencies += latencies
                result.retries += retries
                result.deadlocks += deadlocks

    workers = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    result.seconds = time.perf_counter() - started[0] if started else 0.0
    if errors:
        raise errors[0]
    result.stored = target.stored()
    result.like_rows = target.like_rows()
    return result


def measure(
    *,
    threads: int,
    likes_per_thread: int,
    repeat: int = 1,
    strategies: list[Strategy] | None = None,
    on_strategy: Callable[[Strategy], None] | None = None,
) -> list[Result]:
    """Each strategy ``repeat`` times; a result adds its runs up."""
    results = []
    for strategy in strategies or STRATEGIES:
        if on_strategy:
            on_strategy(strategy)
        total = Result(strategy.name)
        for _ in range(repeat):
            run = run_once(strategy, threads=threads, likes_per_thread=likes_per_thread)
            total.attempted += run.attempted
            total.seconds += run.seconds
            total.latencies += run.latencies
            total.retries += run.retries
            total.deadlocks += run.deadlocks
            total.stored += run.stored
            total.like_rows += run.like_rows
        results.append(total)
    reset()
    return results


def commit_durability() -> str:
    """What a commit waits for, which bounds any strategy that holds a lock through it."""
    with connection.cursor() as cursor:
        if connection.vendor == "mysql":
            cursor.execute("SELECT VERSION(), @@innodb_flush_log_at_trx_commit")
            version, flush = cursor.fetchone()
            return f"{version}, innodb_flush_log_at_trx_commit={flush}"
        cursor.execute("SELECT sqlite_version()")
        (version,) = cursor.fetchone()
        cursor.execute("PRAGMA journal_mode")
        (journal,) = cursor.fetchone()
        return f"SQLite {version}, journal_mode={journal}"
