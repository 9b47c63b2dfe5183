"""Celery tasks of the member domain: outbound email, on the ``mail`` queue.

``send_mail`` is rate-limited (``MAIL_RATE_LIMIT``) so each worker starts its
sends evenly; ``members.mail.send_slot_wait`` paces every worker's together
(``MAIL_PROVIDER_RATE``) so the provider, which refuses more than so many messages
a second, is never pushed past its limit. Every kind of mail (welcome, password
reset) goes through this one task: a Celery rate limit holds per task and per
worker, not across workers, so N workers start up to N times the rate.
Acknowledged late (settings), so a worker that dies mid-send leaves the message to
another; a mail already sent is not sent again.
"""

import logging

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError

from members import mail

logger = logging.getLogger(__name__)

RETRYABLE = (mail.MailDeferred, OperationalError, InterfaceError)
# Without a broker the task runs in-process and a retry runs at once, again and
# again: a few tries, then the mail waits for the sweeper.
EAGER_TRIES = 3


@shared_task(
    bind=True,
    autoretry_for=RETRYABLE,
    retry_backoff=True,
    retry_backoff_max=60,
    max_retries=None,  # the provider comes back; never drop a mail
    rate_limit=settings.MAIL_RATE_LIMIT,
)
def send_mail(self, mail_id: int) -> bool:
    try:
        return mail.mail_deliver(mail_id=mail_id)
    except RETRYABLE:
        if self.request.is_eager and self.request.retries + 1 >= EAGER_TRIES:
            logger.warning("email %s deferred; the sweeper will send it", mail_id)
            return False
        raise
