"""What each part of a request costs, in-process: `manage.py request_profile`.

Each page is asked ``count`` times through the site's own WSGI handler (every
middleware, the view, the templates), as a visitor and as a member of the
throughput run (``lab.throughput``), with no network and no server in between.
For each it gives the median of: the whole request; the middleware stack (each
middleware's own time, before and after the view: probes between the layers);
the view, and within it the database (every query, timed by an execute wrapper)
and the rendering (the page's template). What is left of the view is Python:
the facades, the caches, building the answer. The queries are per request.
"""

from __future__ import annotations

import io
import statistics
import time
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler
from django.db import connections
from django.template.backends import django as django_backend
from django.templatetags.static import static
from django.test import override_settings

from lab import throughput

clock = time.perf_counter
PROBE = "lab.request_profile.Probe"
_marks: list[float] = []


class Probe:
    """Between two middleware layers: the time the request passes it, each way."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        _marks.append(clock())
        response = self.get_response(request)
        _marks.append(clock())
        return response


@dataclass(frozen=True)
class Profile:
    label: str
    path: str
    member: bool
    status: int
    total_ms: float
    stack_ms: float  # the middleware, each layer's own time
    view_ms: float  # URL resolution, the view and its template
    db_ms: float
    render_ms: float
    queries: float


class _Tally:
    def __init__(self):
        self.queries = 0
        self.db = 0.0
        self.render = 0.0

    def __call__(self, execute, sql, params, many, context):
        start = clock()
        try:
            return execute(sql, params, many, context)
        finally:
            self.db += clock() - start
            self.queries += 1


@contextmanager
def _rendering_timed(tally: _Tally):
    """Time the page's template (the backend's render: once per page, includes inside)."""
    render = django_backend.Template.render

    def timed(self, *args, **kwargs):
        start = clock()
        try:
            return render(self, *args, **kwargs)
        finally:
            tally.render += clock() - start

    django_backend.Template.render = timed
    try:
        yield
    finally:
        django_backend.Template.render = render


def _environ(path: str, cookie: str | None) -> dict:
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path.split("?")[0],
        "QUERY_STRING": path.partition("?")[2],
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "HTTP_HOST": "127.0.0.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_ACCEPT_LANGUAGE": "en",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
    }
    if cookie:
        environ["HTTP_COOKIE"] = cookie
    return environ


def _one(handler: WSGIHandler, path: str, cookie: str | None) -> tuple[int, dict]:
    tally = _Tally()
    statuses = []
    _marks.clear()
    with connections["default"].execute_wrapper(tally), _rendering_timed(tally):
        start = clock()
        body = handler(_environ(path, cookie), lambda status, headers: statuses.append(status))
        b"".join(body)
        total = clock() - start
    # _marks: the probes' times in, then out (outermost last out).
    half = len(_marks) // 2
    ins, outs = _marks[:half], _marks[half:][::-1]
    # No view when a middleware answered first (the page cache, WhiteNoise).
    probes = settings.MIDDLEWARE.count(PROBE)
    view = outs[-1] - ins[-1] if len(ins) == probes else 0.0
    parts = {
        "total": total,
        "stack": total - view,
        "view": view,
        "db": tally.db,
        "render": tally.render,
        "queries": tally.queries,
    }
    return int(statuses[0].split()[0]), parts


def profile(*, count: int = 200, member_count: int = 4) -> list[Profile]:
    author = throughput._author()
    viewers = throughput.run_members(member_count, author)
    cookies = [throughput._session_cookie(m) for m in viewers]
    pages = [
        ("/healthz (no view work)", "/healthz", False),
        ("a static file", static("css/site.css"), False),
        ("/posts/", "/posts/", False),
        ("/home/", "/home/", True),
        ("/posts/", "/posts/", True),
        ("a member's page", f"/members/{author.pk}/posts/", True),
        ("/me/", "/me/", True),
        ("/api/me/home", "/api/me/home", True),
    ]
    probed = [PROBE]
    for name in settings.MIDDLEWARE:
        probed += [name, PROBE]
    found = []
    with override_settings(MIDDLEWARE=probed):
        handler = WSGIHandler()
        for label, path, member in pages:
            runs = []
            for n in range(count + 20):  # the first 20 warm the caches
                cookie = cookies[n % len(cookies)] if member else None
                runs.append(_one(handler, path, cookie))
            runs = runs[20:]
            if runs[-1][0] != 200:
                raise RuntimeError(
                    f"{path} answered {runs[-1][0]}, not 200: run it as make serve runs the "
                    "site (HTTPS=0 DEBUG=0 ALLOWED_HOSTS=127.0.0.1)"
                )

            def median(part, runs=runs):
                return statistics.median(parts[part] for _, parts in runs) * 1000

            found.append(
                Profile(
                    label=label,
                    path=path,
                    member=member,
                    status=runs[-1][0],
                    total_ms=median("total"),
                    stack_ms=median("stack"),
                    view_ms=median("view"),
                    db_ms=median("db"),
                    render_ms=median("render"),
                    queries=statistics.mean(parts["queries"] for _, parts in runs),
                )
            )
    return found
