"""The outbox's Celery task: the sweep, run by the beat every OUTBOX_SWEEP_SECONDS and
once whenever a worker starts (rows left pending while no worker ran go out at once)."""

from celery import shared_task
from celery.signals import worker_ready

from core import outbox


@shared_task
def outbox_sweep() -> dict[str, int]:
    return outbox.outbox_sweep()


@worker_ready.connect
def _sweep_on_start(**kwargs) -> None:
    outbox_sweep.delay()
