"""Whole-page cache for anonymous visitors, fresh on the next request after any write.

The read pages everyone sees the same (the timelines, a member's page and lists,
their JSON) are rendered once and served from the cache to every anonymous
visitor until something they show changes. That is decided by one value in the
cache, the *generation*: every page is stored under the generation it was
rendered in, and every write that changes a public page (a post written or
deleted, a like, a follow, a nickname, a sign-up) sets a new, random generation
once its transaction commits (``public_pages_changed``). The next request looks
under the new generation, misses, and renders afresh. Anything that changes data
without a service (the admin's edits, the bulk loaders, the rebuild commands) is
seen within PAGE_CACHE_SECONDS, the pages' expiry.

What is never cached: a request with a session or a pending message (it may be a
member's, or carry a flash message), a response that sets a cookie, anything but
a GET answered 200 by a view marked ``@public_page``. A cached page holds no CSRF
token: the public pages have no form that needs one (the language switcher's
POST is exempt). The generation and the pages live in Django's default cache,
which must be shared by every process serving the site (settings: CACHES); each
process may also keep the generation for LOCAL_CACHE_SECONDS (core/cache.py),
so an anonymous reader served by another process may see a write that much late.
A cache that fails is a miss: the page is rendered, and a new generation that
could not be stored leaves the old pages to their expiry, PAGE_CACHE_SECONDS.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import uuid

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import DisallowedHost
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from prometheus_client import Counter

from core.cache import local_forget, local_get_or_set

logger = logging.getLogger(__name__)

GENERATION_KEY = "pages:generation"
SKIP_COOKIES = (settings.SESSION_COOKIE_NAME, "messages")
SKIPPED_HEADERS = {"set-cookie", "x-page-cache"}
# Probes and scrapes come every few seconds: they must not wait on the cache (a
# silent Redis would fail liveness) nor count as misses.
UNCACHED_PATHS = ("/healthz", "/readyz", "/metrics")

# hit / (hit + miss) is the page cache's hit ratio; "error" counts lookups the cache
# failed (the page was rendered instead).
RESULTS = Counter("sns_page_cache", "Anonymous page cache lookups by result.", ["result"])
for _result in ("hit", "miss", "error"):
    RESULTS.labels(_result)  # exported at 0 from the start


def public_pages_changed() -> None:
    """Call in the transaction of any write that changes what a public page shows."""
    transaction.on_commit(_new_generation)


def _new_generation() -> None:
    try:
        cache.set(GENERATION_KEY, uuid.uuid4().hex, None)
    except Exception as exc:
        logger.warning("page cache: could not set a new generation (%s)", _reason(exc))
    local_forget(GENERATION_KEY)


def public_page(view):
    """Mark a view's 200 answers to anonymous GETs as the same for everyone: cacheable."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        response.public_page = True
        return response

    return wrapper


def _generation() -> str:
    return local_get_or_set(GENERATION_KEY, _shared_generation)


def _shared_generation() -> str:
    generation = cache.get(GENERATION_KEY)
    if generation is None:
        generation = uuid.uuid4().hex
        # add, not set: two processes starting at once agree on one generation.
        if not cache.add(GENERATION_KEY, generation, None):
            generation = cache.get(GENERATION_KEY) or generation
    return generation


def _key(request: HttpRequest, generation: str) -> str:
    language = translation.get_language_from_request(request)
    # Scheme and host are part of the page (the JSON's links are absolute).
    url = request.build_absolute_uri()
    digest = hashlib.sha256(f"{language} {url}".encode()).hexdigest()
    return f"pages:{generation}:{digest}"


def may_store(request: HttpRequest) -> bool:
    """Whether this request's answer may be served from, and stored in, the page cache."""
    return (
        settings.PAGE_CACHE
        and request.method == "GET"
        and request.path not in UNCACHED_PATHS
        and not any(c in request.COOKIES for c in SKIP_COOKIES)
    )


class PageCacheMiddleware:
    """Serve a cached public page before sessions, CSRF and the view; store the misses.

    Sits right after WhiteNoise: a hit costs two cache reads (one while the
    local tier holds the generation) and nothing else.
    A cache that fails is a miss (the page is rendered), never an error.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not may_store(request):
            return self.get_response(request)
        try:
            key = _key(request, _generation())
            stored = cache.get(key)
        except DisallowedHost:
            return self.get_response(request)  # answered with a 400 further in, in one line
        except Exception as exc:
            logger.warning("page cache unavailable (%s); rendering", _reason(exc))
            RESULTS.labels("error").inc()
            return self.get_response(request)
        if stored is not None:
            status, headers, content = stored
            response = HttpResponse(content, status=status)
            for name, value in headers:
                response[name] = value
            response["X-Page-Cache"] = "hit"
            RESULTS.labels("hit").inc()
            return response
        response = self.get_response(request)
        if (
            getattr(response, "public_page", False)
            and response.status_code == 200
            and not response.cookies
            and not response.streaming
        ):
            headers = [(k, v) for k, v in response.items() if k.lower() not in SKIPPED_HEADERS]
            try:
                cache.set(
                    key,
                    (response.status_code, headers, response.content),
                    settings.PAGE_CACHE_SECONDS,
                )
            except Exception as exc:
                logger.warning("page cache: could not store a page (%s)", _reason(exc))
            response["X-Page-Cache"] = "miss"
            RESULTS.labels("miss").inc()
        return response


def _reason(exc: Exception) -> str:
    # One line: a cache that is down fails every request the same way, and a
    # traceback each time would bury the rest of the log.
    return f"{type(exc).__name__}: {exc}"
