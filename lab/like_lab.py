"""The like lesson, measured: concurrent likes of ONE counter through each strategy.

Every strategy gets the same work: ``threads`` clients, each a real thread with
its own database connection, spread over ``processes`` operating-system
processes (so that Python's interpreter lock, one per process, does not cap
the clients), started together by a barrier, each liking the counter
``likes_per_thread`` times as a different member. Each like is a transaction
that inserts a like row (unique per counter and member) and counts it. A like
that loses a deadlock (MySQL 1213), a lock wait timeout (1205) or SQLite's
"database is locked" is rolled back and tried again; so is an optimistic like
whose version check failed.

Afterwards the stored count is set against the likes attempted (the lost
updates) and against the like rows, which must be exactly the likes attempted.
The lab works on its own scratch tables (``lab.models``) and resets them first.

The buffered strategy is the study notes' "gather in memory, write once": a like
only inserts its row, marked pending; a flusher, once every
``FLUSH_SECONDS``, turns the pending rows of the counter into one
``UPDATE ... SET likes = likes + n``, and a read adds what is still pending,
so the count it shows is exact at every moment.

The last row is the product itself: ``likes.services.like_add`` on a real post,
liked by real (throw-away) members, through the ORM with its existence check,
its savepoint and its own retries (which the retries column does not see).
Set beside the raw-SQL sharded row, it shows what Django's share costs. The
post and its members are deleted after the run.
"""

from __future__ import annotations

import multiprocessing
import queue
import random
import statistics
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.db import OperationalError, connection, connections, transaction
from django.db.models import Sum
from django.utils import timezone

from lab import seeding
from lab.models import LabCounter, LabCounterSlot, LabLike
from lab.timing import median_ms
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


