"""Email to members (the welcome at sign-up, a password reset link): recorded in the
transaction that asks for it, sent by the worker, never lost or sent twice.

A row of the transactional outbox (``core.outbox``, as the feed fan-out is): an
``OutboundMail`` in the asking transaction, queued for ``members.tasks.send_mail``
after the commit, queued again by the sweep while it is not done. Every kind of
mail takes this one way, so one pace keeps the provider under its limit: Celery's
rate limit spreads each worker's sends, and a send slot in the shared cache
(``MAIL_PROVIDER_RATE``) keeps every worker's together under the provider's rate at the
moment they reach it. The worker sends a mail only while its row is not done, and every
mail carries a Message-ID derived from its row, so a provider that already
accepted it (the worker died between the provider's "250" and marking the row)
can tell.
"""

from __future__ import annotations

import logging
import math
import smtplib
import time
from email.utils import parseaddr

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.cache import cache
from django.core.mail import EmailMessage, get_connection
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from core import outbox
from members.models import Member, OutboundMail

logger = logging.getLogger(__name__)


# A send slot further ahead than this is not waited for: the mail is retried instead.
SLOT_HORIZON_SECONDS = 5.0


class MailDeferred(Exception):
    """The provider or the network said "not now" (4xx, refused, timed out): try again."""


# --- recording ------------------------------------------------------------------------


def welcome_mail_record(*, member: Member) -> OutboundMail:
    """Record a member's welcome email and queue it after the commit (call inside the
    sign-up's transaction). In the language the sign-up ran in (the request's), else English."""
    return _record(member=member, kind=OutboundMail.Kind.WELCOME)


def reset_mail_record(*, member: Member, site: str) -> OutboundMail:
    """Record a password reset mail whose link points at ``site`` (``https://host``)."""
    return _record(member=member, kind=OutboundMail.Kind.PASSWORD_RESET, site=site)


def _record(*, member: Member, kind: str, site: str = "") -> OutboundMail:
    mail = OutboundMail(member=member, kind=kind, to=member.email, language=_language(), site=site)
    mail.full_clean()
    mail.save()
    outbox.outbox_enqueue(mail)
    return mail


def _language() -> str:
    try:
        return translation.get_supported_language_variant(translation.get_language() or "")
    except LookupError:
        return settings.LANGUAGE_CODE


# --- sending (the worker) --------------------------------------------------------------


def message_id(mail: OutboundMail) -> str:
    """The same for every attempt at one mail, and unlike any other mail's.

    The creation time is in it so that a database started afresh (ids from 1
    again) does not reuse the ids a provider has already seen.
    """
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "localhost"
    return f"<{mail.kind}-{mail.pk}.{mail.created_at:%Y%m%d%H%M%S}@{domain}>"


def mail_deliver(*, mail_id: int) -> bool:
    """Send one email unless it has been sent; True when it went out now.

    Raises MailDeferred when the provider or the network says "not now" (the task
    retries). A recipient refused for good (5xx) is marked failed and logged. Any
    other refusal (say, a 5xx to our own sender: a configuration error) raises
    and the mail stays pending for the sweeper.
    """
    mail = OutboundMail.objects.select_related("member").filter(pk=mail_id, done_at=None).first()
    if mail is None:
        return False  # sent already, failed for good, or its member was deleted
    if mail.kind == OutboundMail.Kind.PASSWORD_RESET and not _may_reset(mail.member):
        outbox.outbox_done(OutboundMail, mail.pk)  # closed, or no password to reset, since
        return False
    message = _message(mail)
    try:
        # Connected before the slot, so what lies between the slot and the provider's
        # count is the message's own round trips, not a connection's set-up.
        with get_connection() as connection:
            send_slot_wait()
            connection.send_messages([message])
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        if any(_temporary(code) for code in codes):
            raise MailDeferred(f"recipient deferred: {exc.recipients}") from exc
        outbox.outbox_done(OutboundMail, mail.pk, failed_at=timezone.now())
        logger.error("%s email %s to %s refused for good: %s", mail.kind, mail.pk, mail.to, codes)
        return False
    except smtplib.SMTPResponseException as exc:
        if _temporary(exc.smtp_code):
            raise MailDeferred(f"{exc.smtp_code} {exc.smtp_error!r}") from exc
        raise
    except OSError as exc:  # refused, reset or timed out; smtplib's disconnects too
        raise MailDeferred(str(exc)) from exc
    outbox.outbox_done(OutboundMail, mail.pk)
    return True


def send_slot_wait() -> None:
    """Wait for a send slot that no other process holds (``MAIL_PROVIDER_RATE`` a second).

    Celery's rate limit holds per worker and where a task starts, so two workers, or
    one whose sends are delayed unevenly, can put more into one of the provider's
    seconds than it takes. Here time is cut into slots of 1/rate seconds: a send claims
    the first free slot from now with an atomic add in the shared cache and waits for
    its start, so any two sends, whoever makes them, are a slot apart. A cache that
    cannot be reached claims nothing, and the mail is retried rather than sent unpaced.
    Every process must share the cache (Redis) and a clock (one machine, or NTP).
    """
    rate = settings.MAIL_PROVIDER_RATE
    if not rate:
        return
    interval = 1 / rate
    first = math.ceil(time.time() / interval)
    for slot in range(first, first + math.ceil(SLOT_HORIZON_SECONDS * rate)):
        claimed = cache.add(f"mail-slot:{slot}", 1, timeout=60)
        if claimed is None:  # django-redis ignoring an error: Redis is down
            raise MailDeferred("the shared cache is unreachable: no send slot")
        if claimed:
            time.sleep(max(0.0, slot * interval - time.time()))
            return
    raise MailDeferred(f"no send slot free in the next {SLOT_HORIZON_SECONDS:g} s")


def _may_reset(member: Member) -> bool:
    return member.is_active and member.has_usable_password()


def _temporary(code: int) -> bool:
    # 4xx is "try again later"; smtplib gives -1 when the connection closed mid-reply.
    return not 500 <= code < 600


def _message(mail: OutboundMail) -> EmailMessage:
    with translation.override(mail.language):
        names = {"nickname": mail.member.nickname}
        if mail.kind == OutboundMail.Kind.PASSWORD_RESET:
            subject = _("Set a new password for SNS")
            body = "\n\n".join(
                [
                    _(
                        "Hello %(nickname)s. Someone, we hope you, asked to set a new password "
                        "for your SNS account. Open this link to choose one:"
                    )
                    % names,
                    reset_link(mail),
                    _(
                        "The link works once, for %(days)d days. If you did not ask, ignore "
                        "this email: your password stays as it is."
                    )
                    % {"days": _reset_days()},
                ]
            )
        else:
            subject = _("Welcome to SNS, %(nickname)s") % names
            body = (
                _(
                    "Hello %(nickname)s, and welcome to SNS. Log in with this email address "
                    "to write posts, follow other members and see their posts on your home page."
                )
                % names
            )
    return EmailMessage(
        subject, body + "\n", to=[mail.to], headers={"Message-ID": message_id(mail)}
    )


def reset_link(mail: OutboundMail) -> str:
    """The link of a reset mail, with a token made now: valid PASSWORD_RESET_TIMEOUT from
    the sending, and spent once the password changes (Django's token generator)."""
    member = mail.member
    path = reverse(
        "password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(member.pk)),
            "token": default_token_generator.make_token(member),
        },
    )
    return mail.site.rstrip("/") + path


def _reset_days() -> int:
    return max(1, settings.PASSWORD_RESET_TIMEOUT // 86_400)
