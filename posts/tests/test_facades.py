from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.pagination import Cursor
from core.testing.queries import assert_no_join_offset_or_count
from posts import facades
from posts.tests.mothers import a_member, a_post, posts_on_days

pytestmark = pytest.mark.django_db


class TestCalendarMonth:
    def test_grid_counts_total_and_links(self):
        member = a_member()
        posts_on_days(member, {date(2025, 3, 1): 2, date(2025, 3, 31): 5, date(2025, 4, 1): 9})

        cal = facades.calendar_month(member_id=member.pk, month=date(2025, 3, 17))

        assert cal.month == date(2025, 3, 1)
        assert cal.total == 7
        assert (cal.previous, cal.next) == (date(2025, 2, 1), date(2025, 4, 1))
        assert all(len(week) == 7 for week in cal.weeks)
        assert cal.weeks[0][0].date.weekday() == 6  # Sunday first
        in_month = {d.date: d.count for week in cal.weeks for d in week if d.in_range}
        assert len(in_month) == 31
        assert in_month[date(2025, 3, 1)] == 2
        assert in_month[date(2025, 3, 2)] == 0
        assert in_month[date(2025, 3, 31)] == 5
        # April 1st fills the last week but is not this month's.
        outside = [d for week in cal.weeks for d in week if d.date == date(2025, 4, 1)]
        assert outside[0].in_range is False

    def test_today_is_marked(self):
        member = a_member()
        today = facades.today()
        a_post(member)
        cal = facades.calendar_month(member_id=member.pk, month=today)
        marked = [d for week in cal.weeks for d in week if d.is_today]
        assert [(d.date, d.count) for d in marked] == [(today, 1)]

    def test_december_links_to_next_january(self):
        cal = facades.calendar_month(member_id=a_member().pk, month=date(2024, 12, 1))
        assert (cal.previous, cal.next) == (date(2024, 11, 1), date(2025, 1, 1))

    def test_two_queries_no_join(self, django_assert_num_queries):
        member = a_member()
        posts_on_days(member, {date(2025, 3, d): d for d in range(1, 20)})
        with CaptureQueriesContext(connection) as ctx:
            facades.calendar_month(member_id=member.pk, month=date(2025, 3, 1))
        assert len(ctx.captured_queries) == 2
        assert_no_join_offset_or_count(ctx.captured_queries)

    def test_unknown_member(self):
        with pytest.raises(facades.MemberNotFound):
            facades.calendar_month(member_id=999_999, month=date(2025, 3, 1))

    def test_this_month_has_no_next_and_its_days_to_come_are_marked(self, on_day):
        on_day(date(2025, 3, 10))
        cal = facades.calendar_month(member_id=a_member().pk, month=date(2025, 3, 1))
        assert (cal.previous, cal.next) == (date(2025, 2, 1), None)
        days = {d.date: d for week in cal.weeks for d in week}
        assert [days[date(2025, 3, n)].is_future for n in (9, 10, 11)] == [False, False, True]
        last_month = facades.calendar_month(member_id=a_member().pk, month=date(2025, 2, 1))
        assert last_month.next == date(2025, 3, 1)

    @pytest.mark.parametrize(
        ("today", "month", "just_begun"),
        [
            (date(2025, 3, 1), date(2025, 3, 1), True),
            (date(2025, 3, 7), date(2025, 3, 1), True),
            (date(2025, 3, 8), date(2025, 3, 1), False),
            (date(2025, 3, 1), date(2025, 2, 1), False),
        ],
    )
    def test_just_begun_in_the_first_week_of_this_month(self, on_day, today, month, just_begun):
        on_day(today)
        cal = facades.calendar_month(member_id=a_member().pk, month=month)
        assert cal.just_begun is just_begun


