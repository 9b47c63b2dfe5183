"""The welcome email: recorded at sign-up, sent by the worker, never lost or sent twice.

The same outbox pattern as the feed fan-out (``feeds.usecases``): a row
(``WelcomeMail``) in the sign-up's transaction, its id sent to the queue after
the commit, a sweeper that queues again what is still pending. The worker sends
a mail only while its row says it has not been sent, and every mail carries a
Message-ID derived from its row, so a provider that already accepted it (the
worker died between the provider's "250" and marking the row) can tell.
"""

from __future__ import annotations

import logging
import smtplib
from datetime import timedelta
from email.utils import parseaddr

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from members.models import Member, WelcomeMail

logger = logging.getLogger(__name__)

# A mail that could not be queued (the broker was down) is queued again once it is
# this old. A mail that was queued and is still not sent this long after is queued
# again too: long enough that a backlog behind the rate limit (MAIL_RATE_LIMIT x
# workers) is not queued twice while it waits (copies are skipped but take slots).
QUEUE_AGAIN_AFTER = timedelta(seconds=30)
RESEND_AFTER = timedelta(minutes=5)
SWEEP_LIMIT = 1_000


class MailDeferred(Exception):
    """The provider or the network said "not now" (4xx, refused, timed out): try again."""


# --- recording and queueing ----------------------------------------------------------


def welcome_mail_record(*, member: Member) -> WelcomeMail:
    """Record a member's welcome email and queue it after the commit.

    Call inside the sign-up's transaction. The mail is in the language the
    sign-up ran in (the request's), else English.
    """
    mail = WelcomeMail.objects.create(member=member, to=member.email, language=_language())
    transaction.on_commit(lambda: send(mail.pk))
    return mail


def _language() -> str:
    try:
        return translation.get_supported_language_variant(translation.get_language() or "")
    except LookupError:
        return settings.LANGUAGE_CODE


def send(mail_id: int) -> None:
    """Queue a mail now. A broker that is down leaves it to the sweeper, quietly."""
    from members.tasks import send_welcome  # the task module imports this one

    try:
        send_welcome.delay(mail_id)
    except Exception:
        logger.warning(
            "welcome email %s not queued (broker unavailable?); the sweeper will", mail_id
        )
        return
    WelcomeMail.objects.filter(pk=mail_id, queued_at__isnull=True).update(queued_at=timezone.now())


def sweep() -> int:
    """Queue the pending mails that never reached the queue (older than
    QUEUE_AGAIN_AFTER) or that were queued more than RESEND_AFTER ago; returns how many."""
    now = timezone.now()
    never_queued = Q(queued_at__isnull=True, created_at__lt=now - QUEUE_AGAIN_AFTER)
    ids = list(
        WelcomeMail.objects.filter(sent_at__isnull=True, failed_at__isnull=True)
        .filter(never_queued | Q(queued_at__lt=now - RESEND_AFTER))
        .order_by("id")
        .values_list("id", flat=True)[:SWEEP_LIMIT]
    )
    if ids:
        WelcomeMail.objects.filter(pk__in=ids, queued_at__isnull=False).update(queued_at=now)
    for mail_id in ids:
        send(mail_id)
    return len(ids)


def welcome_mails_pending() -> list[int]:
    return list(
        WelcomeMail.objects.filter(sent_at__isnull=True, failed_at__isnull=True).values_list(
            "id", flat=True
        )
    )


# --- sending (the worker) --------------------------------------------------------------


def message_id(mail: WelcomeMail) -> str:
    """The same for every attempt at one mail, and unlike any other mail's.

    The creation time is in it so that a database started afresh (ids from 1
    again) does not reuse the ids a provider has already seen.
    """
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "localhost"
    return f"<welcome-{mail.pk}.{mail.created_at:%Y%m%d%H%M%S}@{domain}>"


def welcome_mail_deliver(*, mail_id: int) -> bool:
    """Send one welcome email unless it has been sent; True when it went out now.

    Raises MailDeferred when the provider or the network says "not now" (the task
    retries). A recipient refused for good (5xx) is marked failed and logged. Any
    other refusal (say, a 5xx to our own sender: a configuration error) raises
    and the mail stays pending for the sweeper.
    """
    mail = (
        WelcomeMail.objects.select_related("member")
        .filter(pk=mail_id, sent_at__isnull=True, failed_at__isnull=True)
        .first()
    )
    if mail is None:
        return False  # sent already, failed for good, or its member was deleted
    try:
        _message(mail).send()
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        if any(_temporary(code) for code in codes):
            raise MailDeferred(f"recipient deferred: {exc.recipients}") from exc
        WelcomeMail.objects.filter(pk=mail.pk).update(failed_at=timezone.now())
        logger.error("welcome email %s to %s refused for good: %s", mail.pk, mail.to, codes)
        return False
    except smtplib.SMTPResponseException as exc:
        if _temporary(exc.smtp_code):
            raise MailDeferred(f"{exc.smtp_code} {exc.smtp_error!r}") from exc
        raise
    except OSError as exc:  # refused, reset or timed out; smtplib's disconnects too
        raise MailDeferred(str(exc)) from exc
    WelcomeMail.objects.filter(pk=mail.pk).update(sent_at=timezone.now())
    return True


def _temporary(code: int) -> bool:
    # 4xx is "try again later"; smtplib gives -1 when the connection closed mid-reply.
    return not 500 <= code < 600


def _message(mail: WelcomeMail) -> EmailMessage:
    with translation.override(mail.language):
        names = {"nickname": mail.member.nickname}
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
