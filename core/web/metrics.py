"""What /metrics answers: the app server's own metrics, or the work waiting (?collect=backlog).

``/metrics`` is django-prometheus' export: requests, answers by status, latency,
from every worker process of this app server. ``/metrics?collect=backlog`` is the
work the cluster has not done yet, the same from any app server: each outbox's rows
not done and the age of the oldest (``core.outbox.outbox_backlog``), and each
queue's depth and consumers, asked of the broker. Prometheus scrapes the two as
separate jobs, so a slow database or broker can delay the backlog's answer but
never makes an app server look down.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django_prometheus.exports import ExportToDjangoView
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily

from core.outbox import outbox_backlog

logger = logging.getLogger(__name__)

# The broker may hang: its answer is waited for this long, then left out.
BROKER_SECONDS = 1.0


def metrics_response(request: HttpRequest) -> HttpResponse:
    if request.GET.get("collect") == "backlog":
        registry = CollectorRegistry()
        registry.register(BacklogCollector())
        return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
    return ExportToDjangoView(request)


class BacklogCollector:
    """Gauges read at each scrape. A part that does not answer leaves its gauges out
    (and its own alert, the broker's or the primary's, says why)."""

    def collect(self):
        pending = GaugeMetricFamily(
            "sns_outbox_pending", "Rows of an outbox not done yet", labels=["outbox"]
        )
        oldest = GaugeMetricFamily(
            "sns_outbox_oldest_seconds",
            "Age of the oldest row of an outbox not done yet (0 when none)",
            labels=["outbox"],
        )
        try:
            # In a transaction, so the router reads the primary: a lagging replica
            # would show work already done as waiting.
            with transaction.atomic():
                backlogs = outbox_backlog()
        except Exception as exc:  # noqa: BLE001 - the database down: no gauge, not a 500
            logger.warning("metrics: no outbox backlog: %s", exc)
            backlogs = []
        for backlog in backlogs:
            pending.add_metric([backlog.model], backlog.pending)
            oldest.add_metric([backlog.model], backlog.oldest_seconds)
        yield pending
        yield oldest

        messages = GaugeMetricFamily(
            "sns_queue_messages", "Messages waiting in a queue of the broker", labels=["queue"]
        )
        consumers = GaugeMetricFamily(
            "sns_queue_consumers", "Consumers (workers) of a queue of the broker", labels=["queue"]
        )
        for name, depth, count in queue_depths():
            messages.add_metric([name], depth)
            consumers.add_metric([name], count)
        yield messages
        yield consumers


def queue_depths() -> list[tuple[str, int, int]]:
    """``[(queue, messages ready, consumers)]`` for each queue the site uses; [] when
    there is no broker or it does not answer in time."""
    url = settings.CELERY_BROKER_URL
    if not url or url.startswith("memory://"):
        return []
    from kombu import Connection

    found = []
    try:
        with Connection(url, connect_timeout=BROKER_SECONDS) as connection:
            connection.ensure_connection(max_retries=1, timeout=BROKER_SECONDS)
            channel = connection.default_channel
            for queue in settings.CELERY_TASK_QUEUES:
                # passive: ask about the queue, never create it.
                declared = channel.queue_declare(queue=queue.name, passive=True)
                found.append((queue.name, declared.message_count, declared.consumer_count))
    except Exception as exc:  # noqa: BLE001 - the broker down or the queue not made yet
        logger.warning("metrics: no queue depths: %s", exc)
        return found
    return found
