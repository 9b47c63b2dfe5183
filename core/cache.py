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
request and changed rarely, for LOCAL_CACHE_SECONDS (0, the default: off), and
``LocalMemo``s: bounded, expiring memos of rows that never change or of figures
others may see a few seconds late.

Stamps say when something shown on many pages changed: a value in the shared
cache per *scope* ("the timeline", "member 7", "post 12", "member 7's feed"), dropped
after every write to it (``stamps_bump``) and replaced by a new random one when next
read. A cached thing records the stamps
of its scopes as they were before it was read (``stamped_get_or_set``) and is good
while they are unchanged: a write makes stale exactly what shows it, and no
reader ever has to be told.

A member who has just written reads their pages from the database for
``writer_window()`` seconds (``writer_mark``, ``reads_fresh``), so every memo and
bound above is about what *others* did: a member sees their own writes on their
next request, whichever process serves it.
docs/caching.md lists everything cached, with its expiry and invalidation.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Generic, TypeVar

import environ
import redis
from django.conf import settings
from django.core.cache import cache
from django.db import transaction

logger = logging.getLogger(__name__)

T = TypeVar("T")
K = TypeVar("K", bound=Hashable)

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


def shared_cache_failing() -> bool:
    """Whether this process skips a Redis that failed a moment ago (then every read misses)."""
    now = time.monotonic()
    return any(now < until for until in _down_until.values())


class LocalMemo(Generic[K, T]):
    """At most ``size`` values kept in this process, each for ``seconds()``; least recently
    used go first.

    For what many requests read and is right for a stated time: rows that never
    change once written (a post's text), or figures others may see a few seconds
    late (like counts). Nothing tells a memo of a change made in another process:
    its ``seconds`` is the bound. Shared by the threads of the process.
    """

    def __init__(self, *, size: int, seconds: Callable[[], float]):
        self.size, self.seconds = size, seconds
        self._kept: OrderedDict[K, tuple[float, T]] = OrderedDict()
        self._lock = threading.Lock()
        _memos.append(self)

    def get_many(self, keys: Iterable[K], read_many: Callable[[list[K]], dict[K, T]]) -> dict[K, T]:
        """The kept values of ``keys``; the others from ``read_many(missing)``, then kept.

        A key ``read_many`` leaves out (a row that is gone) is not kept: asked again next time.
        """
        now = time.monotonic()
        found: dict[K, T] = {}
        missing: list[K] = []
        with self._lock:
            for key in keys:
                kept = self._kept.get(key)
                if kept is not None and now < kept[0]:
                    found[key] = kept[1]
                    self._kept.move_to_end(key)
                elif key not in found:
                    missing.append(key)
        if missing:
            read = read_many(missing)
            until = time.monotonic() + self.seconds()
            with self._lock:
                for key, value in read.items():
                    self._kept[key] = (until, value)
                    self._kept.move_to_end(key)
                while len(self._kept) > self.size:
                    self._kept.popitem(last=False)
            found.update(read)
        return found

    def forget(self, keys: Iterable[K]) -> None:
        """Read these afresh next time in this process (after changing them here)."""
        with self._lock:
            for key in keys:
                self._kept.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._kept.clear()


_memos: list[LocalMemo] = []


def local_clear_all() -> None:
    """Empty the local tier and every memo of this process (tests start from nothing)."""
    _local.clear()
    for memo in _memos:
        memo.clear()


# --- stamps: what changed, by scope ---------------------------------------------------

STAMP_PREFIX = "stamp:"


def _new_stamp() -> str:
    return uuid.uuid4().hex


def stamps_read(scopes: Iterable[str], *, also: Iterable[str] = ()) -> tuple[list[str], dict]:
    """The current stamps of ``scopes``, and the values of ``also`` read with them.

    One read of the shared cache. A scope without a stamp (never changed, evicted,
    or the cache is down) gets a new one: everything stamped with the old one is
    stale, which is never wrong. ``add``, so that processes agree on it.
    """
    keys = [STAMP_PREFIX + name for name in scopes]
    extra = list(also)
    found = cache.get_many(keys + extra)
    current = []
    for key in keys:
        stamp = found.get(key)
        if stamp is None:
            stamp = _new_stamp()
            if not cache.add(key, stamp, None):
                stamp = cache.get(key) or stamp
        current.append(stamp)
    return current, {key: found[key] for key in extra if key in found}


