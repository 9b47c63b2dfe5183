"""What every app's views share: the 400 page, JSON errors, page links, the API's login."""

from __future__ import annotations

from functools import wraps
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from core.pagination import DEFAULT_SIZE, Cursor


def bad_request(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "bad_request.html", {"message": message}, status=400)


def json_error(message: str, status: int) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def json_response(data: dict) -> JsonResponse:
    return JsonResponse(data, json_dumps_params={"ensure_ascii": False})


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
