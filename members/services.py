"""The public face of the member domain.

Other apps call these functions and never touch ``members.models``. Writes run
in a transaction and validate with ``full_clean()`` before saving; bad input
raises ``ValidationError`` and writes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from members.models import Member, NicknameHistory, normalize_email


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
) -> Member:
    """Create a member and the first row of its nickname history.

    ``password=None`` gives an unusable password (the member cannot log in).
    """
    member = Member(
        email=email,
        nickname=nickname,
        birthdate=birthdate,
        is_staff=is_staff,
        is_superuser=is_superuser,
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
    return member


@transaction.atomic
def member_change_nickname(*, member_id: int, nickname: str) -> Member:
    """Give a member a new nickname and record it in the history.

    The member row is locked first, so concurrent changes to one member run one
    after the other and each lands in the history in the order it took effect.
    """
    member = Member.objects.select_for_update().get(pk=member_id)
    history = member.change_nickname(nickname, at=timezone.now())
    member.full_clean()
    member.save(update_fields=["nickname"])
    history.full_clean()
    history.save()
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
