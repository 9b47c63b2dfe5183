"""Database helpers every domain shares: retrying lost lock conflicts, counters by upsert,
reads compiled once.

Counters (posts per day, follows per member, likes per post) are kept by adding
deltas in the database (``count = count + delta``), never by reading a value into
Python and writing it back, so concurrent writers cannot lose an update.
"""

from __future__ import annotations

import functools
import itertools
import logging
import threading
import time
from collections.abc import Callable, Hashable, Sequence
from typing import ParamSpec, TypeVar

from django.db import OperationalError, connection, connections, models, router

logger = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")

# MySQL/MariaDB: 1213 deadlock, 1205 lock wait timeout. SQLite: "database is locked".
RETRYABLE_MYSQL_ERRORS = {1205, 1213}
ATTEMPTS = 5


def is_lock_conflict(exc: OperationalError) -> bool:
    if connection.vendor == "mysql":
        return bool(exc.args) and exc.args[0] in RETRYABLE_MYSQL_ERRORS
    return "locked" in str(exc)


def retry_on_lock_conflict(func: Callable[P, R]) -> Callable[P, R]:
    """Run ``func`` (itself a transaction) again when it lost a lock conflict.

    Inside an outer transaction a retry cannot help (the outer one is already
    rolled back by the database), so the error is raised at once there.
    """

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        for attempt in range(1, ATTEMPTS + 1):
            try:
                return func(*args, **kwargs)
            except OperationalError as exc:
                if attempt == ATTEMPTS or connection.in_atomic_block or not is_lock_conflict(exc):
                    raise
                logger.info("%s: lock conflict (%s), attempt %d", func.__name__, exc, attempt)
                time.sleep(0.005 * 2**attempt)
        raise AssertionError("unreachable")

    return wrapper


def upsert_add(
    model: type[models.Model],
    *,
    keys: Sequence[str],
    counters: Sequence[str],
    rows: Sequence[Sequence[object]],
) -> None:
    """Add each row's deltas to its counters, inserting the row when its key is new.

    ``rows`` are ``(*key values, *counter deltas)`` in the order of ``keys`` then
    ``counters``; ``keys`` must be a unique constraint of ``model``. Rows of zeros
    are skipped. Rows that only
    add go in one statement, ``ON DUPLICATE KEY UPDATE`` (MySQL) or ``ON
    CONFLICT`` (SQLite); a row that takes away is an ``UPDATE`` of the existing row
    (a counter goes down only after it went up, and an inserted negative row would
    fail the tables' not-negative checks). Rows are sorted by key so concurrent
    callers lock in the same order.
    """
    ordered = sorted(rows, key=lambda row: tuple(row[: len(keys)]))
    adding = []
    for row in ordered:
        key_values, deltas = row[: len(keys)], row[len(keys) :]
        if not any(deltas):
            continue
        if all(delta >= 0 for delta in deltas):
            adding.append(row)
            continue
        changes = {c: models.F(c) + delta for c, delta in zip(counters, deltas, strict=True)}
        model._default_manager.filter(**dict(zip(keys, key_values, strict=True))).update(**changes)
    if not adding:
        return
    q = connection.ops.quote_name
    if connection.vendor == "mysql":
        updates = ", ".join(f"{q(c)} = {q(c)} + VALUES({q(c)})" for c in counters)
        on_conflict = f"ON DUPLICATE KEY UPDATE {updates}"
    else:
        updates = ", ".join(f"{q(c)} = {q(c)} + excluded.{q(c)}" for c in counters)
        on_conflict = f"ON CONFLICT ({', '.join(q(k) for k in keys)}) DO UPDATE SET {updates}"
    columns = [*keys, *counters]
    placeholders = "(" + ", ".join(["%s"] * len(columns)) + ")"
    sql = (
        f"INSERT INTO {q(model._meta.db_table)} ({', '.join(q(c) for c in columns)}) "  # noqa: S608
        f"VALUES {', '.join([placeholders] * len(adding))} {on_conflict}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [value for row in adding for value in row])


# --- reads compiled once ---------------------------------------------------------------

# Stand-ins for the arguments while a read is compiled: below any id, never a real value.
_STAND_INS_FROM = -(2**62)


class Prepared:
    """A read built and compiled once per process, then run with new arguments.

    Django builds and compiles a queryset anew on every call: for a one-line read
    of an index, that Python is most of the read's cost (about three times what
    the database and the driver take). ``Prepared(build)`` calls ``build`` once
    per shape of its arguments, with stand-in integers for the positional ones
    (a list stands for ``IN``: one compilation per length), keeps the SQL, and
    then runs it with the real values; keyword arguments are part of the shape
    (a ``LIMIT``). For reads of integer columns by integer arguments (ids), on the
    database the router picks for the model, as the queryset would. Returns the
    rows as tuples.
    """

    def __init__(self, build: Callable[..., models.QuerySet]):
        self._build = build
        self._compiled: dict[Hashable, tuple[str, list]] = {}
        self._model: type[models.Model] | None = None
        self._lock = threading.Lock()

    def __call__(self, *args: int | Sequence[int], **shape: Hashable) -> list[tuple]:
        if self._model is None:
            self._model = self._queryset(args, shape)[0].model
        using = router.db_for_read(self._model)
        lengths = tuple(len(a) if isinstance(a, (list, tuple)) else None for a in args)
        key = (connections[using].vendor, lengths, tuple(sorted(shape.items())))
        compiled = self._compiled.get(key)
        if compiled is None:
            with self._lock:
                compiled = self._compiled[key] = self._compile(args, shape, using)
        sql, plan = compiled
        params = []
        for source, value in plan:
            if source is None:
                params.append(value)  # a constant of the query itself
            else:
                i, j = source
                params.append(args[i] if j is None else args[i][j])
        with connections[using].cursor() as cursor:
            cursor.execute(sql, params)
            return list(cursor.fetchall())

    def _queryset(self, args, shape) -> tuple[models.QuerySet, dict]:
        numbers = itertools.count(_STAND_INS_FROM)
        where: dict[int, tuple[int, int | None]] = {}
        stand_ins = []
        for i, arg in enumerate(args):
            if isinstance(arg, (list, tuple)):
                values = [next(numbers) for _ in arg]
                where.update({v: (i, j) for j, v in enumerate(values)})
                stand_ins.append(values)
            else:
                value = next(numbers)
                where[value] = (i, None)
                stand_ins.append(value)
        return self._build(*stand_ins, **shape), where

    def _compile(self, args, shape, using: str) -> tuple[str, list]:
        queryset, where = self._queryset(args, shape)
        sql, params = queryset.query.get_compiler(using=using).as_sql()
        plan = [(where.get(p), p) if isinstance(p, int) else (None, p) for p in params]
        found = [source for source, _ in plan if source is not None]
        if sorted(found) != sorted(where.values()):
            raise ValueError(f"{self._build}: each argument must be a query parameter once")
        return sql, plan
