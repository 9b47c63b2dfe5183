"""Sessions in the database, with a copy in the shared cache kept SESSION_CACHE_SECONDS at most.

Django's cached_db store: the database holds every session, the cache a copy
read first. A cache that is down or comes back empty costs one primary-key read
a request and logs nobody out. The copy's life is capped because a write the
cache misses is dropped silently (core/cache.py): a logout during a blip of
Redis deletes the session from the database but not from the cache, and once
Redis answers again with its old contents, the copy, stored for the session's
whole age (two weeks), would let the logged-out session in. Capped, it cannot
outlive SESSION_CACHE_SECONDS; neither can a copy written by a request that
read the session just before another server logged it out.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.sessions.backends import cached_db


class _Capped:
    """A cache whose writes expire within ``seconds``; the rest passes through."""

    def __init__(self, cache, seconds: int):
        self._cache, self._seconds = cache, seconds

    def __getattr__(self, name):
        return getattr(self._cache, name)

    def __contains__(self, key) -> bool:
        return key in self._cache

    def set(self, key, value, timeout):
        return self._cache.set(key, value, min(timeout, self._seconds))

    async def aset(self, key, value, timeout):
        return await self._cache.aset(key, value, min(timeout, self._seconds))


class SessionStore(cached_db.SessionStore):
    def __init__(self, session_key=None):
        super().__init__(session_key)
        self._cache = _Capped(self._cache, settings.SESSION_CACHE_SECONDS)
