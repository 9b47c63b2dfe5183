"""Whole-page cache for anonymous visitors, fresh on the next request after a write to what
it shows.

The read pages everyone sees the same (the timelines, a member's page and lists,
their JSON) are rendered once and served from the cache to every anonymous
visitor until something they show changes. What a page shows is named by its
*scopes* (``@public_page(scopes=...)``): the timeline, one member (their posts,
counts, nickname and lists), one post, everyone's nicknames. Every write that
changes a public page says which scopes it changed (``pages_changed``), and that
bumps their stamps (core/cache.py): a page is stored with the stamps its scopes
had before it was rendered and served while they are unchanged. A like makes
stale the JSON of its post, a follow the pages of its two members, a post the
timeline and its author's pages; nothing else is rendered again. Pages that
show like counts of many posts are kept MEMO_SECONDS, so others' likes show on
them that late at most (a member's own like shows at once on their pages, which
are never these). Anything that changes data without a service (the admin's
edits, the bulk loaders, the rebuild commands) is seen within PAGE_CACHE_SECONDS.

The key is the language and the full URL. A query with a parameter the page does
not read is rendered and never stored, and a page with a query is stored on its
second request within PAGE_CACHE_SECONDS: a client walking random cursors leaves
a marker of a few bytes per URL, not a page. Concurrent misses of one page render
it once: the first takes a lock in the cache, the others wait for its answer (up
to LOCK_WAIT_SECONDS, then render themselves).

What is never cached for visitors: a request with a session or a pending message
(it may be a member's, or carry a flash message), a response that sets a cookie,
anything but a GET answered 200 by a view marked ``@public_page``.

A member's own pages (``@member_page``: their home, the timelines as they see
them, ``/me/``) are kept apart, per member and browser (the key holds their CSRF
cookie), for MEMO_SECONDS at most, checked on every request against the
session (as Django checks it) and the stamps of what they show (for the home,
its feed: every writer of feed rows bumps it); never for a member who has just
written (docs/speed.md). A request whose answer may be kept reads the primary
(``may_keep``, core/web/dbrouter.py). A cached page holds no CSRF
token: the public pages have no form that needs one (the language switcher's
POST is exempt). The pages and stamps live in Django's default cache, which must
be shared by every process serving the site (settings: CACHES). A cache that
fails is a miss: the page is rendered, and a bump that could not be stored leaves
the old pages to their expiry.

The middleware also marks, after every non-safe request of a member, that they
wrote (``core.cache.writer_mark``), and gives each request its scope of values
read once (``core.cache.request_scope``).
"""

from __future__ import annotations

import functools
import hashlib
import logging
import time
from collections.abc import Callable, Iterable
from importlib import import_module

from django.conf import settings
from django.contrib import auth
from django.core.cache import cache
from django.core.exceptions import DisallowedHost
from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, get_urlconf, resolve
from django.utils import translation
from prometheus_client import Counter

from core.cache import (
    reads_fresh,
    request_scope,
    stamps_bump,
    stamps_read,
    writer_key,
    writer_mark,
)

logger = logging.getLogger(__name__)

SKIP_COOKIES = (settings.SESSION_COOKIE_NAME, "messages")
SKIPPED_HEADERS = {"set-cookie", "x-page-cache"}
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
# Probes and scrapes come every few seconds: they must not wait on the cache (a
# silent Redis would fail liveness) nor count as misses.
UNCACHED_PATHS = ("/healthz", "/readyz", "/metrics")
# A render holds the lock at most this long (a process that died mid-render); the
# others wait this long for it, polling every LOCK_POLL_SECONDS, then render too.
LOCK_SECONDS = 10
LOCK_WAIT_SECONDS = 2.0
LOCK_POLL_SECONDS = 0.005

# hit / (hit + miss) is the page cache's hit ratio; "waited" counts hits served after
# waiting for another request's render, "error" lookups the cache failed (the page
# was rendered instead).
RESULTS = Counter("sns_page_cache", "Anonymous page cache lookups by result.", ["result"])
for _result in ("hit", "miss", "waited", "error"):
    RESULTS.labels(_result)  # exported at 0 from the start
MEMBER_RESULTS = Counter(
    "sns_member_page_cache", "Members' page cache lookups by result.", ["result"]
)
for _result in ("hit", "miss", "fresh", "error"):
    MEMBER_RESULTS.labels(_result)

# --- scopes: what a page shows ---------------------------------------------------------

TIMELINE = "timeline"  # which posts there are, and their authors' nicknames
NICKNAMES = "nicknames"  # every member's nickname (lists of members show them)


def member_scope(member_id: int) -> str:
    """A member's posts, post count, follow counts and lists, and nickname."""
    return f"member:{member_id}"


