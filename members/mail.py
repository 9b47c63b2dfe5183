"""The welcome email: recorded at sign-up, sent by the worker, never lost or sent twice.

A row of the transactional outbox (``core.outbox``, as the feed fan-out is): a
``WelcomeMail`` in the sign-up's transaction, queued for
``members.tasks.send_welcome`` after the commit, queued again by the sweep while
it is not done. The worker sends a mail only while its row is not done, and every
mail carries a Message-ID derived from its row, so a provider that already
accepted it (the worker died between the provider's "250" and marking the row)
can tell.
"""

from __future__ import annotations

import logging
import smtplib
from email.utils import parseaddr

from django.conf import settings
from django.core.mail import EmailMessage
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from core import outbox
from members.models import Member, WelcomeMail

logger = logging.getLogger(__name__)


class MailDeferred(Exception):
    """The provider or the network said "not now" (4xx, refused, timed out): try again."""


# --- recording ------------------------------------------------------------------------


def welcome_mail_record(*, member: Member) -> WelcomeMail:
    """Record a member's welcome email and queue it after the commit.

    Call inside the sign-up's transaction. The mail is in the language the
    sign-up ran in (the request's), else English.
    """
    mail = WelcomeMail.objects.create(member=member, to=member.email, language=_language())
    outbox.outbox_enqueue(mail)
    return mail


def _language() -> str:
    try:
        return translation.get_supported_language_variant(translation.get_language() or "")
    except LookupError:
        return settings.LANGUAGE_CODE


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
    mail = WelcomeMail.objects.select_related("member").filter(pk=mail_id, done_at=None).first()
    if mail is None:
        return False  # sent already, failed for good, or its member was deleted
    try:
        _message(mail).send()
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        if any(_temporary(code) for code in codes):
            raise MailDeferred(f"recipient deferred: {exc.recipients}") from exc
        outbox.outbox_done(WelcomeMail, mail.pk, failed_at=timezone.now())
        logger.error("welcome email %s to %s refused for good: %s", mail.pk, mail.to, codes)
        return False
    except smtplib.SMTPResponseException as exc:
        if _temporary(exc.smtp_code):
            raise MailDeferred(f"{exc.smtp_code} {exc.smtp_error!r}") from exc
        raise
    except OSError as exc:  # refused, reset or timed out; smtplib's disconnects too
        raise MailDeferred(str(exc)) from exc
    outbox.outbox_done(WelcomeMail, mail.pk)
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
