"""Celery tasks of the top floor: a member's removal, on the default queue.

Acknowledged late (settings: ``CELERY_TASK_ACKS_LATE``), so a worker that dies
mid-removal leaves the message to another; the removal resumes from what is left.
The sweep that queues again what is not done is the outbox's (``core.tasks``).
"""

from celery import shared_task
from django.db import InterfaceError, OperationalError

from social import usecases


@shared_task(
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    retry_backoff_max=60,
    max_retries=None,  # the database comes back; the sweep is the other safety net
)
def remove_member(removal_id: int) -> bool:
    return usecases.member_removal_run(removal_id=removal_id)