def _insert_like(cursor, counter_id: int, member_id: int, *, pending: bool = False) -> None:
    _, likes, _ = _tables()
    cursor.execute(
        f"INSERT INTO {likes} (counter_id, member_id, created_at, pending) "  # noqa: S608
        "VALUES (%s, %s, %s, %s)",
        [
            counter_id,
            member_id,
            connection.ops.adapt_datetimefield_value(timezone.now()),
            pending,
        ],
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


def like_buffered(counter_id: int, member_id: int) -> None:
    """Only the like row, marked pending: no counter row is touched, so no liker waits.

    One statement is a transaction of its own (autocommit): no BEGIN, one commit.
    """
    with connection.cursor() as cursor:
        _insert_like(cursor, counter_id, member_id, pending=True)


def flush_buffered(counter_id: int) -> int:
    """Add the counter's pending likes to it in one update; returns how many.

    The rows flipped and the addition are one transaction, so a like is counted
    either as pending or in the counter, never both and never neither. Read
    committed: the flip locks only the rows it changes, never the gap new
    pending likes go into, so the likers do not wait for it.
    """
    counter, likes, _ = _tables()
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "mysql":
            cursor.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
        cursor.execute(
            f"UPDATE {likes} SET pending = %s WHERE counter_id = %s AND pending = %s",  # noqa: S608
            [False, counter_id, True],
        )
        flipped = cursor.rowcount
        if flipped:
            cursor.execute(
                f"UPDATE {counter} SET likes = likes + %s WHERE id = %s",  # noqa: S608
                [flipped, counter_id],
            )
    return flipped


def buffered_count(counter_id: int) -> int:
    """What a reader is shown: the flushed count plus what is pending, in one snapshot."""
    counter, likes, _ = _tables()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT c.likes + (SELECT COUNT(*) FROM {likes} l "  # noqa: S608
            "WHERE l.counter_id = c.id AND l.pending = %s) "
            f"FROM {counter} c WHERE c.id = %s",
            [True, counter_id],
        )
        return int(cursor.fetchone()[0])


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


def scratch_target(*, likes_wanted: int, count: str) -> Target:
    """A fresh counter in the scratch tables; member ids are plain numbers."""
    counter_id = reset()
    return Target(
        counter_id,
        list(range(1, likes_wanted + 1)),
        lambda: stored_count(counter_id, count=count),
        lambda: LabLike.objects.filter(counter_id=counter_id).count(),
        lambda: None,
    )


def product_target(*, likes_wanted: int, count: str) -> Target:
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


READS = 20  # reads of the count after a run, for its median
FLUSH_SECONDS = 0.05  # the buffered strategy's interval: a count is at most this stale


@dataclass(frozen=True)
class Strategy:
    key: str
    name: str
    like: Callable[[int, int], None]
    count: str = "counter"  # "counter", "slots" (the sum over them) or "buffered"
    target: Callable[..., Target] = scratch_target
    flush: Callable[[int], int] | None = None  # run every FLUSH_SECONDS during the likes


STRATEGIES = [
    Strategy("rmw", "read-modify-write", like_read_modify_write),
    Strategy("pessimistic", "pessimistic lock", like_pessimistic),
    Strategy("optimistic", "optimistic lock", like_optimistic),
    Strategy("counter", "like table + counter", like_with_counter),
    Strategy("sharded", "like table + sharded counter", like_with_sharded_counter, count="slots"),
    Strategy(
        "buffered",
        "like table, count flushed every 50 ms",
        like_buffered,
        count="buffered",
        flush=flush_buffered,
    ),
    Strategy(
        "service",
        "likes.services (the product, through Django)",
        like_through_the_service,
        target=product_target,
    ),
]


def strategy(key: str) -> Strategy:
    return next(s for s in STRATEGIES if s.key == key)


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
    read_ms: float = 0.0  # median time to read the count, as a page would

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


def stored_count(counter_id: int, *, count: str) -> int:
    if count == "buffered":
        return buffered_count(counter_id)
    if count == "slots":
        total = LabCounterSlot.objects.filter(counter_id=counter_id).aggregate(n=Sum("likes"))["n"]
        return total or 0
    return LabCounter.objects.values_list("likes", flat=True).get(pk=counter_id)


def run_once(
    strategy: Strategy, *, threads: int, likes_per_thread: int, processes: int = 1
) -> Result:
    """One run: a fresh target, the clients liking together, then the verification."""
    target = strategy.target(likes_wanted=threads * likes_per_thread, count=strategy.count)
    try:
        return _run(
            strategy,
            target,
            threads=threads,
            likes_per_thread=likes_per_thread,
            processes=processes,
        )
    finally:
        target.clean_up()


@dataclass
class _Tally:
    """What one process's clients did: merged into the run's Result."""

    latencies: list[float] = field(default_factory=list)
    retries: int = 0
    deadlocks: int = 0
    began: float = float("inf")  # the earliest start and latest end of its clients
    ended: float = 0.0
    error: str | None = None


def _like_with_retries(strategy: Strategy, counter_id: int, member_id: int, tally: _Tally) -> None:
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
            tally.deadlocks += 1
        if attempt == MAX_ATTEMPTS:
            raise RuntimeError(f"a like failed {MAX_ATTEMPTS} times")
        tally.retries += 1
        # Random backoff, so the losers do not collide again in step.
        time.sleep(random.uniform(0, 0.001 * 2 ** min(attempt, 5)))
    tally.latencies.append(time.perf_counter() - began)


def _clients(strategy: Strategy, target: Target, clients: range, likes_per_thread: int, barrier):
    """Run ``clients`` (their numbers) as threads of this process; returns their tally."""
    tally, lock, errors = _Tally(), threading.Lock(), []

    def client(n: int) -> None:
        mine = _Tally()
        try:
            connection.ensure_connection()  # connecting is not part of a like
            barrier.wait()
            mine.began = time.perf_counter()
            for i in range(likes_per_thread):
                member_id = target.member_ids[n * likes_per_thread + i]
                _like_with_retries(strategy, target.counter_id, member_id, mine)
            mine.ended = time.perf_counter()
        except BaseException as exc:  # noqa: BLE001 - reported by the caller
            errors.append(exc)
            barrier.abort()  # the others stop waiting for this client
        finally:
            connection.close()
            with lock:
                tally.latencies += mine.latencies
                tally.retries += mine.retries
                tally.deadlocks += mine.deadlocks
                tally.began = min(tally.began, mine.began)
                tally.ended = max(tally.ended, mine.ended)

    workers = [threading.Thread(target=client, args=(n,)) for n in clients]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    if errors:
        real = [e for e in errors if not isinstance(e, threading.BrokenBarrierError)]
        tally.error = repr((real or errors)[0])
    return tally


def _child(strategy, target, clients, likes_per_thread, barrier, results) -> None:
    tally = _clients(strategy, target, clients, likes_per_thread, barrier)
    results.put(tally)


def _spread(threads: int, processes: int) -> list[range]:
    """Client numbers 0..threads-1 in ``processes`` nearly equal runs."""
    per, extra = divmod(threads, processes)
    ranges, first = [], 0
    for n in range(processes):
        size = per + (1 if n < extra else 0)
        ranges.append(range(first, first + size))
        first += size
    return [r for r in ranges if len(r)]


def _run(
    strategy: Strategy, target: Target, *, threads: int, likes_per_thread: int, processes: int
) -> Result:
    result = Result(strategy.name, attempted=threads * likes_per_thread)
    groups = _spread(threads, max(1, min(processes, threads)))
    done = threading.Event()
    flusher = None
    if strategy.flush:

        def flush_until_done() -> None:
            try:
                while not done.wait(FLUSH_SECONDS):
                    strategy.flush(target.counter_id)
            finally:
                connection.close()

        flusher = threading.Thread(target=flush_until_done)
        flusher.start()
    try:
        if len(groups) == 1:
            tallies = [
                _clients(strategy, target, groups[0], likes_per_thread, threading.Barrier(threads))
            ]
        else:
            tallies = _in_processes(strategy, target, groups, likes_per_thread, threads)
    finally:
        done.set()
        if flusher:
            flusher.join()
    errors = [t.error for t in tallies if t.error]
    if errors:
        raise RuntimeError(f"{strategy.name}: {errors[0]}")
    for tally in tallies:
        result.latencies += tally.latencies
        result.retries += tally.retries
        result.deadlocks += tally.deadlocks
    result.seconds = max(t.ended for t in tallies) - min(t.began for t in tallies)
    if strategy.flush:
        strategy.flush(target.counter_id)  # what the last interval gathered
    result.stored = target.stored()
    result.like_rows = target.like_rows()
    result.read_ms = median_ms(target.stored, READS)
    return result


def _in_processes(strategy, target, groups, likes_per_thread, threads) -> list[_Tally]:
    """Each group of clients in a forked process of its own; their tallies.

    The parent's connections are closed first, so that no child inherits a
    socket another process uses; perf_counter is the system's monotonic clock,
    the same in every process, so their start and end times compare.
    """
    context = multiprocessing.get_context("fork")
    barrier, results = context.Barrier(threads), context.Queue()
    connections.close_all()
    children = [
        context.Process(
            target=_child, args=(strategy, target, group, likes_per_thread, barrier, results)
        )
        for group in groups
    ]
    for child in children:
        child.start()
    tallies = []
    for _ in children:
        try:
            tallies.append(results.get(timeout=600))
        except queue.Empty:
            tallies.append(_Tally(error="a client process sent no result in 600 s"))
            break
    for child in children:
        child.join(timeout=30)
        if child.is_alive():
            child.kill()
            child.join()
    if any(child.exitcode for child in children):
        tallies.append(_Tally(error="a client process died"))
    return tallies


# Not exact by design: read-modify-write loses likes; the service is the product, not a strategy.
_NOT_EXACT = {"rmw", "service"}


def best_exact(results: Iterable[Result]) -> Result | None:
    """The fastest raw strategy that kept every like (its count and its rows), if any did."""
    exact_names = {s.name for s in STRATEGIES if s.key not in _NOT_EXACT}
    exact = [
        r
        for r in results
        if r.strategy in exact_names and r.lost == 0 and r.like_rows == r.attempted
    ]
    return max(exact, key=lambda r: r.throughput, default=None)


def default_processes() -> int:
    """Several processes where the database is a server; one SQLite file takes one writer."""
    return 4 if connection.vendor == "mysql" else 1


def measure(
    *,
    threads: int,
    likes_per_thread: int,
    repeat: int = 1,
    processes: int = 1,
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
            run = run_once(
                strategy, threads=threads, likes_per_thread=likes_per_thread, processes=processes
            )
            total.attempted += run.attempted
            total.seconds += run.seconds
            total.latencies += run.latencies
            total.retries += run.retries
            total.deadlocks += run.deadlocks
            total.stored += run.stored
            total.like_rows += run.like_rows
            total.read_ms = max(total.read_ms, run.read_ms)
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
