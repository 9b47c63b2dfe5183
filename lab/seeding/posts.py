"""Bulk loading of posts: millions of rows in seconds.

Posts go in chronological order (ids follow time), one transaction per chunk,
never ``save()`` per row. Each chunk's posts are counted per day in Python and
added to ``DailyPostCount`` with one upsert in the same transaction, so the
counts are right when the load ends.

On MySQL/MariaDB each chunk is written as a tab-separated file and loaded with
``LOAD DATA LOCAL INFILE``, the server's own bulk path (no SQL to parse per
row); the next chunk's file is written by a helper thread while the server
loads the current one, so Python's share of the work hides behind the
server's. On SQLite, ``cursor.executemany`` of one prepared INSERT is the
fast path.

The per-row work is kept small: the timestamps come out already in order
(uniform draws made smallest first, so no list of millions is sorted before
the first row can go), the local day of every timestamp comes
from the UTC offset in force then (zoneinfo's changes, found once per run, so
historical offsets such as Seoul's +08:30 and its summer times are right), and
timestamps are glued together from cached date and time-of-day strings.

Like the rest of the lab, it writes the posts tables directly (their models and
table names): bulk loading is what it measures.
"""

from __future__ import annotations

import random
import re
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from django.db import connection, transaction
from django.utils import timezone

from posts.models import DailyPostCount, Post

CHUNK_SIZE = 10_000  # executemany (SQLite)
LOAD_CHUNK_SIZE = 20_000  # LOAD DATA: the first chunk is written before anything loads
COLUMNS = ("member_id", "contents", "created_at", "created_date")

# LOAD DATA's default escaping (ESCAPED BY '\\'): the backslash first, then
# the characters that would end a field or a line, NUL and CR.
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r", "\0": "\\0"})
_NEEDS_ESCAPE = re.compile(r"[\\\t\n\r\0]")
_HOURS_MINUTES = [f"{h:02d}:{m:02d}:" for h in range(24) for m in range(60)]
_SECONDS = [f"{s:02d}" for s in range(60)]
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
EPOCH_DATE = EPOCH.date()


class LoadDataUnavailable(RuntimeError):
    """The server or the connection refuses ``LOAD DATA LOCAL INFILE``."""


@dataclass(frozen=True)
class Chunk:
    rows: list[tuple[int, str, str, str]]  # member_id, contents, created_at (UTC), created_date
    per_day: dict[date, int]


def load_data_escape(value: str) -> str:
    """A field for a tab-separated LOAD DATA file: tabs, newlines, backslashes escaped."""
    # Most text needs nothing: one search is cheaper than a translate.
    return value.translate(_ESCAPES) if _NEEDS_ESCAPE.search(value) else value


def _utc_offset(tz, ts: int) -> int:
    return int((EPOCH + timedelta(seconds=ts)).astimezone(tz).utcoffset().total_seconds())


def _range_of(start: date, end: date) -> tuple[int, int]:
    """UTC epoch seconds of the first moment of local day ``start`` and of ``end + 1``.

    ``fold=0`` at a midnight the clocks skipped (Seoul, 1 June 1948: 00:00 was
    01:00) takes the offset before the change, which is the instant of the change.
    """
    tz = timezone.get_default_timezone()
    first = datetime.combine(start, time(), tz).timestamp()
    last = datetime.combine(end + timedelta(days=1), time(), tz).timestamp()
    return int(first), int(last)


def offset_changes(first: int, last: int) -> tuple[list[int], list[int]]:
    """The UTC offsets of TIME_ZONE over ``first..last``: when each starts, and its seconds.

    zoneinfo publishes no list of transitions, so the offset is sampled once a
    day (no zone changes its offset twice within one day) and each change is
    found to the second by bisection. Before 1970 the epoch seconds are
    negative; nothing here cares.
    """
    tz = timezone.get_default_timezone()
    starts, offsets = [first], [_utc_offset(tz, first)]
    at = first
    while at < last:
        step = min(at + 86_400, last)
        if (now := _utc_offset(tz, step)) != offsets[-1]:
            low, high = at, step  # offset(low) is the old one, offset(high) the new
            while high - low > 1:
                middle = (low + high) // 2
                if _utc_offset(tz, middle) == offsets[-1]:
                    low = middle
                else:
                    high = middle
            starts.append(high)
            offsets.append(now)
        at = step
    return starts, offsets


