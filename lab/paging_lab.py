"""The paging lesson: OFFSET, OFFSET through a covering index, and keyset, by depth; and the
count that page numbers need.

One member's timeline, 20 posts a page, newest first, at each depth:

- **OFFSET**: ``WHERE member_id = ? ORDER BY id DESC LIMIT 20 OFFSET d``. The
  database walks ``d`` entries of ``(member_id, id)`` and, on MySQL/MariaDB,
  looks each skipped row up in the clustered index to build a row it then
  throws away.
- **OFFSET, deferred join**: the same OFFSET over the ids alone (the secondary
  index covers them: it holds the primary key), then the 20 rows by id. Still
  ``d`` entries walked, but no row built for them.
- **keyset**: ``WHERE member_id = ? AND id < :last_seen ORDER BY id DESC LIMIT 20``,
  the query ``posts.services.timeline_page`` runs (with the index it names):
  one seek, whatever the depth.

Every method must return the same 20 ids at each depth. Then the counts a page
number needs: ``COUNT(*)`` over the index, the count table the product keeps
(``posts.services.post_count``: the member's days summed), and the optimizer's
estimate (``EXPLAIN``'s rows on MySQL/MariaDB; SQLite has one only after
``ANALYZE``, and then an average per key, not this member's count), each with
its time and its error. It reads the posts table directly: measuring it is
the point.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db import connection

from lab.index_lab import _q, explain, run_query, time_query
from posts import services as posts
from posts.models import MEMBER_TIMELINE_INDEX, DailyPostCount, Post

PAGE_SIZE = 20
DEPTHS = [1_000, 10_000, 100_000, 1_000_000]
COLUMNS = ("id", "member_id", "contents", "created_at")


def _hint() -> str:
    if connection.vendor == "mysql":
        return f" FORCE INDEX ({_q(MEMBER_TIMELINE_INDEX)})"
    return f" INDEXED BY {_q(MEMBER_TIMELINE_INDEX)}"


def offset_sql(depth: int) -> str:
    columns = ", ".join(_q(c) for c in COLUMNS)
    return (
        f"SELECT {columns} FROM {_q(Post._meta.db_table)}{_hint()} "  # noqa: S608
        f"WHERE {_q('member_id')} = %s ORDER BY {_q('id')} DESC LIMIT {PAGE_SIZE} OFFSET {depth}"
    )


def deferred_sql(depth: int) -> str:
    table = _q(Post._meta.db_table)
    columns = ", ".join(f"p.{_q(c)}" for c in COLUMNS)
    return (
        f"SELECT {columns} FROM {table} AS p JOIN ("  # noqa: S608
        f"SELECT {_q('id')} FROM {table}{_hint()} WHERE {_q('member_id')} = %s "
        f"ORDER BY {_q('id')} DESC LIMIT {PAGE_SIZE} OFFSET {depth}"
        f") AS page ON p.{_q('id')} = page.{_q('id')} ORDER BY p.{_q('id')} DESC"
    )


def keyset_sql() -> str:
    columns = ", ".join(_q(c) for c in COLUMNS)
    return (
        f"SELECT {columns} FROM {_q(Post._meta.db_table)}{_hint()} "  # noqa: S608
        f"WHERE {_q('member_id')} = %s AND {_q('id')} < %s "
        f"ORDER BY {_q('id')} DESC LIMIT {PAGE_SIZE}"
    )


def last_seen_id(member_id: int, depth: int) -> int:
    """The id a reader at ``depth`` last saw: the cursor keyset pages from (not timed)."""
    table = _q(Post._meta.db_table)
    sql = (
        f"SELECT {_q('id')} FROM {table}{_hint()} WHERE {_q('member_id')} = %s "  # noqa: S608
        f"ORDER BY {_q('id')} DESC LIMIT 1 OFFSET {depth - 1}"
    )
    return run_query(sql, [member_id])[0][0]


@dataclass(frozen=True)
class Page:
    depth: int
    method: str
    median_ms: float
    plan: str
    ids: list[int]
    same: bool  # the same ids as OFFSET


METHODS = ("OFFSET", "OFFSET, deferred join (covering index)", "keyset")


def _plan(sql: str, params: list) -> str:
    if connection.vendor == "mysql":
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN {sql}", params)
            columns = [c[0].lower() for c in cursor.description]
            rows = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
        return "; ".join(
            f"{r['table']}: {r['type']} {r['key'] or '-'} rows={r['rows']}"
            + (f" ({r['extra']})" if r["extra"] else "")
            for r in rows
        )
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        return "; ".join(str(row[-1]) for row in cursor.fetchall())


def measure_pages(
    *, member_id: int, depths: list[int], repeat: int, on_step: Callable[[str], None] | None = None
) -> list[Page]:
    """Each method at each depth the member's posts reach."""
    total = posts.post_count(member_id=member_id)
    results: list[Page] = []
    for depth in depths:
        if depth + PAGE_SIZE > total:
            continue
        if on_step:
            on_step(f"paging at depth {depth:,} ...")
        cursor = last_seen_id(member_id, depth)
        queries = [
            (offset_sql(depth), [member_id]),
            (deferred_sql(depth), [member_id]),
            (keyset_sql(), [member_id, cursor]),
        ]
        expected: list[int] | None = None
        for method, (sql, params) in zip(METHODS, queries, strict=True):
            run_query(sql, params)  # warm-up
            median, rows = time_query(sql, params, repeat)
            ids = [row[0] for row in rows]
            expected = ids if expected is None else expected
            results.append(Page(depth, method, median, _plan(sql, params), ids, ids == expected))
    return results


