"""The calendar pages and JSON. Each view parses input with a form, calls one facade, renders.

The pages that list posts (timelines, home) compose several domains and live in
``social.views``.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from core.web.http import api_login_required, bad_request, json_error, json_response, page_url
from posts import facades
from posts.forms import CalendarDayForm, CalendarPageForm, CalendarRangeForm, error_text


@login_required
@require_safe
def my_calendar(request: HttpRequest) -> HttpResponse:
    form = CalendarPageForm(request.GET)
    if not form.is_valid():
        return bad_request(request, error_text(form))
    year = form.cleaned_data["year"]
    if year is not None:
        heatmap = facades.calendar_year(member_id=request.user.pk, year=year)
        return render(request, "posts/calendar_year.html", {"cal": heatmap})
    month = form.cleaned_data["month"] or facades.today()
    grid = facades.calendar_month(member_id=request.user.pk, month=month)
    return render(request, "posts/calendar_month.html", {"cal": grid})


@login_required
@require_safe
def my_calendar_day(request: HttpRequest, day: str) -> HttpResponse:
    data = request.GET.copy()
    data["day"] = day
    form = CalendarDayForm(data)
    if not form.is_valid():
        return bad_request(request, error_text(form))
    found = facades.calendar_day(
        member_id=request.user.pk, day=form.cleaned_data["day"], cursor=form.cursor()
    )
    return render(
        request,
        "posts/calendar_day.html",
        {
            "cal": found,
            "older_url": page_url(request, found.older),
            "newer_url": page_url(request, found.newer),
        },
    )


@api_login_required
@require_safe
def api_my_calendar(request: HttpRequest) -> JsonResponse:
    form = CalendarRangeForm(request.GET)
    if not form.is_valid():
        return json_error(error_text(form), 400)
    found = facades.calendar_days(
        member_id=request.user.pk, start=form.cleaned_data["start"], end=form.cleaned_data["end"]
    )
    return json_response(
        {
            "member_id": found.member.id,
            "nickname": found.member.nickname,
            "start": found.start.isoformat(),
            "end": found.end.isoformat(),
            "days": [{"date": d.date.isoformat(), "count": d.count} for d in found.days],
        }
    )
