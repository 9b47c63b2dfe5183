"""The shared cache on Redis, which the site can lose, and a short-lived local tier.

Redis goes through django-redis with IGNORE_EXCEPTIONS: a cache call that fails
is a miss (a read returns nothing, a write is dropped), never an error, and no
call waits longer than the socket timeouts (0.25 s). A Redis that is stopped
rather than dead (SIGSTOP, a network that drops packets) would still cost every
call that quarter second, five or so a request; so after a failure this process
skips Redis for RETRY_SECONDS, then tries again. The outage is logged once, in
one line, when it starts and when it ends; django-redis's own log of ignored
errors (a traceback per call) stays off.

The local tier keeps, in each process, a few values read on almost every
request and changed rarely, for LOCAL_CACHE_SECONDS (0, the default: off).
docs/caching.md lists everything cached, with its expiry and invalidation.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import environ
import redis
from django.conf import settings

logger = logging.getLogger(__name__)

T = TypeVar("T")

REDIS_BACKEND = "django_redis.cache.RedisCache"
# Per call, so a request of five cache calls waits 1.25 s at worst, and only
# once per RETRY_SECONDS per process.
SOCKET_TIMEOUT_SECONDS = 0.25
RETRY_SECONDS = 1.0


def cache_from_url(url: str) -> dict[str, Any]:
    """The CACHES entry for CACHE_URL.

    redis:// and rediss:// are django-redis, named here rather than left to
    django-environ, whose choice depends on which packages are installed. Options
    in the URL's query (``?socket_timeout=0.5``) win over these defaults.
    """
    if url.split("://", 1)[0] in ("redis", "rediss"):
        config = environ.Env.cache_url_config(url, backend=REDIS_BACKEND)
        config["OPTIONS"] = {
            "IGNORE_EXCEPTIONS": True,
            "SOCKET_CONNECT_TIMEOUT": SOCKET_TIMEOUT_SECONDS,
            "SOCKET_TIMEOUT": SOCKET_TIMEOUT_SECONDS,
            "REDIS_CLIENT_CLASS": "core.cache.Redis",
            **config.get("OPTIONS", {}),
        }
        return config
    config = environ.Env.cache_url_config(url)
    config.setdefault("OPTIONS", {}).setdefault("MAX_ENTRIES", 10_000)
    return config


# Per process, per Redis server: when to try it again after a failure.
_down_until: dict[str, float] = {}
_down_lock = threading.Lock()


class Redis(redis.Redis):
    """The client django-redis uses: skips a server that failed a moment ago.

    A skipped call raises ConnectionError at once, which django-redis turns into
    a miss like any other failure.
    """

    def execute_command(self, *args, **options):
        server = self._server_name()
        if time.monotonic() < _down_until.get(server, 0.0):
            raise redis.ConnectionError(f"skipped: {server} failed less than {RETRY_SECONDS} s ago")
        try:
            result = super().execute_command(*args, **options)
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            with _down_lock:
                if server not in _down_until:
                    logger.warning(
                        "cache: Redis at %s unreachable (%s: %s); going without it, "
                        "trying again every %s s",
                        server,
                        type(exc).__name__,
                        exc,
                        RETRY_SECONDS,
                    )
                _down_until[server] = time.monotonic() + RETRY_SECONDS
            raise
        if server in _down_until:
            with _down_lock:
                if _down_until.pop(server, None) is not None:
                    logger.warning("cache: Redis at %s answers again", server)
        return result

    def _server_name(self) -> str:
        kwargs = self.connection_pool.connection_kwargs
        return kwargs.get("path") or f"{kwargs.get('host')}:{kwargs.get('port')}"


# --- the local tier ----------------------------------------------------------------

# key -> (monotonic time it expires, value). A handful of fixed keys, so no eviction.
_local: dict[str, tuple[float, Any]] = {}


def local_get_or_set(key: str, read: Callable[[], T]) -> T:
    """``read()``, kept in this process for LOCAL_CACHE_SECONDS (0: read every time).

    For values read on almost every request and changed rarely; each reader may
    see a change up to LOCAL_CACHE_SECONDS late, unless the change was made in
    this process and followed by ``local_forget``. The value is shared by every
    caller in the process: treat it as read-only.
    """
    seconds = settings.LOCAL_CACHE_SECONDS
    if seconds <= 0:
        return read()
    now = time.monotonic()
    kept = _local.get(key)
    if kept is not None and now < kept[0]:
        return kept[1]
    value = read()
    _local[key] = (now + seconds, value)
    return value


def local_forget(key: str) -> None:
    """Read ``key`` afresh next time in this process (after changing it here)."""
    _local.pop(key, None)
