"""The calendar pages and JSON. Each view parses input with a form, calls one facade, renders.

The pages that list posts (timelines, home) compose several domains and live in
``social.views``.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe
from ninja import Field, Router, Schema, Status

from core.web.api import errors, form_parameters, session
from core.web.http import bad_request, page_url
from posts import facades
from posts.forms import (
    MAX_RANGE_DAYS,
    CalendarDayForm,
    CalendarPageForm,
    CalendarRangeForm,
    error_text,
)

api = Router(tags=["calendar"])


class DayOut(Schema):
    date: str = Field(json_schema_extra={"format": "date"})
    count: int = Field(ge=1)


class CalendarOut(Schema):
    member_id: int
    nickname: str
    start: str = Field(json_schema_extra={"format": "date"})
    end: str = Field(json_schema_extra={"format": "date"})
    days: list[DayOut] = Field(description="The days with posts, ascending; others are 0.")


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


@api.api_operation(
    ["GET", "HEAD"],
    "/me/calendar",
    auth=session,
    response={200: CalendarOut, **errors(400, 401)},
    openapi_extra=form_parameters(
        CalendarRangeForm,
        rules=f"`start` <= `end`, both included, at most {MAX_RANGE_DAYS} days.",
    ),
    summary="How many posts I wrote on each day of a range",
)
def api_my_calendar(request: HttpRequest):
    form = CalendarRangeForm(request.GET)
    if not form.is_valid():
        return Status(400, {"error": error_text(form)})
    found = facades.calendar_days(
        member_id=request.user.pk, start=form.cleaned_data["start"], end=form.cleaned_data["end"]
    )
    return {
        "member_id": found.member.id,
        "nickname": found.member.nickname,
        "start": found.start.isoformat(),
        "end": found.end.isoformat(),
        "days": [{"date": d.date.isoformat(), "count": d.count} for d in found.days],
    }
