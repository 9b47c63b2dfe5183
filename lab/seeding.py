"""Bulk loading of posts: millions of rows in seconds.

Posts go in chronological order (ids follow time) with chunked
``cursor.executemany`` — mysqlclient turns each chunk into one multi-row
INSERT — one transaction per chunk, never ``save()`` per row. Each chunk's
posts are counted per day in Python and added to ``DailyPostCount`` with one
upsert in the same transaction, so the counts are right when the load ends.

The per-row work is kept to integer arithmetic: the local day of every
timestamp comes from a table of day boundaries (computed once per day with
zoneinfo, so historical offsets such as Seoul's +08:30 are right), and
timestamps are formatted from cached date strings.

Like the rest of the lab, it writes the posts tables directly (their models and
table names): bulk loading is what it measures.
"""

from __future__ import annotations

import bisect
import random
from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta

from django.db import connection, transaction
from django.utils import timezone

from posts.models import DailyPostCount, Post

CHUNK_SIZE = 10_000


def _day_boundaries(start: date, end: date) -> tuple[list[int], list[date]]:
    """UTC epoch seconds at which each local day in ``start..end+1`` begins."""
    tz = timezone.get_default_timezone()
    days = [start + timedelta(days=i) for i in range((end - start).days + 2)]
    return [int(datetime.combine(d, time(), tz).timestamp()) for d in days], days


def _utc_text(ts: int, cache: dict[int, str]) -> str:
    day, second = divmod(ts, 86_400)
    prefix = cache.get(day)
    if prefix is None:
        prefix = cache[day] = datetime.fromtimestamp(day * 86_400, UTC).strftime("%Y-%m-%d ")
    hours, rest = divmod(second, 3600)
    return f"{prefix}{hours:02d}:{rest // 60:02d}:{rest % 60:02d}"


def posts_seed(
    *,
    member_id: int,
    count: int,
    start: date,
    end: date,
    seed: int = 1,
    chunk_size: int = CHUNK_SIZE,
    on_chunk: Callable[[int], None] | None = None,
) -> int:
    """Load ``count`` posts for a member, spread at random over ``start..end`` (local days).

    The same ``seed`` gives the same posts. Arguments are checked by the caller
    (the command) before anything is written.
    """
    boundaries, days = _day_boundaries(start, end)
    rng = random.Random(seed)
    first, stop = boundaries[0], boundaries[-1]
    stamps = sorted(rng.randrange(first, stop) for _ in range(count))
    day_text = [d.isoformat() for d in days]
    utc_cache: dict[int, str] = {}

    q = connection.ops.quote_name
    insert = (
        f"INSERT INTO {q(Post._meta.db_table)} "  # noqa: S608
        f"({q('member_id')}, {q('contents')}, {q('created_at')}, {q('created_date')}) "
        "VALUES (%s, %s, %s, %s)"
    )
    written = 0
    day_index = 0
    for chunk_start in range(0, count, chunk_size):
        rows = []
        per_day: Counter[int] = Counter()
        for n, ts in enumerate(stamps[chunk_start : chunk_start + chunk_size], chunk_start + 1):
            if ts >= boundaries[day_index + 1]:
                day_index = bisect.bisect_right(boundaries, ts) - 1
            per_day[day_index] += 1
            rows.append(
                (member_id, f"seeded post {n}", _utc_text(ts, utc_cache), day_text[day_index])
            )
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(insert, rows)
            DailyPostCount.objects.add((member_id, days[i], n) for i, n in per_day.items())
        written += len(rows)
        if on_chunk:
            on_chunk(len(rows))
    return written