def stamps_bump(scopes: Iterable[str], *, now: bool = True) -> None:
    """Make stale everything stamped with ``scopes``: now, and again once the transaction
    commits.

    Now (unless ``now`` is False: nothing reads them inside the writing
    transaction), so that reads later in the same transaction (and tests, whose
    transactions never commit) see the change; after the commit, because a reader
    in another transaction may have stamped what it read before the commit with
    the first new stamp. A stamp is dropped, not replaced: the next reader makes a new one
    (``stamps_read``), and a scope nobody reads (the feeds of members who are not
    looking) costs nothing to keep. A bump the cache drops leaves the old things
    to their expiry.
    """
    scopes = list(scopes)
    if not scopes:
        return
    if now:
        _bump(scopes)
    transaction.on_commit(lambda: _bump(scopes))


def _bump(scopes: list[str]) -> None:
    try:
        cache.delete_many([STAMP_PREFIX + scope for scope in scopes])
    except Exception as exc:
        shown = scopes if len(scopes) <= 5 else [*scopes[:5], f"and {len(scopes) - 5} more"]
        logger.warning("cache: could not bump %s (%s: %s)", shown, type(exc).__name__, exc)


def stamped_get_or_set(
    key: str, scopes: Iterable[str], read: Callable[[], T], *, timeout: float
) -> T:
    """``read()``, kept in the shared cache under ``key`` until a stamp of ``scopes`` changes
    (or ``timeout`` seconds pass).

    One read of the shared cache when it is kept. The stamps are read before
    ``read()`` runs, so a write that lands while it reads makes the value stale at
    once. ``read()`` must read what is committed (the primary, not a replica
    that may be behind): what it returns is shown to everyone.
    """
    current, found = stamps_read(scopes, also=[key])
    kept = found.get(key)
    if kept is not None and kept[0] == current:
        return kept[1]
    value = read()
    cache.set(key, (current, value), timeout)
    return value


# --- a member reads their own writes ---------------------------------------------------

WROTE_PREFIX = "wrote:"
# What the request has read of the shared cache that later code asks again.
_request: ContextVar[dict | None] = ContextVar("core_cache_request", default=None)


@contextmanager
def request_scope() -> Iterator[None]:
    """Around a web request: values read once per request are kept until it ends."""
    token = _request.set({})
    try:
        yield
    finally:
        _request.reset(token)


def writer_window() -> float:
    """How long after a write its writer reads from the database: the longest any memo
    or other process may lag (``MEMO_SECONDS``, ``LOCAL_CACHE_SECONDS``), plus the
    replica's allowed lag when there is one."""
    lag = settings.REPLICA_MAX_LAG if settings.REPLICA_URL else 0
    return settings.MEMO_SECONDS + settings.LOCAL_CACHE_SECONDS + lag + 1


def writer_mark(member_id: int) -> None:
    """The member wrote: their next pages read the database (see ``reads_fresh``)."""
    key = f"{WROTE_PREFIX}{member_id}"
    try:
        cache.set(key, time.time(), writer_window())
    except Exception as exc:
        logger.warning("cache: could not mark a writer (%s: %s)", type(exc).__name__, exc)
    memo = _request.get()
    if memo is not None:
        memo[key] = True


def writer_key(member_id: int) -> str:
    return f"{WROTE_PREFIX}{member_id}"


def reads_fresh(member_id: int, *, marker: Any = None, known: bool = False) -> bool:
    """Whether the member's pages must be read from the database: they wrote a moment
    ago, or the shared cache is failing (their mark could not be read).

    ``known``: the caller has just read the mark (``marker``) with other keys, in
    the same request; else it is read here, once per request.
    """
    key = writer_key(member_id)
    memo = _request.get()
    if memo is not None and key in memo:
        return memo[key]
    if not known:
        marker = cache.get(key)
    fresh = marker is not None or shared_cache_failing()
    if memo is not None:
        memo[key] = fresh
    return fresh
