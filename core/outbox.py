"""The transactional outbox: work for a worker, recorded in the transaction that needs it.

A row of an outbox model (a post's fan-out, a sign-up's welcome email) is written
in the same transaction as the change that makes the work necessary, and queued
for its task only once that transaction commits (``outbox_enqueue``). The task is
named, never imported: ``Outbox.task`` holds its Celery name, so the code that
sends work does not depend on the code that does it. The task marks the row done
(``outbox_done``). The sweep (``outbox_sweep``, run by the worker's beat and when a
worker starts) queues again every row that is not done in time, so a process that
dies between the commit and the queue, a broker that is down or a worker that dies
mid-task delays the work but never loses it. Tasks are idempotent: a row queued
twice is done once.

Every outbox has the same three times: ``created_at`` (written), ``queued_at``
(last handed to the broker; empty while it never has been) and ``done_at`` (the
work is finished, or can never be: nothing more will be tried).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import ClassVar

from celery import current_app
from django.apps import apps
from django.db import models, transaction
from django.db.models import Min, Q
from django.dispatch import Signal
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

logger = logging.getLogger(__name__)

# A row that never reached the queue (the broker was down when its transaction
# committed, or the process died) is queued again once it is this old.
QUEUE_AGAIN_AFTER = timedelta(seconds=30)
SWEEP_LIMIT = 1_000  # rows per outbox per sweep

# Sent at the start of every sweep, so the apps above core can do their periodic
# repairs on the same beat (core imports none of them): a receiver may write
# outbox rows, which the same sweep then queues once due.
sweep_started = Signal()


class Outbox(models.Model):
    """An abstract outbox row; a concrete model sets ``task`` and may tune the others."""

    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    queued_at = models.DateTimeField(_("last queued at"), null=True, blank=True)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)

    # The Celery task that does a row's work, by name; it takes the row's id.
    task: ClassVar[str]
    # A row queued this long ago and not done is queued again (a worker died under
    # it, or its message was lost). Longer than the work takes, queue wait included.
    resend_after: ClassVar[timedelta] = timedelta(seconds=30)
    # Done rows older than this are deleted by the sweep (None: kept).
    keep_done: ClassVar[timedelta | None] = None

    class Meta:
        abstract = True
        # The sweep: WHERE done_at IS NULL AND ... ORDER BY id.
        indexes = [models.Index(fields=["done_at", "id"], name="%(app_label)s_%(class)s_pending")]


def outbox_enqueue(row: Outbox) -> None:
    """Queue ``row`` for its task once the current transaction commits; call inside it."""
    model, pk = type(row), row.pk
    transaction.on_commit(lambda: outbox_send(model, pk))


def outbox_send(model: type[Outbox], pk: int) -> bool:
    """Hand one row to the broker now; False (and the sweep's turn) when it is down."""
    try:
        _task(model.task).apply_async(args=[pk])
    except Exception:
        logger.warning(
            "%s %s not queued (broker unavailable?); the sweep will queue it",
            model._meta.verbose_name,
            pk,
        )
        return False
    model._default_manager.filter(pk=pk).update(queued_at=timezone.now())
    return True


def _task(name: str):
    app = current_app
    if name not in app.tasks:
        # A web process never started a worker, so the autodiscovered task modules
        # are imported on first use, by Celery's own loader.
        app.loader.import_default_modules()
    return app.tasks[name]


def outbox_done(model: type[Outbox], pk: int, **fields) -> bool:
    """Mark a row done (with ``fields`` of the model's own); False if it already was."""
    return bool(
        model._default_manager.filter(pk=pk, done_at__isnull=True).update(
            done_at=timezone.now(), **fields
        )
    )


def outbox_models() -> list[type[Outbox]]:
    return [m for m in apps.get_models() if issubclass(m, Outbox)]


def _due(model: type[Outbox], now: datetime) -> list[int]:
    never_queued = Q(queued_at__isnull=True, created_at__lt=now - QUEUE_AGAIN_AFTER)
    stale = Q(queued_at__lt=now - model.resend_after)
    return list(
        model._default_manager.filter(done_at__isnull=True)
        .filter(never_queued | stale)
        .order_by("id")
        .values_list("id", flat=True)[:SWEEP_LIMIT]
    )


def outbox_sweep() -> dict[str, int]:
    """Queue again every row not done in time, in every outbox; ``{model label: queued}``.

    Also deletes done rows older than their model's ``keep_done``.
    """
    for receiver, result in sweep_started.send_robust(sender=outbox_sweep):
        if isinstance(result, Exception):
            logger.error("outbox sweep: %s failed: %r", receiver.__name__, result)
    queued: dict[str, int] = {}
    now = timezone.now()
    for model in outbox_models():
        ids = _due(model, now)
        queued[model._meta.label] = sum(outbox_send(model, pk) for pk in ids)
        if model.keep_done is not None:
            model._default_manager.filter(done_at__lt=now - model.keep_done).delete()
    return queued


@dataclass(frozen=True)
class Backlog:
    model: str  # app_label.ModelName
    pending: int  # rows not done
    oldest_seconds: float  # age of the oldest row not done (0 when none)


def outbox_backlog() -> list[Backlog]:
    """What every outbox has not done yet: how many rows, and how old the oldest is."""
    now = timezone.now()
    found = []
    for model in outbox_models():
        pending = model._default_manager.filter(done_at__isnull=True)
        oldest = pending.aggregate(oldest=Min("created_at"))["oldest"]
        found.append(
            Backlog(
                model=model._meta.label,
                pending=pending.count(),
                oldest_seconds=(now - oldest).total_seconds() if oldest else 0.0,
            )
        )
    return found


def outbox_pending(model: type[Outbox]) -> list[int]:
    """The ids of ``model``'s rows not done yet, oldest first."""
    return list(
        model._default_manager.filter(done_at__isnull=True)
        .order_by("id")
        .values_list("id", flat=True)
    )
