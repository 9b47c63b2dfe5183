"""The study notes' index experiment, on the current database.

The calendar query of the notes,

    SELECT created_date, member_id, COUNT(id) FROM posts_post
    WHERE member_id = ? AND created_date BETWEEN ? AND ?
    GROUP BY member_id, created_date

is forced through one access path at a time with literal SQL hints (Django's
``explain()`` carries none): ``USE INDEX ()`` / ``FORCE INDEX (...)`` on
MySQL/MariaDB, ``NOT INDEXED`` / ``INDEXED BY ...`` on SQLite. Each path gets
its plan and its median time; the results must agree.

It reads the posts tables and index names directly: measuring them is the
point, and the lab's exception to going through services.
"""

from __future__ import annotations

import re
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from django.db import connection

from posts.models import DailyPostCount, Post

LAB_INDEX = "post_lab_created_date"  # created for a run when missing
MEMBER_INDEX = "post_member_id"  # (member_id, id): a member_id index (InnoDB appends the PK anyway)
COMPOSITE_INDEX = "post_member_created_date"
DAILY_INDEX = "daily_post_count_member_date"


@dataclass(frozen=True)
class AccessPath:
    name: str
    index: str | None  # None: no index at all
    table: str  # "post" or "daily"


PATHS = [
    AccessPath("no index (full scan)", None, "post"),
    AccessPath("member_id", MEMBER_INDEX, "post"),
    AccessPath("created_date", LAB_INDEX, "post"),
    AccessPath("(member_id, created_date)", COMPOSITE_INDEX, "post"),
    AccessPath("DailyPostCount", DAILY_INDEX, "daily"),
]


@dataclass(frozen=True)
class Plan:
    access: str
    key: str
    rows: str
    extra: str  # MySQL's Extra ("Using index" = covering), SQLite's plan detail


@dataclass(frozen=True)
class Measurement:
    path: AccessPath
    plan: Plan
    median_ms: float
    counts: dict[str, int]  # day -> posts, to check that every path agrees


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _hint(index: str | None) -> str:
    if connection.vendor == "mysql":
        return "USE INDEX ()" if index is None else f"FORCE INDEX ({_q(index)})"
    return "NOT INDEXED" if index is None else f"INDEXED BY {_q(index)}"


def path_sql(path: AccessPath) -> str:
    """The literal SQL for one access path; parameters: member_id, start, end."""
    if path.table == "daily":
        # SQLite names the unique constraint's index itself (sqlite_autoindex_...);
        # its planner takes it without a hint.
        hint = _hint(path.index) if connection.vendor == "mysql" else ""
        return (
            f"SELECT {_q('date')}, {_q('member_id')}, {_q('count')} "  # noqa: S608
            f"FROM {_q(DailyPostCount._meta.db_table)} {hint} "
            f"WHERE {_q('member_id')} = %s AND {_q('date')} BETWEEN %s AND %s"
        )
    return (
        f"SELECT {_q('created_date')}, {_q('member_id')}, COUNT({_q('id')}) AS n "  # noqa: S608
        f"FROM {_q(Post._meta.db_table)} {_hint(path.index)} "
        f"WHERE {_q('member_id')} = %s AND {_q('created_date')} BETWEEN %s AND %s "
        f"GROUP BY {_q('member_id')}, {_q('created_date')}"
    )


def explain(sql: str, params: list) -> Plan:
    with connection.cursor() as cursor:
        if connection.vendor == "mysql":
            cursor.execute(f"EXPLAIN {sql}", params)
            columns = [c[0].lower() for c in cursor.description]
            row = dict(zip(columns, cursor.fetchone(), strict=True))
            cursor.fetchall()
            return Plan(
                str(row["type"]), str(row["key"] or "-"), str(row["rows"]), row["extra"] or ""
            )
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        details = [str(row[-1]) for row in cursor.fetchall()]
    found = re.search(r"INDEX (\w+)|(PRIMARY KEY)", details[0])
    key = (found[1] or "PRIMARY") if found else "-"
    return Plan(details[0].split(" ", 1)[0], key, "-", "; ".join(details[1:]))


def run_query(sql: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def time_query(sql: str, params: list, repeat: int) -> tuple[float, list[tuple]]:
    """Median milliseconds over ``repeat`` runs, and the rows of the last run."""
    timings, rows = [], []
    for _ in range(repeat):
        began = time.perf_counter()
        rows = run_query(sql, params)
        timings.append((time.perf_counter() - began) * 1000)
    return statistics.median(timings), rows


def index_exists(name: str) -> bool:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, Post._meta.db_table)
    return name in constraints


def create_index(name: str, columns: str) -> float | None:
    """``CREATE INDEX name ON posts_post (columns)`` if missing; seconds it took, or None."""
    if index_exists(name):
        return None
    began = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE INDEX {_q(name)} ON {_q(Post._meta.db_table)} ({columns})")
    return time.perf_counter() - began


def drop_index(name: str) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "mysql":
            cursor.execute(f"DROP INDEX {_q(name)} ON {_q(Post._meta.db_table)}")
        else:
            cursor.execute(f"DROP INDEX {_q(name)}")


def create_lab_index() -> float | None:
    """Create the single-column created_date index if missing; seconds it took, or None."""
    return create_index(LAB_INDEX, _q("created_date"))


def drop_lab_index() -> None:
    drop_index(LAB_INDEX)


def measure(
    *,
    member_id: int,
    start: date,
    end: date,
    repeat: int,
    on_path: Callable[[AccessPath], None] | None = None,
) -> list[Measurement]:
    """Run the calendar query through every access path (the lab index must exist)."""
    params = [member_id, start.isoformat(), end.isoformat()]
    results = []
    for path in PATHS:
        if on_path:
            on_path(path)
        sql = path_sql(path)
        median_ms, rows = time_query(sql, params, repeat)
        counts = {str(day): int(n) for day, _member, n in rows}
        results.append(Measurement(path, explain(sql, params), median_ms, counts))
    return results
