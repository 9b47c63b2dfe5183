"""Bulk loading of members: many thousands a second, each with its first history row.

Like the rest of the lab, it writes the members tables directly (their models and
table names): bulk loading is what it measures, and the per-row ``save()`` of the
services is what it avoids.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, timedelta

from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from members.models import EARLIEST_BIRTHDATE, Member, NicknameHistory

SEED_EMAIL_DOMAIN = "seed.example"


def members_seed(
    *,
    count: int,
    seed: int = 1,
    chunk_size: int = 10_000,
    on_chunk: Callable[[int], None] | None = None,
) -> list[int]:
    """Bulk-load ``count`` members (and their first history rows); returns their ids.

    Rows go in with chunked ``executemany`` (multi-row INSERTs on MySQL), one
    transaction per chunk, never ``save()`` per row. Seeded members get an
    unusable password: hashing one is slow on purpose. Emails are
    ``member<k>.s<seed>@seed.example``, continuing after any earlier run with the
    same seed, and the same seed gives the same nicknames and birthdates.
    """
    if count <= 0:
        raise ValidationError({"count": "The count must be positive."})
    suffix = f".s{seed}@{SEED_EMAIL_DOMAIN}"
    first_k = Member.objects.filter(email__endswith=suffix).count() + 1
    rng = random.Random(f"{seed}:{first_k}")
    birth_span = (date(2015, 12, 31) - EARLIEST_BIRTHDATE).days
    joined_at = timezone.now()
    q = connection.ops.quote_name
    member_table, history_table = q(Member._meta.db_table), q(NicknameHistory._meta.db_table)
    columns = [
        "email",
        "nickname",
        "birthdate",
        "password",
        "joined_at",
        "is_active",
        "is_staff",
        "is_superuser",
    ]
    insert_members = (
        f"INSERT INTO {member_table} ({', '.join(q(c) for c in columns)}) "  # noqa: S608
        f"VALUES ({', '.join(['%s'] * len(columns))})"
    )
    # The history rows copy what was just inserted: no ids travel back to Python.
    insert_history = (
        f"INSERT INTO {history_table} ({q('member_id')}, {q('nickname')}, {q('changed_at')}) "  # noqa: S608
        f"SELECT {q('id')}, {q('nickname')}, {q('joined_at')} FROM {member_table} "
        f"WHERE {q('id')} > %s AND {q('email')} LIKE %s"
    )
    joined = connection.ops.adapt_datetimefield_value(joined_at)
    password = UNUSABLE_PASSWORD_PREFIX + "seeded"
    ids: list[int] = []
    for start in range(0, count, chunk_size):
        ks = range(first_k + start, first_k + min(start + chunk_size, count))
        rows = [
            (
                f"member{k}{suffix}",
                f"m{rng.randrange(36**6):06x}"[:10],
                EARLIEST_BIRTHDATE + timedelta(days=rng.randrange(birth_span)),
                password,
                joined,
                True,
                False,
                False,
            )
            for k in ks
        ]
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"SELECT COALESCE(MAX({q('id')}), 0) FROM {member_table}")  # noqa: S608
            (max_id,) = cursor.fetchone()
            cursor.executemany(insert_members, rows)
            cursor.execute(insert_history, [max_id, f"%{suffix}"])
            cursor.execute(
                f"SELECT {q('id')} FROM {member_table} WHERE {q('id')} > %s "  # noqa: S608
                f"AND {q('email')} LIKE %s ORDER BY {q('id')}",
                [max_id, f"%{suffix}"],
            )
            ids += [row[0] for row in cursor.fetchall()]
        if on_chunk:
            on_chunk(len(rows))
    return ids