def feed_scope(owner_id: int) -> str:
    """The rows of a member's home feed (every writer of them: ``feeds.services``)."""
    return f"feed:{owner_id}"


def post_scope(post_id: int) -> str:
    """One post and its like count."""
    return f"post:{post_id}"


def pages_changed(
    *,
    timeline: bool = False,
    members: Iterable[int] = (),
    posts: Iterable[int] = (),
    feeds: Iterable[int] = (),
    nicknames: bool = False,
    everything: bool = False,
) -> None:
    """Call in the transaction of a write that changes what public pages show.

    ``timeline``: a post came or went; ``members``: what their pages show changed;
    ``posts``: those posts changed (a like) or went; ``feeds``: rows of these
    members' home feeds came or went (a fan-out, a trim); ``nicknames``: a nickname
    changed (the timeline shows it too); ``everything``: members went, with
    their posts, likes and follows (``members`` are they): every list of posts or
    members is stale. The follow counts of those they followed show within
    PAGE_CACHE_SECONDS.
    """
    scopes = []
    if timeline or nicknames or everything:
        scopes.append(TIMELINE)
    if nicknames or everything:
        scopes.append(NICKNAMES)
    scopes += [member_scope(m) for m in sorted(set(members))]
    scopes += [post_scope(p) for p in sorted(set(posts))]
    stamps_bump(scopes)
    # After the commit alone: no page reads a feed inside the transaction writing it (a
    # worker's, or a member's own write, whose pages read fresh), and a fan-out chunk
    # bumps thousands of feeds.
    stamps_bump([feed_scope(owner) for owner in set(feeds)], now=False)


def public_page(
    *,
    scopes: Callable[..., list[str]],
    params: Iterable[str] = (),
    likes: bool = False,
    url_name: str | None = None,
):
    """Mark a view's 200 answers to anonymous GETs as the same for everyone: cacheable.

    ``scopes(**url kwargs)`` names what the page shows; ``params`` are the query
    parameters it reads (any other makes the request uncacheable); ``likes``: it
    shows the like counts of many posts, which do not bump its scopes; ``url_name``:
    the view's URL name, for a view that django-ninja dispatches (its path does not
    resolve to the view itself).
    """
    params = frozenset(params)

    def decorate(view):
        @functools.wraps(view)
        def wrapper(request, *args, **kwargs):
            response = view(request, *args, **kwargs)
            response.public_page = True
            return response

        wrapper.page_scopes = scopes
        wrapper.page_params = params
        wrapper.page_likes = likes
        if url_name is not None:
            _DISPATCHED[url_name] = wrapper
        return wrapper

    return decorate


def member_page(*, scopes: Callable[..., list[str]], url_name: str | None = None):
    """Mark a view's 200 answers to a member's GET without a query as theirs to keep.

    ``scopes(viewer_id=, **url kwargs)`` names what others may change on the page
    (their stamps are read with the page: the home's is its feed, which every
    fan-out bumps). What a page shows of others beyond these (like counts,
    nicknames) is at most MEMO_SECONDS old, the page's lifetime; what the member
    does themselves makes them a writer (``core.cache.writer_mark``), whose pages
    are never served from here. ``url_name`` as for ``public_page``.
    """

    def decorate(view):
        @functools.wraps(view)
        def wrapper(request, *args, **kwargs):
            response = view(request, *args, **kwargs)
            response.member_page = True
            return response

        wrapper.member_scopes = scopes  # functools.wraps keeps a @public_page's marks
        if url_name is not None:
            _DISPATCHED[url_name] = wrapper
        return wrapper

    return decorate


# The JSON API's paths resolve to django-ninja's dispatcher, not to the view: its
# ``@public_page`` and ``@member_page`` views are found by their URL's name.
_DISPATCHED: dict[str, Callable] = {}


def _key(request: HttpRequest) -> str:
    language = translation.get_language_from_request(request)
    # Scheme and host are part of the page (the JSON's links are absolute).
    url = request.build_absolute_uri()
    return "page:" + hashlib.sha256(f"{language} {url}".encode()).hexdigest()


def may_store(request: HttpRequest) -> bool:
    """Whether this request's answer may be served from, and stored in, the page cache."""
    return (
        settings.PAGE_CACHE
        and request.method == "GET"
        and request.path not in UNCACHED_PATHS
        and not any(c in request.COOKIES for c in SKIP_COOKIES)
    )


def may_keep_for_member(request: HttpRequest) -> bool:
    """Whether this may be a member's request for a page of theirs kept in the cache.

    A GET without a query, with a session and the CSRF cookie the page's forms are
    signed with (a first visit, which is given one, is rendered), and no
    pending message (a flash shown once).
    """
    cookies = request.COOKIES
    return (
        settings.PAGE_CACHE
        and request.method == "GET"
        and not request.META.get("QUERY_STRING")
        and settings.SESSION_COOKIE_NAME in cookies
        and settings.CSRF_COOKIE_NAME in cookies
        and "messages" not in cookies
    )


