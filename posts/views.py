"""Post pages and JSON. Each view parses input with a form, calls one service or facade, renders.

Malformed parameters are a 400 that says what was wrong (JSON ``{"error": ...}``
under ``/api/``); an anonymous visitor to ``/api/me/...`` gets a 401 JSON.
"""

from __future__ import annotations

from functools import wraps
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from posts import facades, services
from posts.forms import CalendarPageForm, CalendarRangeForm, PostForm, error_text
from posts.pagination import DEFAULT_SIZE, Cursor, CursorForm


def _bad_request(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "posts/bad_request.html", {"message": message}, status=400)


def _json_error(message: str, status: int) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def _api_login_required(view):
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        if not request.user.is_authenticated:
            return _json_error(_("Authentication required: log in first."), 401)
        return view(request, *args, **kwargs)

    return wrapper


def _page_url(request: HttpRequest, cursor: Cursor | None, *, absolute: bool = False) -> str | None:
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


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    return redirect("timeline")


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def new_post(request: HttpRequest) -> HttpResponse:
    form = PostForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.post_write(member_id=request.user.pk, contents=form.cleaned_data["contents"])
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Your post is up."))
            return redirect("member_timeline", member_id=request.user.pk)
    return render(request, "posts/new.html", {"form": form})


@require_safe
def timeline(request: HttpRequest, member_id: int | None = None) -> HttpResponse:
    form = CursorForm(request.GET)
    if not form.is_valid():
        return _bad_request(request, error_text(form))
    try:
        page = facades.timeline(cursor=form.cursor(), member_id=member_id)
    except facades.MemberNotFound:
        raise Http404(_("No such member.")) from None
    return render(
        request,
        "posts/timeline.html",
        {
            "page": page,
            "older_url": _page_url(request, page.older),
            "newer_url": _page_url(request, page.newer),
        },
    )


@require_safe
def api_timeline(request: HttpRequest, member_id: int | None = None) -> JsonResponse:
    form = CursorForm(request.GET)
    if not form.is_valid():
        return _json_error(error_text(form), 400)
    try:
        page = facades.timeline(cursor=form.cursor(), member_id=member_id)
    except facades.MemberNotFound:
        return _json_error(_("No such member."), 404)
    return JsonResponse(
        {
            "posts": [
                {
                    "id": entry.id,
                    "member_id": entry.member_id,
                    "nickname": entry.nickname,
                    "contents": entry.contents,
                    "created_at": timezone.localtime(entry.created_at).isoformat(),
                }
                for entry in page.entries
            ],
            "next": _page_url(request, page.older, absolute=True),
            "previous": _page_url(request, page.newer, absolute=True),
        },
        json_dumps_params={"ensure_ascii": False},
    )


@login_required
@require_safe
def my_calendar(request: HttpRequest) -> HttpResponse:
    form = CalendarPageForm(request.GET)
    if not form.is_valid():
        return _bad_request(request, error_text(form))
    year = form.cleaned_data["year"]
    if year is not None:
        heatmap = facades.calendar_year(member_id=request.user.pk, year=year)
        return render(request, "posts/calendar_year.html", {"cal": heatmap})
    month = form.cleaned_data["month"] or facades.today()
    grid = facades.calendar_month(member_id=request.user.pk, month=month)
    return render(request, "posts/calendar_month.html", {"cal": grid})


@_api_login_required
@require_safe
def api_my_calendar(request: HttpRequest) -> JsonResponse:
    form = CalendarRangeForm(request.GET)
    if not form.is_valid():
        return _json_error(error_text(form), 400)
    found = facades.calendar_days(
        member_id=request.user.pk, start=form.cleaned_data["start"], end=form.cleaned_data["end"]
    )
    return JsonResponse(
        {
            "member_id": found.member.id,
            "nickname": found.member.nickname,
            "start": found.start.isoformat(),
            "end": found.end.isoformat(),
            "days": [{"date": d.date.isoformat(), "count": d.count} for d in found.days],
        },
        json_dumps_params={"ensure_ascii": False},
    )
