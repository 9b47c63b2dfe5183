"""The public face of the member domain.

Other apps call these functions and never touch ``members.models``. Writes run
in a transaction and validate with ``full_clean()`` before saving; bad input
raises ``ValidationError`` and writes nothing.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from config.pagecache import public_pages_changed
from members import mail
from members.models import EARLIEST_BIRTHDATE, Member, NicknameHistory, normalize_email

SEED_EMAIL_DOMAIN = "seed.example"


@dataclass(frozen=True)
class PublicMember:
    """What other domains may know of a member: never the email."""

    id: int
    nickname: str


@transaction.atomic
def member_register(
    *,
    email: str,
    nickname: str,
    birthdate: date,
    password: str | None,
    is_staff: bool = False,
    is_superuser: bool = False,
    at: datetime | None = None,
) -> Member:
    """Create a member and the first row of its nickname history.

    ``password=None`` gives an unusable password (the member cannot log in).
    ``at`` backdates the sign-up (demo data); by default it is now. A sign-up
    happening now gets a welcome email, sent by the worker after the commit
    (``members.mail``); a backdated one (demo data) does not.
    """
    member = Member(
        email=email,
        nickname=nickname,
        birthdate=birthdate,
        is_staff=is_staff,
        is_superuser=is_superuser,
        joined_at=at or timezone.now(),
    )
    if password is None:
        member.set_unusable_password()
    else:
        member.set_password(password)
    member.full_clean()
    try:
        with transaction.atomic():
            member.save()
    except IntegrityError:
        # Another sign-up took the email between our check and our insert.
        if Member.objects.filter(email=member.email).exists():
            raise ValidationError(
                {"email": Member._meta.get_field("email").error_messages["unique"]}
            ) from None
        raise
    history = member.first_nickname()
    history.full_clean()
    history.save()
    if at is None:
        mail.welcome_mail_record(member=member)
    public_pages_changed()
    return member


@transaction.atomic
def member_change_nickname(*, member_id: int, nickname: str, at: datetime | None = None) -> Member:
    """Give a member a new nickname and record it in the history.

    The member row is locked first, so concurrent changes to one member run one
    after the other and each lands in the history in the order it took effect.
    ``at`` backdates the change (demo data); by default it is now.
    """
    member = Member.objects.select_for_update().get(pk=member_id)
    history = member.change_nickname(nickname, at=at or timezone.now())
    member.full_clean()
    member.save(update_fields=["nickname"])
    history.full_clean()
    history.save()
    public_pages_changed()  # every page that shows their posts shows the nickname
    return member


def member_get(*, member_id: int) -> Member | None:
    return Member.objects.filter(pk=member_id).first()


def member_nickname_history(*, member_id: int) -> list[NicknameHistory]:
    """Every nickname the member has had, newest first."""
    return list(NicknameHistory.objects.filter(member_id=member_id).order_by("-id"))


def member_public(*, member_id: int) -> PublicMember | None:
    row = Member.objects.filter(pk=member_id).values_list("id", "nickname").first()
    return PublicMember(*row) if row else None


def member_public_by_email(*, email: str) -> PublicMember | None:
    row = Member.objects.filter(email=normalize_email(email)).values_list("id", "nickname").first()
    return PublicMember(*row) if row else None


def members_public_by_ids(*, member_ids: Iterable[int]) -> dict[int, PublicMember]:
    """Members by id in one query, for pages that list other domains' rows."""
    rows = Member.objects.filter(pk__in=set(member_ids)).values_list("id", "nickname")
    return {member_id: PublicMember(member_id, nickname) for member_id, nickname in rows}


def member_ids_all() -> Iterator[int]:
    """Every member id, ascending, streamed (for commands that visit everyone)."""
    return Member.objects.order_by("id").values_list("id", flat=True).iterator(chunk_size=10_000)


def member_ids_latest(*, limit: int) -> list[int]:
    """The ids of the ``limit`` most recently joined members, ascending."""
    return sorted(Member.objects.order_by("-id").values_list("id", flat=True)[:limit])


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


def member_delete(*, member_id: int) -> None:
    """Delete a member with everything that refers to it (history, and by cascade their rows)."""
    members_delete(member_ids=[member_id])


def members_delete(*, member_ids: Iterable[int], chunk_size: int = 1_000) -> int:
    """Delete many members as ``member_delete`` does, a chunk per transaction; returns how many.

    Django's cascade deletes each related table's rows with one statement per
    chunk, so 100 000 seeded members go in a few hundred statements, not millions.
    """
    ids = sorted(set(member_ids))
    deleted = 0
    for start in range(0, len(ids), chunk_size):
        with transaction.atomic():
            _, per_model = Member.objects.filter(pk__in=ids[start : start + chunk_size]).delete()
        deleted += per_model.get(Member._meta.label, 0)
    return deleted
