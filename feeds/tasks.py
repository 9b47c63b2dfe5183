"""Celery tasks of the feed domain: a thin wrapper over the fan-out.

Acknowledged late (settings: ``CELERY_TASK_ACKS_LATE``), so a worker that dies
mid-task leaves the message to another; the fan-out is idempotent. The sweep that
queues again what is not done is the outbox's (``core.tasks``).
"""

from celery import shared_task
from django.db import InterfaceError, OperationalError

from feeds import fanout as fanout_jobs


@shared_task(
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    retry_backoff_max=60,
    max_retries=None,  # the database comes back; the sweep is the other safety net
)
def fanout(job_id: int) -> None:
    fanout_jobs.fanout_run(job_id=job_id)
