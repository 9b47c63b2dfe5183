"""What every app's views share: the 400 page, JSON errors, page links, the API's login,
the answer a page's script asks for, and where a form may send a member back to."""

from __future__ import annotations

from functools import wraps
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from core.pagination import DEFAULT_SIZE, Cursor


def bad_request(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "bad_request.html", {"message": message}, status=400)


def json_error(message: str, status: int) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def json_response(data: dict) -> JsonResponse:
    return JsonResponse(data, json_dumps_params={"ensure_ascii": False})


def asks_for_json(request: HttpRequest) -> bool:
    """The page's own script (static/js/actions.js) sent the form: it wants JSON, not a 302.

    A browser submitting the form itself accepts text/html first (and */* after it),
    so only a request that prefers JSON gets it.
    """
    return request.get_preferred_type(["text/html", "application/json"]) == "application/json"


def local_url(request: HttpRequest, url: str | None) -> str | None:
    """``url`` if it leads to this site (a ``next`` or a referrer), else None."""
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return None


def api_login_required(view):
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        if not request.user.is_authenticated:
            return json_error(_("Authentication required: log in first."), 401)
        return view(request, *args, **kwargs)

    return wrapper


def page_url(request: HttpRequest, cursor: Cursor | None, *, absolute: bool = False) -> str | None:
    if cursor is None:
        return None
    params = {}
    if cursor.before is not None:
        params["before"] = cursor.before
    elif cursor.after is not None:
        params["after"] = cursor.after
    if cursor.size != DEFAULT_SIZE:
        params["size"] = cursor.size
    url = f"{request.path}?{urlencode(params)}" if params else request.path
    return request.build_absolute_uri(url) if absolute else url
