"""Middleware for hostile input and failing parts: answer 400 or 503, never 500 or a hang."""

from __future__ import annotations

import logging
import re

from django.core.exceptions import RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, UnreadablePostError
from django.template.loader import render_to_string
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.views.defaults import page_not_found

from core.exceptions import NotFound

logger = logging.getLogger(__name__)

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
DATABASE_ERRORS = (OperationalError, InterfaceError)


def wants_json(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def _error(request: HttpRequest, message: str, status: int) -> HttpResponse:
    """A short answer that touches neither the database nor the session."""
    if wants_json(request):
        response = JsonResponse({"error": message}, status=status)
    else:
        html = render_to_string("unavailable.html", {"message": message, "status": status})
        response = HttpResponse(html, status=status)
    # Our log line says why; Django's would only repeat "Bad Request: /path".
    response._has_been_logged = True
    return response


# A request id as nginx makes it ($request_id: 32 hex digits) or a UUID in its usual
# 36-character form. Nothing longer, no prefixes, braces or other characters.
REQUEST_ID = re.compile(
    r"[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE
)


class RequestIdMiddleware:
    """Drop an ``X-Request-ID`` that is not a plain UUID, so django-guid makes a new one.

    django-guid takes whatever ``uuid.UUID()`` parses: 2 000 ``urn:uuid:`` prefixes
    (an 8 KB id, on the response and every log line), braces, a trailing NEL.
    Sits just before django-guid's middleware.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        sent = request.META.get("HTTP_X_REQUEST_ID")
        if sent is not None and not REQUEST_ID.fullmatch(sent):
            del request.META["HTTP_X_REQUEST_ID"]
            request.__dict__.pop("headers", None)  # read afresh from META
        return self.get_response(request)


class RequestBodyMiddleware:
    """Refuse a body cut short in transit or in a charset other than UTF-8.

    The body is read here, before anything parses it: a client that declares
    ``Content-Length: 183`` and closes after 153 bytes would otherwise have its
    truncated form saved. A form body in any charset but UTF-8 makes Django raise
    while parsing it, again inside the CSRF check of its own error view, and
    answer 500 with a chain of tracebacks. (The service takes no uploads, so the
    whole body in memory is fine; Django caps it at DATA_UPLOAD_MAX_MEMORY_SIZE.)
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        problem = self.problem(request)
        if problem:
            logger.warning("400 %s %s: %s", request.method, request.path, problem)
            return _error(request, problem, 400)
        return self.get_response(request)

    @staticmethod
    def problem(request: HttpRequest) -> str | None:
        content_type = request.content_type or ""
        charset = request.content_params.get("charset")
        if content_type in FORM_TYPES and charset and charset.lower() != "utf-8":
            return _("The request body must be UTF-8 (charset=utf-8).")
        chunked = "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower()
        if chunked and not request.META.get("CONTENT_LENGTH"):
            # WSGI gives no way to read a body of unknown length: Django would read
            # it as empty, and a form would be saved without its fields.
            return _("A request body needs a Content-Length (chunked bodies are not read).")
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return _("The Content-Length header is not a number.")
        try:
            body = request.body
        except RequestDataTooBig:
            return _("The request body is too large.")
        except UnreadablePostError:
            body = b""
        if len(body) != declared:
            return _("The request body is shorter than its Content-Length.")
        return None


class DatabaseUnavailableMiddleware:
    """A database that is down or silent is a 503 (JSON under /api/), with one log line.

    The database options bound every wait (connect, read and write timeouts), so
    the error comes in seconds; this turns it into an answer instead of a 500.
    ``core.web.dbrouter.ReplicaRetryMiddleware`` does the same for the views it calls.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, DATABASE_ERRORS):
            return database_unavailable(request, exception)
        return None


class NotFoundMiddleware:
    """What a service could not find (``core.exceptions.NotFound``) is a 404, in one place.

    JSON ``{"error": ...}`` under /api/, the site's 404 page elsewhere.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, NotFound):
            return not_found(request, exception)
        return None


def rate_limited(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Over a rate limit (``RATELIMIT_VIEW``): a 429 that says so; nothing was written."""
    logger.warning("429 %s %s: over a rate limit", request.method, request.path)
    response = _error(request, _("Too many requests. Please wait a minute and try again."), 429)
    response["Retry-After"] = "60"
    return response


class ReadableNotFoundMiddleware:
    """``make run`` (DEBUG) answers a missing page with the site's own 404 page.

    With DEBUG on, Django answers one with its technical page: the URL patterns, 980 px
    wide, unreadable on a phone, and not what a visitor trying the site should meet. The
    debug toolbar still shows a developer the request. Installed only with DEBUG.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        html = response.get("Content-Type", "").startswith("text/html")
        if response.status_code == 404 and html and not wants_json(request):
            return page_not_found(request, Http404())
        return response


def not_found(request: HttpRequest, exception: NotFound) -> HttpResponse:
    if wants_json(request):
        return JsonResponse({"error": str(exception)}, status=404)
    return page_not_found(request, Http404(str(exception)))


def url_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler404: a URL that matches nothing (``/api/posts/abc``) is JSON under /api/ too."""
    if wants_json(request):
        return JsonResponse({"error": str(NotFound.message)}, status=404)
    return page_not_found(request, exception)


def database_unavailable(request: HttpRequest, exception: Exception) -> HttpResponse:
    logger.error(
        "503 %s %s: database unavailable: %s: %s",
        request.method,
        request.path,
        type(exception).__name__,
        exception,
    )
    response = _error(
        request, _("The service is unavailable for a moment. Please try again shortly."), 503
    )
    response["Retry-After"] = "10"
    return response


class PrivateCacheMiddleware:
    """Pages shown to a logged-in member carry their data (at least the nickname
    in the header): ``Cache-Control: private, no-cache`` keeps shared caches out."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        session = getattr(request, "session", None)
        # An unread session means the page did not depend on who asked; a 5xx
        # may mean the database is gone, and looking up the member would wait on it.
        if session is not None and session.accessed and response.status_code < 500:
            user = getattr(request, "user", None)
            if user is not None and user.is_authenticated:
                patch_cache_control(response, private=True, no_cache=True)
        return response


class HeadMiddleware:
    """Answer HEAD with GET's headers (Content-Length included) and no body.

    Django leaves dropping the body to the server; gunicorn drops it, and logs a
    warning for every HEAD request (a load balancer's or a monitor's probes) while
    doing so. Sits outside CommonMiddleware, which sets Content-Length.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.method == "HEAD" and not response.streaming and response.content:
            response.headers.setdefault("Content-Length", str(len(response.content)))
            response.content = b""
        return response
