"""Liveness, readiness and metrics: /healthz, /readyz, /metrics.

/healthz says the process answers and touches nothing else, so a database or cache
that is down never gets an app server restarted. /readyz checks each part the site
uses, every check bounded in time, and answers 503 only when the primary database
is down: without the cache, the replica or the broker the site still serves
(slower, or with fan-out delayed), so those make it "degraded", still 200. Anyone
gets the status; only the machine itself (``is_loopback``) gets each part's state,
which names internal addresses and the replica's errors. The checks run at most
once a second per process, whatever the rate of probes.

Why not django-health-check: its checks are close (SELECT 1 with no table, a cache
round trip), but its view answers one status for all checks (500 when any fails),
so "degraded" would mean re-running its checks under a view of our own; its broker
check needs aio-pika or a live worker, and it brings dnspython. What is left to
write is the few functions below.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.db import connections
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from core.web import dbrouter
from core.web.metrics import metrics_response
from core.web.security import is_loopback

logger = logging.getLogger(__name__)

# The broker's connect timeout. The other parts are bounded by their clients' own.
BROKER_SECONDS = 1.0
# How long one round of checks answers every /readyz of a process.
READY_SECONDS = 1.0

UP, DOWN, NOT_CONFIGURED = "up", "down", "not configured"


@require_safe
@never_cache
def healthz(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"status": "ok"})


@require_safe
@never_cache
def readyz(request: HttpRequest) -> HttpResponse:
    """Ready or not: the status alone for anyone, each part's state for the machine itself.

    The parts are checked at most once every READY_SECONDS per process, whatever the
    rate of calls: a burst of probes costs no connection, write or thread each.
    """
    status, code, parts = _ready.get()
    body: dict = {"status": status}
    if is_loopback(request):
        body["parts"] = parts
    return JsonResponse(body, status=code)


@require_safe
@never_cache
def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus text, to the machine itself only (behind a proxy: CLIENT_IP_HEADER)."""
    if not is_loopback(request):
        raise Http404
    return metrics_response(request)


def _database_state() -> dict:
    # The connection's own options bound this (connect and read timeouts: DB_TIMEOUT).
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"state": UP}


def _cache_state() -> dict:
    """A ping of Redis (its client's own timeouts bound it), or a read of a local cache:
    nothing is written."""
    redis_client = _redis_client()
    if redis_client is not None:
        redis_client.ping()
    else:
        cache.get("readyz:probe")
    return {"state": UP}


def _redis_client():
    client = getattr(cache, "client", None)  # django-redis (CACHE_URL=redis://...)
    if client is not None and hasattr(client, "get_client"):
        return client.get_client(write=False)
    client = getattr(cache, "_cache", None)  # Django's own RedisCache
    if client is not None and hasattr(client, "get_client"):
        return client.get_client(write=False)
    return None


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


def _check_all() -> tuple[str, int, dict]:
    """Each part in turn, each bounded by its client's timeouts (the database's
    DB_TIMEOUT, Redis's 0.25 s, the broker's BROKER_SECONDS): a few seconds at worst."""
    parts = {
        "database": _timed(_database_state),
        "cache": _timed(_cache_state),
        "broker": _timed(_broker_state),
        "replica": _timed(_replica_state),
    }
    for name, part in parts.items():
        if part["state"] not in (UP, NOT_CONFIGURED):
            logger.warning("readyz: %s is %s (%s)", name, part["state"], part.get("error", ""))
    if parts["database"]["state"] != UP:
        return "unavailable", 503, parts
    if any(part["state"] not in (UP, NOT_CONFIGURED) for part in parts.values()):
        return "degraded", 200, parts
    return "ready", 200, parts


class _Kept:
    """The last answer of ``_check_all``, kept READY_SECONDS. One caller checks again
    when it is older; the others meanwhile get the last answer, not a wait."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.lock = threading.Lock()
        self.answer: tuple[str, int, dict] | None = None
        self.at = 0.0

    def get(self) -> tuple[str, int, dict]:
        if self.answer is not None and time.monotonic() - self.at < self.seconds:
            return self.answer
        if not self.lock.acquire(blocking=self.answer is None):
            return self.answer  # another thread is checking: the last answer meanwhile
        try:
            if self.answer is None or time.monotonic() - self.at >= self.seconds:
                self.answer, self.at = _check_all(), time.monotonic()
            return self.answer
        finally:
            self.lock.release()

    def forget(self) -> None:
        self.answer = None


_ready = _Kept(READY_SECONDS)
