"""The "my posts calendar": the member and post domains composed.

Each function asks ``members.services`` for members and ``posts.services`` for
posts or daily counts, and combines them in Python: never a join across the
two domains ("조인은 최대한 미루자").
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

from django.utils import timezone

from core.pagination import Cursor
from members import services as members
from members.services import MemberNotFound, PublicMember
from posts import services as posts
from posts.models import Post

# Weeks start on Sunday, as on Korean (and US) wall calendars.
FIRST_WEEKDAY = calendar.SUNDAY
HEAT_LEVELS = 4
# Pages show 1900 (the earliest birthdate) to 9998: a grid's padding days stay valid dates.
FIRST_YEAR, LAST_YEAR = 1900, 9998
# In a month's first week its grid is nearly empty: the page says so and offers the last.
EARLY_DAYS = 7


def _member(member_id: int) -> PublicMember:
    member = members.member_public(member_id=member_id)
    if member is None:
        raise MemberNotFound(member_id)
    return member


def today() -> date:
    return timezone.localdate(timezone=timezone.get_default_timezone())


# --- "my posts calendar" -----------------------------------------------------


@dataclass(frozen=True)
class CalendarDay:
    date: date
    count: int
    level: int  # 0 (no posts) .. HEAT_LEVELS
    in_range: bool  # False for the neighbouring month's days that fill a grid week
    is_today: bool
    is_future: bool  # after today: nothing to show, so no link to it


@dataclass(frozen=True)
class CalendarDays:
    member: PublicMember
    start: date
    end: date
    days: list[posts.DayCount]


@dataclass(frozen=True)
class MonthCalendar:
    member: PublicMember
    month: date  # the first of the month
    weeks: list[list[CalendarDay]]
    total: int
    previous: date | None
    next: date | None  # None after this month: no links into the future
    just_begun: bool  # this month, in its first EARLY_DAYS days


@dataclass(frozen=True)
class MonthTotal:
    month: date  # the first of the month
    total: int
    is_future: bool
    is_current: bool


@dataclass(frozen=True)
class YearHeatmap:
    member: PublicMember
    year: int
    weeks: list[list[CalendarDay]]  # columns of 7 days, Sunday first
    month_starts: list[tuple[int, date]]  # (week column, first of month) for labels
    months: list[MonthTotal]  # the way to each month's grid
    total: int
    max_count: int
    previous: int | None
    next: int | None  # None after this year


@dataclass(frozen=True)
class DayPosts:
    member: PublicMember
    day: date
    count: int  # the day's posts, from its daily count
    posts: list[Post]  # one keyset page, newest first
    older: Cursor | None
    newer: Cursor | None
    previous: date | None  # the day before
    next: date | None  # the day after; None after today


def calendar_days(*, member_id: int, start: date, end: date) -> CalendarDays:
    """Per-day post counts for ``start..end``: days with posts only, ascending."""
    member = _member(member_id)
    return CalendarDays(
        member, start, end, posts.daily_post_counts(member_id=member_id, start=start, end=end)
    )


def _level(count: int, max_count: int) -> int:
    # ceil(count / max * levels): any post shows, the busiest day is the darkest.
    return 0 if count == 0 else -(-count * HEAT_LEVELS // max_count)


def _grid(
    weeks: list[list[date]], start: date, end: date, counts: dict[date, int]
) -> list[list[CalendarDay]]:
    max_count = max(counts.values(), default=0)
    now = today()
    return [
        [
            CalendarDay(
                date=day,
                count=counts.get(day, 0),
                level=_level(counts.get(day, 0), max_count),
                in_range=start <= day <= end,
                is_today=day == now,
                is_future=day > now,
            )
            for day in week
        ]
        for week in weeks
    ]


def calendar_month(*, member_id: int, month: date) -> MonthCalendar:
    """The month grid: weeks x days, days without posts as 0, the month's total."""
    first = month.replace(day=1)
    last = first.replace(day=calendar.monthrange(first.year, first.month)[1])
    found = calendar_days(member_id=member_id, start=first, end=last)
    counts = {d.date: d.count for d in found.days}
    weeks = calendar.Calendar(FIRST_WEEKDAY).monthdatescalendar(first.year, first.month)
    previous = (first - timedelta(days=1)).replace(day=1)
    following = last + timedelta(days=1)
    now = today()
    return MonthCalendar(
        member=found.member,
        month=first,
        weeks=_grid(weeks, first, last, counts),
        total=sum(counts.values()),
        previous=previous if previous.year >= FIRST_YEAR else None,
        next=following if following <= now.replace(day=1) else None,
        just_begun=first == now.replace(day=1) and now.day <= EARLY_DAYS,
    )


def calendar_year(*, member_id: int, year: int) -> YearHeatmap:
    """The year heat map: week columns of 7 days, shaded by count relative to the busiest."""
    first, last = date(year, 1, 1), date(year, 12, 31)
    found = calendar_days(member_id=member_id, start=first, end=last)
    counts = {d.date: d.count for d in found.days}
    # Back up to the week's first day; the grid may start in the previous year.
    offset = (first.weekday() - FIRST_WEEKDAY) % 7
    start = first - timedelta(days=offset)
    n_weeks = (offset + (last - first).days + 7) // 7
    weeks = [[start + timedelta(days=7 * w + d) for d in range(7)] for w in range(n_weeks)]
    month_starts = [((date(year, m, 1) - start).days // 7, date(year, m, 1)) for m in range(1, 13)]
    this_month = today().replace(day=1)
    per_month = [0] * 13
    for day, count in counts.items():
        per_month[day.month] += count
    months = [
        MonthTotal(
            month=first_day,
            total=per_month[first_day.month],
            is_future=first_day > this_month,
            is_current=first_day == this_month,
        )
        for _, first_day in month_starts
    ]
    return YearHeatmap(
        member=found.member,
        year=year,
        weeks=_grid(weeks, first, last, counts),
        month_starts=month_starts,
        months=months,
        total=sum(counts.values()),
        max_count=max(counts.values(), default=0),
        previous=year - 1 if year > FIRST_YEAR else None,
        next=year + 1 if year < this_month.year else None,
    )


def calendar_day(*, member_id: int, day: date, cursor: Cursor) -> DayPosts:
    """One day of the member's posts, a keyset page at a time, with the days around it."""
    member = _member(member_id)
    page = posts.day_posts_page(member_id=member_id, day=day, cursor=cursor)
    counted = posts.daily_post_counts(member_id=member_id, start=day, end=day)
    before, after = day - timedelta(days=1), day + timedelta(days=1)
    return DayPosts(
        member=member,
        day=day,
        count=counted[0].count if counted else 0,
        posts=page.items,
        older=page.older,
        newer=page.newer,
        previous=before if before.year >= FIRST_YEAR else None,
        next=after if after <= today() else None,
    )
