"""Database helpers every domain shares: retrying lost lock conflicts, counters by upsert.

Counters (posts per day, follows per member, likes per post) are kept by adding
deltas in the database (``count = count + delta``), never by reading a value into
Python and writing it back, so concurrent writers cannot lose an update.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Sequence
from typing import ParamSpec, TypeVar

from django.db import OperationalError, connection, models

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
