from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

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

    def test_other_years_posts_are_not_counted(self):
        member = a_member()
        posts_on_days(member, {date(2024, 12, 31): 3, date(2026, 1, 1): 3})
        cal = facades.calendar_year(member_id=member.pk, year=2025)
        assert cal.total == 0
        assert all(d.count == 0 for week in cal.weeks for d in week)


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