def may_keep(request: HttpRequest) -> bool:
    """Whether this request's answer may be kept, for visitors or for the member: its
    reads go to the primary (``core.web.dbrouter``), since a page rendered from a
    replica a moment behind would be kept under the stamps of the newer rows."""
    return may_store(request) or (
        may_keep_for_member(request) and _member_view(request) is not None
    )


def _page_view(request: HttpRequest):
    """The ``@public_page`` view the path leads to, with its URL arguments; None for any other."""
    page = _resolved(get_urlconf(), request.path_info)
    return page if page is not None and hasattr(page[0], "page_scopes") else None


def _member_view(request: HttpRequest):
    """The ``@member_page`` view the path leads to, with its URL arguments; None for any other."""
    page = _resolved(get_urlconf(), request.path_info)
    return page if page is not None and hasattr(page[0], "member_scopes") else None


# Resolving walks every URL pattern (an eighth of a hit's time): each path once per
# process, the most recent few thousand kept.
@functools.lru_cache(maxsize=4096)
def _resolved(urlconf: str | None, path: str):
    try:
        match = resolve(path, urlconf)
    except Resolver404:
        return None
    view = match.func
    if not (hasattr(view, "page_scopes") or hasattr(view, "member_scopes")):
        dispatched = view.__qualname__.startswith("PathView.")  # a django-ninja path
        view = _DISPATCHED.get(match.url_name) if dispatched else None
        if view is None:
            return None
    return view, match.kwargs


