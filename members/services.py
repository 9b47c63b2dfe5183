"""The public face of the member domain.

Other apps call these functions and never touch ``members.models``. Writes run
in a transaction and validate with ``full_clean()`` before saving; bad input
raises ``ValidationError`` and writes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime

from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core import outbox
from core.cache import reads_fresh, stamped_get_or_set, writer_key
from core.exceptions import NotFound
from core.web.dbrouter import reading_primary
from core.web.pagecache import member_scope, pages_changed
from members import mail
from members.models import Member, MemberRemoval, NicknameHistory, normalize_email


class MemberNotFound(NotFound):
    message = _("No such member.")


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
    """Sign a member up: the member and its first history row, and its welcome email.

    ``password=None`` gives an unusable password (the member cannot log in).
    ``at`` backdates the sign-up (demo data); by default it is now. A sign-up
    happening now gets a welcome email, sent by the worker after the commit
    (``members.mail``); a backdated one (demo data) does not.
    """
    member = Member.objects.create_member(
        email=email,
        nickname=nickname,
        birthdate=birthdate,
        password=password,
        is_staff=is_staff,
        is_superuser=is_superuser,
        joined_at=at,
    )
    if at is None:
        mail.welcome_mail_record(member=member)
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
    pages_changed(members=[member_id], nicknames=True)
    return member


def member_get(*, member_id: int) -> Member | None:
    return Member.objects.filter(pk=member_id).first()


def member_nickname_history(*, member_id: int) -> list[NicknameHistory]:
    """Every nickname the member has had, newest first."""
    return list(NicknameHistory.objects.filter(member_id=member_id).order_by("-id"))


def member_nickname_history_shown(*, member_id: int) -> list[NicknameHistory]:
    """``member_nickname_history`` for the member's own page, kept in the shared cache
    until their pages' stamp changes (a nickname change bumps it), PAGE_CACHE_SECONDS
    at most (the bound for the admin's edits); read afresh right after they wrote."""
    if reads_fresh(member_id):
        return member_nickname_history(member_id=member_id)

    def read() -> list[NicknameHistory]:
        with reading_primary():  # what is kept must not come from a replica behind
            return member_nickname_history(member_id=member_id)

    key = f"members:history:{member_id}"
    return stamped_get_or_set(
        key, [member_scope(member_id)], read, timeout=settings.PAGE_CACHE_SECONDS
    )


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


# --- sessions and passwords ---------------------------------------------------------


@transaction.atomic
def member_end_sessions(*, member_id: int) -> Member:
    """Log the member out everywhere: every session of theirs ends on its next request."""
    member = Member.objects.select_for_update().get(pk=member_id)
    member.end_sessions()
    member.save(update_fields=["session_generation"])
    return member


@transaction.atomic
def member_password_reset_request(*, email: str, site: str) -> bool:
    """Mail a link for a new password to the member with this email, if there is one who
    may have it (active, with a password); True when a mail was recorded.

    The page that calls this answers the same either way: whether an address
    belongs to a member is no visitor's business.
    """
    member = Member.objects.filter(email=normalize_email(email), is_active=True).first()
    if member is None or not member.has_usable_password():
        return False
    mail.reset_mail_record(member=member, site=site)
    return True


# --- leaving -------------------------------------------------------------------------


@transaction.atomic
def member_delete_request(*, member_id: int) -> MemberRemoval:
    """Close the member's account now and have the worker delete it with everything of theirs.

    From the commit on the member can neither log in nor use a session (closed:
    inactive, every session ended); the worker then removes their posts, likes,
    follows, feed and history, keeping every count right, and the member row last
    (``social.usecases.member_remove``). Raises MemberNotFound. Asking twice is
    one removal.
    """
    member = Member.objects.select_for_update().filter(pk=member_id).first()
    if member is None:
        raise MemberNotFound(member_id)
    member.close()
    member.save(update_fields=["is_active", "session_generation"])
    removal = MemberRemoval.objects.filter(member_id=member_id, done_at=None).first()
    if removal is None:
        removal = MemberRemoval.objects.create(member_id=member_id)
    outbox.outbox_enqueue(removal)
    return removal


def member_removal_pending(*, removal_id: int) -> int | None:
    """The member a removal not done yet is for (None: done, or no such removal)."""
    return (
        MemberRemoval.objects.filter(pk=removal_id, done_at=None)
        .values_list("member_id", flat=True)
        .first()
    )


def member_removal_done(*, removal_id: int) -> None:
    outbox.outbox_done(MemberRemoval, removal_id)


def member_lock(*, member_id: int) -> bool:
    """Lock the member's row until the transaction ends; False when there is none.

    Inside it nothing can refer to the member anew (a follow's foreign key waits on
    the lock and then finds the member gone).
    """
    locked = Member.objects.select_for_update().filter(pk=member_id).values_list("pk").first()
    return locked is not None


def member_delete(*, member_id: int) -> None:
    """Delete the member row with what refers to it (history, and by cascade their rows).

    Counts in other domains are not kept: a member leaves through
    ``member_delete_request``; this is the removal's last step and the measuring
    tools' bulk delete.
    """
    members_delete(member_ids=[member_id])


def members_delete(*, member_ids: Iterable[int], chunk_size: int = 1_000) -> int:
    """Delete many members as ``member_delete`` does, a chunk per transaction; returns how many.

    Django's cascade deletes each related table's rows with one statement per
    chunk, so 100 000 seeded members go in a few hundred statements, not millions.
    For the measuring tools' seeded members: other members' counts are not kept.
    """
    ids = sorted(set(member_ids))
    deleted = 0
    for start in range(0, len(ids), chunk_size):
        with transaction.atomic():
            _, per_model = Member.objects.filter(pk__in=ids[start : start + chunk_size]).delete()
            # Their posts, likes and follows went by cascade, from many members' pages.
            pages_changed(members=ids[start : start + chunk_size], everything=True)
        deleted += per_model.get(Member._meta.label, 0)
    return deleted


# --- the logged-in member, without a query a request ------------------------------------

# Everything of the row but the password (the cache is not where password hashes
# should travel), with the session hash Django checks on every request.
SESSION_FIELDS = tuple(f.attname for f in Member._meta.concrete_fields if f.attname != "password")


def _session_key(member_id: int) -> str:
    return f"member:session:{member_id}"


def member_for_session(*, member_id: int) -> Member | None:
    """The member a session belongs to: from the shared cache, else read from the primary.

    The copy lives SESSION_CACHE_SECONDS at most and goes when the member's row is
    saved or deleted (``_forget_member``). Right after the member wrote, and
    while the cache fails, it is read from the database every time
    (``core.cache.reads_fresh``). A member read from the copy has no password
    loaded: reading it (a password change) fetches it.
    """
    key, wrote = _session_key(member_id), writer_key(member_id)
    found = cache.get_many([key, wrote])
    kept = found.get(key)
    if kept is not None and not reads_fresh(member_id, marker=found.get(wrote), known=True):
        member = Member.from_db(DEFAULT_DB_ALIAS, SESSION_FIELDS, kept[0])
        member._session_auth_hash = kept[1]
        return member
    # The primary: a replica a moment behind would put an old row in the copy.
    member = Member.objects.using(DEFAULT_DB_ALIAS).filter(pk=member_id).first()
    if member is not None and settings.SESSION_CACHE_SECONDS > 0:
        values = tuple(getattr(member, name) for name in SESSION_FIELDS)
        cache.set(key, (values, member.get_session_auth_hash()), settings.SESSION_CACHE_SECONDS)
    return member


@receiver(post_save, sender=Member, dispatch_uid="members.forget_member_saved")
@receiver(post_delete, sender=Member, dispatch_uid="members.forget_member_deleted")
def _forget_member(sender, instance: Member, **kwargs) -> None:
    """Any change to a member's row (the admin's too) drops their session copy: now, and
    again after the commit, in case a request read the old row meanwhile."""
    key = _session_key(instance.pk)
    cache.delete(key)
    transaction.on_commit(lambda: cache.delete(key))
