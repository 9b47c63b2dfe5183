"""Liveness, readiness and metrics: /healthz, /readyz, /metrics.

/healthz says the process answers and touches nothing else, so a database or cache
that is down never gets an app server restarted. /readyz checks each part the site
uses, every check bounded in time, and answers 503 only when the primary database
is down: without the cache, the replica or the broker the site still serves
(slower, or with fan-out delayed), so those make it "degraded", still 200.

Why not django-health-check: its checks are close (SELECT 1 with no table, a cache
round trip), but its view answers one status for all checks (500 when any fails),
so "degraded" would mean re-running its checks under a view of our own; its broker
check needs aio-pika or a live worker, and it brings dnspython. What is left to
write is the few functions below.
"""

from __future__ import annotations

import ipaddress
import logging
import threading
import time
import uuid
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.db import connections
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from core.web import dbrouter
from core.web.metrics import metrics_response
from core.web.security import client_ip

logger = logging.getLogger(__name__)

# Seconds each check may take. They run side by side, the database's in the request
# thread (bounded by DB_TIMEOUT), so /readyz answers within about the longest of them.
CACHE_SECONDS = 1.0
BROKER_SECONDS = 1.5
REPLICA_SECONDS = 1.5

UP, DOWN, NOT_CONFIGURED = "up", "down", "not configured"


@require_safe
@never_cache
def healthz(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"status": "ok"})


@require_safe
@never_cache
def readyz(request: HttpRequest) -> HttpResponse:
    others = {
        "cache": _in_thread(_cache_state, CACHE_SECONDS),
        "broker": _in_thread(_broker_state, BROKER_SECONDS),
        "replica": _in_thread(_replica_state, REPLICA_SECONDS),
    }
    parts = {"database": _timed(_database_state)}
    parts.update({name: wait() for name, wait in others.items()})
    for name, part in parts.items():
        if part["state"] not in (UP, NOT_CONFIGURED):
            logger.warning("readyz: %s is %s (%s)", name, part["state"], part.get("error", ""))
    if parts["database"]["state"] != UP:
        status, code = "unavailable", 503
    elif any(part["state"] not in (UP, NOT_CONFIGURED) for part in parts.values()):
        status, code = "degraded", 200
    else:
        status, code = "ready", 200
    return JsonResponse({"status": status, "parts": parts}, status=code)


@require_safe
@never_cache
def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus text, to the machine itself only (behind a proxy: CLIENT_IP_HEADER)."""
    try:
        loopback = ipaddress.ip_address(client_ip(request)).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise Http404
    return metrics_response(request)


def _database_state() -> dict:
    # The connection's own options bound this (connect and read timeouts: DB_TIMEOUT).
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"state": UP}


def _cache_state() -> dict:
    key, value = f"readyz:{uuid.uuid4().hex}", uuid.uuid4().hex
    cache.set(key, value, 10)
    if cache.get(key) != value:
        return {"state": DOWN, "error": "the value read back differs"}
    return {"state": UP}


def _broker_state() -> dict:
    url = settings.CELERY_BROKER_URL
    if not url or url.startswith("memory://"):
        return {"state": NOT_CONFIGURED}
    from kombu import Connection

    with Connection(url, connect_timeout=BROKER_SECONDS) as connection:
        connection.ensure_connection(max_retries=1, interval_start=0, timeout=BROKER_SECONDS)
    return {"state": UP}


def _replica_state() -> dict:
    """The read replica's state as the router sees it (reads go to it only when "up")."""
    status = dbrouter.replica_status()
    if not status.pop("configured"):
        return {"state": NOT_CONFIGURED}
    if "detail" in status:
        status["error"] = status.pop("detail")
    return status


def _timed(check: Callable[[], dict]) -> dict:
    started = time.perf_counter()
    try:
        part = dict(check())
    except Exception as exc:  # noqa: BLE001 - any failure is the part's state, not a 500
        part = {"state": DOWN, "error": type(exc).__name__}
    if part["state"] != NOT_CONFIGURED:
        part["ms"] = round((time.perf_counter() - started) * 1000, 1)
    return part


def _in_thread(check: Callable[[], dict], seconds: float) -> Callable[[], dict]:
    """Start ``check`` in a thread of its own; the returned function waits at most
    ``seconds`` for it. A check that overruns is left to finish on its own (a daemon
    thread, bounded by its client's timeouts) and reported down."""
    result: dict = {}

    def run():
        try:
            result.update(_timed(check))
        finally:
            connections.close_all()  # this thread's own, if the check opened any

    thread = threading.Thread(target=run, daemon=True, name="readyz")
    thread.start()
    deadline = time.monotonic() + seconds

    def wait() -> dict:
        thread.join(max(0.0, deadline - time.monotonic()))
        if thread.is_alive():
            return {"state": DOWN, "error": f"no answer within {seconds:g} s"}
        return result

    return wait
