"""Celery tasks of the feed domain: thin wrappers over the use cases.

Acknowledged late (settings: ``CELERY_TASK_ACKS_LATE``), so a worker that dies
mid-task leaves the message to another; the use cases are idempotent.
"""

from celery import shared_task
from celery.signals import worker_ready
from django.db import InterfaceError, OperationalError

from feeds import usecases


@shared_task(
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    retry_backoff_max=60,
    max_retries=None,  # the database comes back; the sweeper is the other safety net
)
def fanout(job_id: int) -> None:
    usecases.fanout_run(job_id=job_id)


@shared_task
def sweep() -> int:
    """Send again the fan-out jobs that should have finished (run every FEED_SWEEP_SECONDS)."""
    return usecases.sweep()


@worker_ready.connect
def _sweep_on_start(**kwargs) -> None:
    # Jobs left over while no worker ran (or the broker was down) go out at once.
    sweep.delay()
