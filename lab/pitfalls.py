"""The study notes' index pitfalls, each on the posts table: the plan and the time, before
and after the fix (``index_lab --pitfalls``).

1. **A function on the indexed column** (``DATE(created_at) = day``): the index is
   sorted by ``created_at``, not by its date, so it can only be read whole; a range
   on the column itself seeks.
2. **A type mismatch** (the indexed string ``contents`` compared with a number):
   MySQL/MariaDB convert every row's string to a number to compare, so the index
   cannot seek; the same value as a string can. SQLite converts the number to text
   once (the column's affinity), so there the index still serves.
3. **A composite index without its leading column** (``(member_id, created_date)``
   asked for ``created_date`` alone): the entries are sorted by member first, so a
   day's entries are scattered through the whole index; an index that leads with
   ``created_date`` seeks.
4. **One index per query**: ``member_id = ? OR created_date = ?`` cannot be answered
   from one index. Without index merge it is a full scan; index merge reads both
   indexes and unites the ids; a ``UNION`` of two queries does the same by hand,
   each half on its own index. (SQLite merges by itself, "MULTI-INDEX OR": its
   "no index" row is forced with ``NOT INDEXED``.)

The indexes the schema lacks are created for the run and dropped afterwards,
and so are the few posts whose contents are a number. Every variant of a
pitfall must count the same posts. Like the index lab, it reads the posts
table and its index names directly: measuring them is the point.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db import connection

from lab import index_lab
from lab.index_lab import _q
from posts import services as posts
from posts.models import DailyPostCount, Post

CREATED_AT_INDEX = "post_lab_created_at"
CONTENTS_INDEX = "post_lab_contents"
NUMBER = 20250301  # the contents of the few posts the type pitfall looks for
NUMBER_POSTS = 10


@dataclass(frozen=True)
class Variant:
    name: str
    sql: str
    params: list
    fixed: bool  # the "after" side of the pitfall
    # MariaDB's index merge switched off for this variant (the notes' default answer).
    no_index_merge: bool = False


@dataclass(frozen=True)
class Pitfall:
    key: str
    title: str
    variants: list[Variant]
    sqlite_note: str = ""


@dataclass
class Timed:
    pitfall: str
    variant: str
    fixed: bool
    plan: list[index_lab.Plan]
    median_ms: float
    count: int
    sql: str = field(repr=False, default="")


def _mysql() -> bool:
    return connection.vendor == "mysql"


def lab_indexes() -> list[tuple[str, str]]:
    contents = f"{_q('contents')}(32)" if _mysql() else _q("contents")
    return [
        (index_lab.LAB_INDEX, _q("created_date")),
        (CREATED_AT_INDEX, _q("created_at")),
        (CONTENTS_INDEX, contents),
    ]


@dataclass(frozen=True)
class Data:
    day: date  # a day in the middle of the posts
    member_id: int  # a member with few posts, for the OR


def pick_data(*, member_id: int) -> Data:
    """The middle day of ``member_id``'s posts; the member with the fewest posts for the OR."""
    days = DailyPostCount.objects.filter(member_id=member_id).order_by("date")
    total = days.count()
    if not total:
        raise ValueError(f"member {member_id} has no posts")
    day = days.values_list("date", flat=True)[total // 2]
    per_member = {}
    for member, count in DailyPostCount.objects.values_list("member_id", "count").iterator():
        per_member[member] = per_member.get(member, 0) + count
    fewest = min(per_member, key=lambda m: (per_member[m], m))
    return Data(day, fewest)


def pitfalls(data: Data) -> list[Pitfall]:
    table = _q(Post._meta.db_table)
    day = data.day.isoformat()
    start = datetime.combine(data.day, datetime.min.time())
    utc_range = [f"{start:%Y-%m-%d %H:%M:%S}", f"{start + timedelta(days=1):%Y-%m-%d %H:%M:%S}"]
    count = f"SELECT COUNT(*) FROM {table}"  # noqa: S608
    ignore_day = f" IGNORE INDEX ({_q(index_lab.LAB_INDEX)})" if _mysql() else ""
    composite = "" if _mysql() else f" INDEXED BY {_q(index_lab.COMPOSITE_INDEX)}"
    or_where = f" WHERE {_q('member_id')} = %s OR {_q('created_date')} = %s"
    if _mysql():
        merge = f" FORCE INDEX ({_q(index_lab.MEMBER_INDEX)}, {_q(index_lab.LAB_INDEX)})"
        no_index = ""
    else:
        merge, no_index = "", " NOT INDEXED"
    union = (
        f"SELECT COUNT(*) FROM (SELECT {_q('id')} FROM {table} WHERE {_q('member_id')} = %s "  # noqa: S608
        f"UNION SELECT {_q('id')} FROM {table} WHERE {_q('created_date')} = %s) AS u"
    )
    return [
        Pitfall(
            "function",
            "a function on the indexed column (created_at)",
            [
                Variant(
                    "DATE(created_at) = day",
                    f"{count} WHERE DATE({_q('created_at')}) = %s",
                    [day],
                    False,
                ),
                Variant(
                    "created_at >= day AND < next day",
                    f"{count} WHERE {_q('created_at')} >= %s AND {_q('created_at')} < %s",
                    utc_range,
                    True,
                ),
            ],
        ),
        Pitfall(
            "type",
            "a type mismatch (the string column contents against a number)",
            [
                Variant(
                    f"contents = {NUMBER} (a number)",
                    f"{count} WHERE {_q('contents')} = %s",
                    [NUMBER],
                    False,
                ),
                Variant(
                    f"contents = '{NUMBER}' (a string)",
                    f"{count} WHERE {_q('contents')} = %s",
                    [str(NUMBER)],
                    True,
                ),
            ],
            "SQLite converts the number to text once (the column's TEXT affinity), so its "
            "index serves both: the pitfall is MySQL's, which converts every row instead.",
        ),
        Pitfall(
            "leading",
            "a composite index without its leading column",
            [
                Variant(
                    "(member_id, created_date) for created_date alone",
                    f"{count}{ignore_day}{composite} WHERE {_q('created_date')} = %s",
                    [day],
                    False,
                ),
                Variant(
                    "an index that leads with created_date",
                    f"{count} WHERE {_q('created_date')} = %s",
                    [day],
                    True,
                ),
            ],
        ),
        Pitfall(
            "or",
            "one index per query: member_id = ? OR created_date = ?",
            [
                Variant(
                    "no index merge",
                    f"{count}{no_index}{or_where}",
                    [data.member_id, day],
                    False,
                    no_index_merge=True,
                ),
                Variant("index merge", f"{count}{merge}{or_where}", [data.member_id, day], True),
                Variant("UNION of two indexed queries", union, [data.member_id, day], True),
            ],
            "SQLite merges the two indexes by itself (MULTI-INDEX OR); its first row is "
            "forced onto the table with NOT INDEXED.",
        ),
    ]


@contextmanager
def _index_merge(on: bool) -> Iterator[None]:
    if not _mysql() or on:
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT @@SESSION.optimizer_switch")
        (saved,) = cursor.fetchone()
        cursor.execute("SET SESSION optimizer_switch = 'index_merge=off'")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET SESSION optimizer_switch = %s", [saved])


def explain_all(sql: str, params: list) -> list[index_lab.Plan]:
    """Every line of the plan: one per table read on MySQL, one per step on SQLite."""
    with connection.cursor() as cursor:
        if _mysql():
            cursor.execute(f"EXPLAIN {sql}", params)
            columns = [c[0].lower() for c in cursor.description]
            rows = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
            return [
                index_lab.Plan(
                    str(r["type"]), str(r["key"] or "-"), str(r["rows"]), r["extra"] or ""
                )
                for r in rows
            ]
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        return [
            index_lab.Plan(str(row[-1]).split(" ", 1)[0], "-", "-", str(row[-1]))
            for row in cursor.fetchall()
        ]


def plan_summary(plan: list[index_lab.Plan]) -> str:
    if _mysql():
        return "; ".join(
            f"{p.access} {p.key} rows={p.rows}" + (f" ({p.extra})" if p.extra else "") for p in plan
        )
    return "; ".join(p.extra for p in plan)


@contextmanager
def prepared(*, member_id: int, on_step: Callable[[str], None] | None = None) -> Iterator[list]:
    """The lab's indexes and its numeric posts for a run; gone again afterwards."""
    made, notes, ids = [], [], []
    try:
        for name, columns in lab_indexes():
            seconds = index_lab.create_index(name, columns)
            if seconds is not None:
                made.append(name)
                notes.append(f"created {name} ({columns}) in {seconds:.2f} s")
                if on_step:
                    on_step(notes[-1])
        for _ in range(NUMBER_POSTS):
            ids.append(posts.post_write(member_id=member_id, contents=str(NUMBER)).pk)
        yield notes
    finally:
        if ids:
            posts.posts_delete(post_ids=ids)
        for name in made:
            index_lab.drop_index(name)


def measure(
    *, member_id: int, repeat: int, on_step: Callable[[str], None] | None = None
) -> tuple[list[Timed], list[str], Data]:
    """Every variant of every pitfall, timed (median of ``repeat`` after one warm-up)."""
    results: list[Timed] = []
    with prepared(member_id=member_id, on_step=on_step) as notes:
        data = pick_data(member_id=member_id)
        for pitfall in pitfalls(data):
            for variant in pitfall.variants:
                if on_step:
                    on_step(f"{pitfall.title}: {variant.name} ...")
                with _index_merge(not variant.no_index_merge):
                    plan = explain_all(variant.sql, variant.params)
                    index_lab.run_query(variant.sql, variant.params)  # warm-up
                    median, rows = index_lab.time_query(variant.sql, variant.params, repeat)
                results.append(
                    Timed(
                        pitfall.key,
                        variant.name,
                        variant.fixed,
                        plan,
                        median,
                        int(rows[0][0]),
                        variant.sql,
                    )
                )
    return results, notes, data


def disagreements(results: list[Timed]) -> list[str]:
    by_pitfall: dict[str, set[int]] = {}
    for r in results:
        by_pitfall.setdefault(r.pitfall, set()).add(r.count)
    return [key for key, counts in by_pitfall.items() if len(counts) > 1]