@dataclass(frozen=True)
class Count:
    method: str
    value: int | None  # None: this database keeps no such number
    exact: int
    median_ms: float | None
    note: str = ""

    @property
    def error(self) -> float | None:
        if self.value is None or not self.exact:
            return None
        return (self.value - self.exact) / self.exact


def _estimate(member_id: int) -> tuple[int | None, str]:
    table = Post._meta.db_table
    if connection.vendor == "mysql":
        sql = f"SELECT COUNT(*) FROM {_q(table)} WHERE {_q('member_id')} = %s"  # noqa: S608
        return int(explain(sql, [member_id]).rows), "EXPLAIN's rows"
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE name = 'sqlite_stat1'")
        if not cursor.fetchone():
            return None, "SQLite keeps no estimate until ANALYZE has run"
        cursor.execute(
            "SELECT stat FROM sqlite_stat1 WHERE tbl = %s AND idx = %s",
            [table, MEMBER_TIMELINE_INDEX],
        )
        row = cursor.fetchone()
    if not row:
        return None, "no ANALYZE statistics for this index"
    return int(row[0].split()[1]), "sqlite_stat1: the average rows per member, not this one's"


def measure_counts(*, member_id: int, repeat: int) -> list[Count]:
    """The member's post count three ways: exact, from the count table, estimated."""
    table = _q(Post._meta.db_table)
    count_sql = f"SELECT COUNT(*) FROM {table} WHERE {_q('member_id')} = %s"  # noqa: S608
    run_query(count_sql, [member_id])
    exact_ms, rows = time_query(count_sql, [member_id], repeat)
    exact = int(rows[0][0])
    table_sql = (
        f"SELECT SUM({_q('count')}) FROM {_q(DailyPostCount._meta.db_table)} "  # noqa: S608
        f"WHERE {_q('member_id')} = %s"
    )
    table_ms, rows = time_query(table_sql, [member_id], repeat)
    estimate_ms, _ = time_query(
        f"EXPLAIN {count_sql}" if connection.vendor == "mysql" else "SELECT 1",
        [member_id] if connection.vendor == "mysql" else [],
        repeat,
    )
    estimate, note = _estimate(member_id)
    return [
        Count("COUNT(*) over (member_id, id)", exact, exact, exact_ms),
        Count(
            "the count table (DailyPostCount, one row a day)",
            int(rows[0][0] or 0),
            exact,
            table_ms,
            "posts.services.post_count",
        ),
        Count(
            "the optimizer's estimate",
            estimate,
            exact,
            estimate_ms if estimate is not None else None,
            note,
        ),
    ]