def post_chunks(
    *, member_id: int, count: int, start: date, end: date, seed: int, chunk_size: int
) -> Iterator[Chunk]:
    """The posts to seed, oldest first, in chunks; the same ``seed`` gives the same posts.

    The timestamps are ``count`` uniform draws over the local days, made in
    ascending order: the smallest of n draws on [0, 1) is 1 - V ** (1 / n) for a
    uniform V, and the rest are uniform above it, so each next one follows from
    the last. ``created_date`` is the day of the timestamp plus the UTC offset
    in force then, so it matches zoneinfo's local date second by second, across
    every historical offset and DST change. The loop is written out by hand
    because it runs once per row: the UTC date and the local date are each
    recomputed only when the timestamp passes the next midnight (or offset change).
    """
    first, last = _range_of(start, end)
    change_at, offsets = offset_changes(first, last)
    change_at.append(last + 1)  # a sentinel: no change after the range
    rand = random.Random(seed).random
    span = last - first
    rest, left = 1.0, count  # rest: 1 - the last draw
    segment, offset = 0, offsets[0]
    next_change = change_at[1]
    # Both caches start as already passed, so the first row fills them: before
    # 1970 every timestamp is negative and 0 is no sentinel.
    utc_start = local_next = utc_next = first
    prefix = local_day = ""
    day_text: dict[int, str] = {}
    for chunk_start in range(0, count, chunk_size):
        rows = []
        for n in range(chunk_start + 1, min(chunk_start + chunk_size, count) + 1):
            rest *= rand() ** (1.0 / left)
            left -= 1
            ts = first + min(int((1.0 - rest) * span), span - 1)
            if ts >= local_next:
                while ts >= next_change:
                    segment += 1
                    offset, next_change = offsets[segment], change_at[segment + 1]
                day_number = (ts + offset) // 86_400
                if (local_day := day_text.get(day_number)) is None:
                    local_day = (EPOCH_DATE + timedelta(days=day_number)).isoformat()
                    day_text[day_number] = local_day
                local_next = min((day_number + 1) * 86_400 - offset, next_change)
            if ts >= utc_next:
                utc_start = ts - ts % 86_400
                utc_next = utc_start + 86_400
                prefix = (EPOCH_DATE + timedelta(days=utc_start // 86_400)).isoformat() + " "
            minute, second = divmod(ts - utc_start, 60)
            created_at = prefix + _HOURS_MINUTES[minute] + _SECONDS[second]
            rows.append((member_id, f"seeded post {n}", created_at, local_day))
        per_day = Counter(row[3] for row in rows)
        yield Chunk(rows, {date.fromisoformat(day): n for day, n in per_day.items()})


def write_load_file(path: Path, rows: Iterable[tuple[int, str, str, str]]) -> None:
    """Rows as a UTF-8 tab-separated file in the shape ``load_file`` reads."""
    with path.open("w", encoding="utf-8", newline="") as out:
        out.writelines(
            f"{member_id}\t{load_data_escape(contents)}\t{created_at}\t{created_date}\n"
            for member_id, contents, created_at, created_date in rows
        )


def check_load_data() -> None:
    """Raise ``LoadDataUnavailable`` with what to do when LOAD DATA LOCAL cannot run."""
    if not connection.settings_dict.get("OPTIONS", {}).get("local_infile"):
        raise LoadDataUnavailable(
            "The database connection does not allow LOAD DATA LOCAL INFILE: "
            "set 'local_infile': 1 in the MySQL connection OPTIONS (config/settings.py does)."
        )
    with connection.cursor() as cursor:
        cursor.execute("SELECT @@GLOBAL.local_infile")
        (enabled,) = cursor.fetchone()
    if not enabled:
        raise LoadDataUnavailable(
            "The MySQL/MariaDB server has local_infile OFF, so it refuses LOAD DATA LOCAL "
            "INFILE. Turn it on (SET GLOBAL local_infile = 1, or local_infile = ON under "
            "[mysqld]) and run again."
        )


def load_file(path: Path, *, rows: int) -> None:
    """``LOAD DATA LOCAL INFILE`` one file of posts; raise unless all ``rows`` went in cleanly.

    With LOCAL the server turns bad values and duplicate keys into warnings (it
    cannot stop the client mid-file), so the row count and the warnings are
    checked here; raising inside the caller's transaction rolls the file back.
    """
    q = connection.ops.quote_name
    sql = (
        f"LOAD DATA LOCAL INFILE %s INTO TABLE {q(Post._meta.db_table)} "
        "CHARACTER SET utf8mb4 FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' "
        f"LINES TERMINATED BY '\\n' ({', '.join(q(c) for c in COLUMNS)})"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [str(path)])
        loaded = cursor.rowcount
        cursor.execute("SHOW WARNINGS LIMIT 3")
        warnings = [row[2] for row in cursor.fetchall()]
    if loaded != rows or warnings:
        raise RuntimeError(
            f"LOAD DATA loaded {loaded} of {rows} rows from {path.name}"
            + (f"; warnings: {'; '.join(warnings)}" if warnings else "")
        )


def posts_seed(
    *,
    member_id: int,
    count: int,
    start: date,
    end: date,
    seed: int = 1,
    chunk_size: int | None = None,
    on_chunk: Callable[[int], None] | None = None,
) -> int:
    """Load ``count`` posts for a member, spread at random over ``start..end`` (local days).

    The same ``seed`` gives the same posts. Arguments are checked by the caller
    (the command) before anything is written; on MySQL/MariaDB so is
    ``check_load_data()``.
    """
    mysql = connection.vendor == "mysql"
    chunks = post_chunks(
        member_id=member_id,
        count=count,
        start=start,
        end=end,
        seed=seed,
        chunk_size=chunk_size or (LOAD_CHUNK_SIZE if mysql else CHUNK_SIZE),
    )
    write = _load_chunks if mysql else _insert_chunks
    written = 0
    for chunk in write(chunks, member_id):
        written += len(chunk.rows)
        if on_chunk:
            on_chunk(len(chunk.rows))
    return written


def posts_unseed(*, member_id: int) -> None:
    """Delete a member's bulk-loaded posts and their days, one statement each.

    No cascade: only for posts nothing else refers to (nobody liked them and no
    feed holds them), as the lab's and the bench's are.
    """
    DailyPostCount.objects.filter(member_id=member_id)._raw_delete(connection.alias)
    Post.objects.filter(member_id=member_id)._raw_delete(connection.alias)


def _add_counts(member_id: int, per_day: dict[date, int]) -> None:
    DailyPostCount.objects.add((member_id, day, n) for day, n in per_day.items())


def _insert_chunks(chunks: Iterator[Chunk], member_id: int) -> Iterator[Chunk]:
    q = connection.ops.quote_name
    insert = (
        f"INSERT INTO {q(Post._meta.db_table)} "  # noqa: S608
        f"({', '.join(q(c) for c in COLUMNS)}) VALUES (%s, %s, %s, %s)"
    )
    for chunk in chunks:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(insert, chunk.rows)
            _add_counts(member_id, chunk.per_day)
        yield chunk


def _load_chunks(chunks: Iterator[Chunk], member_id: int) -> Iterator[Chunk]:
    with (
        tempfile.TemporaryDirectory(prefix="seed-posts-") as directory,
        ThreadPoolExecutor(max_workers=1) as writer,
    ):

        def write_next(n: int) -> tuple[Path, Chunk] | None:
            chunk = next(chunks, None)
            if chunk is None:
                return None
            path = Path(directory) / f"posts-{n}.tsv"
            write_load_file(path, chunk.rows)
            return path, chunk

        # The helper thread writes chunk n + 1 while chunk n loads: mysqlclient
        # lets go of the GIL while it waits for the server.
        n = 0
        ahead = writer.submit(write_next, n)
        while (ready := ahead.result()) is not None:
            n += 1
            ahead = writer.submit(write_next, n)
            path, chunk = ready
            with transaction.atomic():
                load_file(path, rows=len(chunk.rows))
                _add_counts(member_id, chunk.per_day)
            path.unlink()
            yield chunk