class PageCacheMiddleware:
    """Serve a cached public page before sessions, CSRF and the view; store the misses.

    Sits right after WhiteNoise: a hit costs one read of the shared cache (the
    page and its scopes' stamps together) and nothing else.
    A cache that fails is a miss (the page is rendered), never an error.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with request_scope():
            if may_store(request):
                return self._cached(request)
            if may_keep_for_member(request):
                return self._kept_for_member(request)
            response = self.get_response(request)
            if request.method not in SAFE_METHODS and response.status_code < 500:
                _mark_writer(request)
            return response

    def _cached(self, request: HttpRequest) -> HttpResponse:
        page = _page_view(request)
        if page is None:
            return self.get_response(request)
        view, kwargs = page
        if not set(request.GET) <= view.page_params:
            return self.get_response(request)  # never stored: not worth a lookup
        try:
            key = _key(request)
            stamps, found = stamps_read(view.page_scopes(**kwargs), also=[key])
        except DisallowedHost:
            return self.get_response(request)  # answered with a 400 further in, in one line
        except Exception as exc:
            logger.warning("page cache unavailable (%s); rendering", _reason(exc))
            RESULTS.labels("error").inc()
            return self.get_response(request)
        stored = found.get(key)
        if stored is not None and stored[0] == stamps:
            RESULTS.labels("hit").inc()
            return _response(stored, "hit")
        if request.GET and _first_sight(key):
            return self._render(request, key, stamps, view, store=False)
        lock = f"{key}:lock"
        locked = _try(cache.add, lock, 1, LOCK_SECONDS)
        if locked is None:  # the cache failed: no one to wait for
            return self._render(request, key, stamps, view, store=True)
        if not locked:
            waited = _wait_for(key, stamps)
            if waited is not None:
                RESULTS.labels("waited").inc()
                return _response(waited, "hit")
            return self._render(request, key, stamps, view, store=False)
        try:
            return self._render(request, key, stamps, view, store=True)
        finally:
            _try(cache.delete, lock)

    def _render(self, request, key, stamps, view, *, store: bool) -> HttpResponse:
        response = self.get_response(request)
        if not (
            getattr(response, "public_page", False)
            and response.status_code == 200
            and not response.cookies
            and not response.streaming
        ):
            return response
        if store:
            headers = [(k, v) for k, v in response.items() if k.lower() not in SKIPPED_HEADERS]
            seconds = settings.PAGE_CACHE_SECONDS
            if view.page_likes:
                seconds = min(seconds, settings.MEMO_SECONDS)
            stored = (stamps, response.status_code, headers, response.content)
            _try(cache.set, key, stored, seconds)
        response["X-Page-Cache"] = "miss"
        RESULTS.labels("miss").inc()
        return response

    def _kept_for_member(self, request: HttpRequest) -> HttpResponse:
        """A member's page, served from the cache while nothing it shows has changed.

        The session and the member are checked as the full stack checks them
        (``django.contrib.auth.get_user``: a logged-out session, a changed
        password, "log out everywhere" each fail it), each from its cached copy.
        The key is the member, their CSRF cookie, the language and the URL: no
        page ever reaches another member, nor another browser of theirs.
        """
        page = _member_view(request)
        if page is None:
            return self.get_response(request)
        view, kwargs = page
        try:
            viewer = _session_member(request)
            if viewer is None:
                return self.get_response(request)
            if reads_fresh(viewer):  # read with the member's copy, just now
                MEMBER_RESULTS.labels("fresh").inc()
                return self.get_response(request)
            key = _member_key(request, viewer)
            stamps, found = stamps_read(view.member_scopes(viewer_id=viewer, **kwargs), also=[key])
        except DisallowedHost:
            return self.get_response(request)
        except Exception as exc:
            # The full stack meets the same failure and answers it (a 503, a login page).
            logger.warning("member page cache unavailable (%s); rendering", _reason(exc))
            MEMBER_RESULTS.labels("error").inc()
            return self.get_response(request)
        stored = found.get(key)
        if stored is not None and stored[0] == stamps:
            MEMBER_RESULTS.labels("hit").inc()
            return _response(stored, "hit")
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if (
            getattr(response, "member_page", False)
            and response.status_code == 200
            and _csrf_renewal_only(request, response)
            and not response.streaming
            and user is not None
            and user.pk == viewer
            # They wrote while it rendered: it may show the page before their write.
            and _try(cache.get, writer_key(viewer)) is None
        ):
            headers = [(k, v) for k, v in response.items() if k.lower() not in SKIPPED_HEADERS]
            cookies = list(response.cookies.values())
            stored = (stamps, response.status_code, headers, response.content, cookies)
            _try(cache.set, key, stored, settings.MEMO_SECONDS)
            response["X-Page-Cache"] = "miss"
        MEMBER_RESULTS.labels("miss").inc()
        return response


def _csrf_renewal_only(request: HttpRequest, response: HttpResponse) -> bool:
    """Whether the only cookie the response sets is the request's own CSRF cookie again.

    Django sends it with every page that has a form, to renew its expiry; a kept
    page sends it again, as the stack would (its relative max-age renews it).
    """
    name = settings.CSRF_COOKIE_NAME
    return set(response.cookies) <= {name} and (
        name not in response.cookies or response.cookies[name].value == request.COOKIES[name]
    )


def _session_member(request: HttpRequest) -> int | None:
    """The id of the member whose session the request carries, checked as Django checks it."""
    engine = import_module(settings.SESSION_ENGINE)
    request.session = engine.SessionStore(request.COOKIES[settings.SESSION_COOKIE_NAME])
    user = auth.get_user(request)
    # The stack builds its own from the cookie (a session flushed here is gone there too).
    del request.session
    return user.pk if user.is_authenticated else None


def _member_key(request: HttpRequest, viewer: int) -> str:
    language = translation.get_language_from_request(request)
    csrf = request.COOKIES[settings.CSRF_COOKIE_NAME]
    url = request.build_absolute_uri()
    return "mpage:" + hashlib.sha256(f"{viewer} {csrf} {language} {url}".encode()).hexdigest()


def _response(stored: tuple, state: str) -> HttpResponse:
    _, status, headers, content, *cookies = stored
    response = HttpResponse(content, status=status)
    for name, value in headers:
        response[name] = value
    for morsel in cookies[0] if cookies else ():  # a member's page: its CSRF cookie's renewal
        response.cookies[morsel.key] = morsel
    response["X-Page-Cache"] = state
    return response


def _first_sight(key: str) -> bool:
    """Whether this URL was not asked for in the last PAGE_CACHE_SECONDS (then remember it)."""
    return bool(_try(cache.add, f"{key}:seen", 1, settings.PAGE_CACHE_SECONDS))


def _wait_for(key: str, stamps: list[str]) -> tuple | None:
    """The page another request is rendering, once it is stored; None if it takes too long."""
    deadline = time.monotonic() + LOCK_WAIT_SECONDS
    while time.monotonic() < deadline:
        time.sleep(LOCK_POLL_SECONDS)
        stored = _try(cache.get, key)
        if stored is not None and stored[0] == stamps:
            return stored
    return None


def _mark_writer(request: HttpRequest) -> None:
    # The view has read the user if it wrote for them (login_required does).
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        writer_mark(user.pk)


def _try(call, *args):
    """A cache call whose failure is a miss (None), logged in one line."""
    try:
        return call(*args)
    except Exception as exc:
        logger.warning("page cache: %s failed (%s)", call.__name__, _reason(exc))
        return None


def _reason(exc: Exception) -> str:
    # One line: a cache that is down fails every request the same way, and a
    # traceback each time would bury the rest of the log.
    return f"{type(exc).__name__}: {exc}"