class TestCalendarYear:
    def test_weeks_levels_and_total(self):
        member = a_member()
        posts_on_days(member, {date(2025, 1, 1): 1, date(2025, 6, 15): 4, date(2025, 12, 31): 8})

        cal = facades.calendar_year(member_id=member.pk, year=2025)

        assert cal.total == 13
        assert cal.max_count == 8
        assert len(cal.weeks) == 53
        assert all(len(week) == 7 for week in cal.weeks)
        days = {d.date: d for week in cal.weeks for d in week if d.in_range}
        assert len(days) == 365
        assert [days[date(2025, 1, 1)].level, days[date(2025, 6, 15)].level] == [1, 2]
        assert days[date(2025, 12, 31)].level == 4
        assert days[date(2025, 1, 2)].level == 0
        assert cal.month_starts[0] == (0, date(2025, 1, 1))
        assert (cal.previous, cal.next) == (2024, 2026)

    def test_a_leap_year_starting_on_saturday_needs_54_columns(self):
        cal = facades.calendar_year(member_id=a_member().pk, year=2028)
        days = [d.date for week in cal.weeks for d in week if d.in_range]
        assert len(cal.weeks) == 54
        assert (days[0], days[-1], len(days)) == (date(2028, 1, 1), date(2028, 12, 31), 366)

    def test_its_months_with_totals_and_no_next_year_from_this_one(self, on_day):
        on_day(date(2025, 3, 10))
        member = a_member()
        posts_on_days(member, {date(2025, 1, 1): 1, date(2025, 1, 31): 2, date(2025, 3, 10): 4})

        cal = facades.calendar_year(member_id=member.pk, year=2025)

        totals = [(m.month.month, m.total) for m in cal.months]
        assert totals[:4] == [(1, 3), (2, 0), (3, 4), (4, 0)]
        assert [m.month.month for m in cal.months if m.is_future] == list(range(4, 13))
        assert [m.month.month for m in cal.months if m.is_current] == [3]
        assert (cal.previous, cal.next) == (2024, None)
        assert facades.calendar_year(member_id=member.pk, year=2024).next == 2025

    def test_other_years_posts_are_not_counted(self):
        member = a_member()
        posts_on_days(member, {date(2024, 12, 31): 3, date(2026, 1, 1): 3})
        cal = facades.calendar_year(member_id=member.pk, year=2025)
        assert cal.total == 0
        assert all(d.count == 0 for week in cal.weeks for d in week)


class TestCalendarDay:
    def test_a_page_of_the_days_posts_with_its_count(self):
        member = a_member()
        made = posts_on_days(member, {date(2025, 3, 4): 1, date(2025, 3, 5): 3})

        with CaptureQueriesContext(connection) as ctx:
            day = facades.calendar_day(
                member_id=member.pk, day=date(2025, 3, 5), cursor=Cursor(size=2)
            )

        # The member, the page (its extra row says there is more), the day's count.
        assert len(ctx.captured_queries) == 3
        assert_no_join_offset_or_count(ctx.captured_queries)
        assert [p.pk for p in day.posts] == [made[3].pk, made[2].pk]
        assert day.count == 3
        assert day.older == Cursor(before=made[2].pk, size=2)
        assert day.newer is None
        assert (day.previous, day.next) == (date(2025, 3, 4), date(2025, 3, 6))

    @pytest.mark.parametrize(
        ("day", "previous", "following"),
        [
            (date(1900, 1, 1), None, date(1900, 1, 2)),
            (date(2025, 3, 9), date(2025, 3, 8), date(2025, 3, 10)),
            (date(2025, 3, 10), date(2025, 3, 9), None),
            (date(2025, 3, 11), date(2025, 3, 10), None),
        ],
    )
    def test_the_days_around_it_stop_at_1900_and_today(self, on_day, day, previous, following):
        on_day(date(2025, 3, 10))
        found = facades.calendar_day(member_id=a_member().pk, day=day, cursor=Cursor())
        assert (found.previous, found.next, found.count, found.posts) == (
            previous,
            following,
            0,
            [],
        )

    def test_unknown_member(self):
        with pytest.raises(facades.MemberNotFound):
            facades.calendar_day(member_id=999_999, day=date(2025, 3, 1), cursor=Cursor())


def test_calendar_days_two_queries_and_days_with_posts_only():
    member = a_member(nickname="kim")
    start = date(2025, 1, 1)
    posts_on_days(member, {start + timedelta(days=i): i % 3 for i in range(30)})

    with CaptureQueriesContext(connection) as ctx:
        found = facades.calendar_days(member_id=member.pk, start=start, end=date(2025, 1, 10))

    assert len(ctx.captured_queries) == 2
    assert_no_join_offset_or_count(ctx.captured_queries)
    assert found.member.nickname == "kim"
    assert [d.date.day for d in found.days] == [2, 3, 5, 6, 8, 9]
