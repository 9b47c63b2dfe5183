"""Reads from the MariaDB replica where that is safe; everything else on the primary.

The rule: a query reads the replica (alias ``replica``) only inside a GET, HEAD or
OPTIONS web request (``ReplicaMiddleware`` marks it), and only while

- the client did not write in the last REPLICA_PIN_SECONDS (the ``primary_pin``
  cookie set after every non-safe request: a member reads their own writes);
- the request is not one whose answer may be kept (an anonymous GET, a member's
  page without a query, see core/web/pagecache.py): a page rendered from a replica
  a moment behind would be stored under the stamps of the newer rows and shown,
  stale, until the next write or its expiry;
- this request has not written, and no transaction is open on the primary
  (reads that decide a write see what they decide on);
- the replica is "up": this process asked it ``SHOW SLAVE STATUS`` within the last
  REPLICA_CHECK_SECONDS and it was at most REPLICA_MAX_LAG seconds behind.

Writes and locking reads (``select_for_update``, ``get_or_create``: Django sends
those through ``db_for_write``) always go to the primary, and so does every read
outside a web request: management commands, Celery workers, the shell and
migrations run on data they may have just written, and a worker's fan-out must
not miss the post it was sent for.

A replica that fails in the middle of a request (``ReplicaRetryMiddleware``) is
marked down in this process and the view runs once more, reading the primary.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from dataclasses import dataclass

from asgiref.sync import iscoroutinefunction
from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed
from django.db import DEFAULT_DB_ALIAS, Error, connections
from django.http import HttpRequest, HttpResponse

from core.exceptions import NotFound
from core.web.middleware import DATABASE_ERRORS, database_unavailable, not_found
from core.web.pagecache import may_keep

logger = logging.getLogger(__name__)

PRIMARY = DEFAULT_DB_ALIAS
REPLICA = "replica"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
PIN_COOKIE = "primary_pin"

UP, LAGGING, DOWN = "up", "lagging", "down"


def replica_configured() -> bool:
    return REPLICA in connections.settings


# --- replica health, per process ------------------------------------------------------------


class _Health:
    """The replica's state as this process last saw it; re-checked at most every
    REPLICA_CHECK_SECONDS, by one thread at a time (the others use the last answer)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.forget()

    def forget(self) -> None:
        self.state: str | None = None  # None: never checked
        self.lag: int | None = None
        self.detail = ""
        self.checked_at = -math.inf

    def _stale(self) -> bool:
        return time.monotonic() - self.checked_at >= settings.REPLICA_CHECK_SECONDS

    def current(self, *, wait: bool = False) -> str:
        if self._stale() and self._lock.acquire(blocking=wait):
            try:
                if self._stale():
                    self._set(*_check())
            finally:
                self._lock.release()
        return self.state or DOWN

    def mark_down(self, detail: str) -> None:
        with self._lock:
            self._set(DOWN, None, detail)

    def _set(self, state: str, lag: int | None, detail: str) -> None:
        previous = self.state
        self.state, self.lag, self.detail = state, lag, detail
        self.checked_at = time.monotonic()
        if state == previous:
            return
        if state == UP:
            level = logging.INFO if previous is None else logging.WARNING
            logger.log(level, "replica %s -> up (lag %ss): reads go to the replica", previous, lag)
        else:
            logger.warning("replica %s -> %s: reads go to the primary: %s", previous, state, detail)


_health = _Health()


def _discard_replica_connection() -> None:
    """Close this thread's replica connection, so that the next use connects afresh."""
    with suppress(Error):
        connections[REPLICA].close()


def _slave_status() -> dict | None:
    """The replica's ``SHOW SLAVE STATUS`` row as a dict; None when it has none."""
    with connections[REPLICA].cursor() as cursor:
        cursor.execute("SHOW SLAVE STATUS")
        row = cursor.fetchone()
        if row is None:
            return None
        return dict(zip((column[0] for column in cursor.description), row, strict=True))


def _check() -> tuple[str, int | None, str]:
    """(state, lag, detail) of the replica, asking it now."""
    try:
        status = _slave_status()
    except Error as exc:
        _discard_replica_connection()
        return DOWN, None, f"{type(exc).__name__}: {exc}"
    if status is None:
        # A server that replicates nothing may hold any old copy of the data.
        return LAGGING, None, "not a replica (SHOW SLAVE STATUS is empty)"
    lag = status.get("Seconds_Behind_Master")
    if lag is None:
        return (
            LAGGING,
            None,
            "replication stopped (IO thread {}, SQL thread {}) {}".format(
                status.get("Slave_IO_Running"),
                status.get("Slave_SQL_Running"),
                status.get("Last_Error") or status.get("Last_IO_Error") or "",
            ).strip(),
        )
    lag = int(lag)
    if lag > settings.REPLICA_MAX_LAG:
        return LAGGING, lag, f"{lag} s behind (REPLICA_MAX_LAG is {settings.REPLICA_MAX_LAG})"
    return UP, lag, ""


def replica_status() -> dict:
    """The replica's state for /readyz and ``make cluster-status``.

    ``{"configured": False}`` without a replica; else ``{"configured": True,
    "state": "up" | "lagging" | "down", "lag": seconds or None}`` plus ``"detail"``
    (why) when it is not up. The site answers without the replica either way:
    reads then go to the primary.
    """
    if not replica_configured():
        return {"configured": False}
    state = _health.current(wait=True)
    status = {"configured": True, "state": state, "lag": _health.lag}
    if state != UP:
        status["detail"] = _health.detail
    return status


# --- the router ------------------------------------------------------------------------------


@dataclass
class _RequestState:
    replica_allowed: bool  # a safe, unpinned request the page cache will not keep
    wrote: bool = False
    used_replica: bool = False


# Set for the length of a web request by ReplicaMiddleware; None everywhere else.
_request_state: ContextVar[_RequestState | None] = ContextVar("dbrouter_request", default=None)


class PrimaryReplicaRouter:
    """DATABASE_ROUTERS entry when a replica is configured (REPLICA_URL)."""

    def db_for_read(self, model, **hints) -> str:
        state = _request_state.get()
        if (
            state is None
            or not state.replica_allowed
            or state.wrote
            or connections[PRIMARY].in_atomic_block
            or _health.current() != UP
        ):
            return PRIMARY
        state.used_replica = True
        return REPLICA

    def db_for_write(self, model, **hints) -> str:
        state = _request_state.get()
        if state is not None:
            state.wrote = True  # the rest of this request reads what it wrote
        return PRIMARY

    def allow_relation(self, obj1, obj2, **hints) -> bool:
        return True  # the replica holds the same rows as the primary

    def allow_migrate(self, db, app_label, model_name=None, **hints) -> bool:
        return db == PRIMARY


@contextmanager
def reading_primary() -> Iterator[None]:
    """Reads in the block go to the primary: what they read is kept for others to see
    (a shared cache), and a replica a moment behind would keep an old answer."""
    state = _request_state.get()
    if state is None:
        yield
        return
    allowed, state.replica_allowed = state.replica_allowed, False
    try:
        yield
    finally:
        state.replica_allowed = allowed


# --- middleware ------------------------------------------------------------------------------


def _pinned(request: HttpRequest) -> bool:
    try:
        return float(request.COOKIES.get(PIN_COOKIE, "")) > time.time()
    except ValueError:
        return False


class ReplicaMiddleware:
    """Mark a web request as allowed to read the replica; pin a client that wrote.

    Sits before sessions and authentication, so that the session and the member
    are read under the same rule as the view's data.
    """

    def __init__(self, get_response):
        if not replica_configured():
            raise MiddlewareNotUsed
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        safe = request.method in SAFE_METHODS
        allowed = safe and not _pinned(request) and not may_keep(request)
        token = _request_state.set(_RequestState(replica_allowed=allowed))
        try:
            response = self.get_response(request)
        finally:
            _request_state.reset(token)
        if not safe and response.status_code < 500:
            seconds = settings.REPLICA_PIN_SECONDS
            response.set_cookie(
                PIN_COOKIE,
                str(int(time.time()) + seconds),
                max_age=seconds,
                httponly=True,
                samesite="Lax",
                secure=settings.SESSION_COOKIE_SECURE,
            )
        return response


def _rendered(response: HttpResponse) -> HttpResponse:
    # A TemplateResponse reads its lazy querysets while rendering: do it here,
    # where a failing replica can still be caught.
    if callable(getattr(response, "render", None)) and not response.is_rendered:
        response = response.render()
    return response


class ReplicaRetryMiddleware:
    """A request whose replica read failed runs its view once more, reading the primary.

    It calls the view itself from ``process_view``, so it must be the last
    middleware in MIDDLEWARE with a ``process_view`` hook: returning a response
    there skips the hooks after it. An exception raised here does not reach the
    ``process_exception`` hooks, hence the 503 of DatabaseUnavailableMiddleware
    and the 404 of NotFoundMiddleware are answered here too; any other exception
    propagates to Django's usual handling (404, 403, 500).
    """

    def __init__(self, get_response):
        if not replica_configured():
            raise MiddlewareNotUsed
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request, view, view_args, view_kwargs) -> HttpResponse | None:
        state = _request_state.get()
        if state is None or not state.replica_allowed or iscoroutinefunction(view):
            return None  # Django calls the view as usual
        try:
            return _rendered(view(request, *view_args, **view_kwargs))
        except NotFound as exc:
            return not_found(request, exc)
        except DATABASE_ERRORS as exc:
            if not state.used_replica:
                return database_unavailable(request, exc)
            _health.mark_down(f"{request.method} {request.path}: {type(exc).__name__}: {exc}")
            _discard_replica_connection()
        state.replica_allowed = False
        try:
            return _rendered(view(request, *view_args, **view_kwargs))
        except NotFound as exc:
            return not_found(request, exc)
        except DATABASE_ERRORS as exc:
            return database_unavailable(request, exc)
