from datetime import date

import pytest

from posts.facades import today
from posts.tests.mothers import a_member, posts_on_days

pytestmark = pytest.mark.django_db


class TestCalendarPage:
    def test_needs_login(self, client):
        response = client.get("/me/calendar/")
        assert (response.status_code, response.url) == (302, "/login/?next=/me/calendar/")

    def test_this_month_shows_todays_count(self, member_client):
        member_client.post("/posts/new/", {"contents": "one"})
        member_client.post("/posts/new/", {"contents": "two"})

        response = member_client.get("/me/calendar/")

        assert response.status_code == 200
        cal = response.context["cal"]
        assert cal.month == today().replace(day=1)
        assert cal.total == 2
        assert f'data-date="{today():%Y-%m-%d}" data-count="2"' in response.text
        assert "today" in response.text

    def test_a_given_month(self, member_client):
        posts_on_days(member_client.member, {date(2025, 3, 5): 3})
        response = member_client.get("/me/calendar/?month=2025-03")
        assert response.context["cal"].total == 3
        assert 'href="?month=2025-02"' in response.text
        assert 'href="?month=2025-04"' in response.text

    def test_year_heat_map(self, member_client):
        posts_on_days(member_client.member, {date(2025, 3, 5): 3, date(2025, 7, 1): 1})
        response = member_client.get("/me/calendar/?year=2025")
        assert response.status_code == 200
        assert response.context["cal"].total == 4
        assert 'title="March 5, 2025: 3 posts"' in response.text
        assert 'title="July 1, 2025: 1 post"' in response.text
        assert "Less" in response.text
        assert "More" in response.text

    def test_empty_days_show_no_zero(self, member_client):
        posts_on_days(member_client.member, {date(2025, 3, 5): 3})
        page = member_client.get("/me/calendar/?month=2025-03").text
        assert page.count('class="count"') == 1
        assert '<span class="count">3</span>' in page

    def test_year_heat_map_labels_months_and_weekdays(self, member_client):
        page = member_client.get("/me/calendar/?year=2025").text
        assert page.count('class="heat-label" href="?month=2025-') == 12
        assert '<a class="heat-label" href="?month=2025-01">Jan</a>' in page
        assert "<span>Mon</span>" in page
        assert "js/heatmap.js" in page
        assert "style=" not in page  # everything in site.css

    def test_month_and_year_titles_match_in_korean(self, member_client):
        ko = {"HTTP_ACCEPT_LANGUAGE": "ko"}
        assert "2025년 3월</h2>" in member_client.get("/me/calendar/?month=2025-03", **ko).text
        year = member_client.get("/me/calendar/?year=2025", **ko).text
        assert "2025년</h2>" in year
        assert '<a class="heat-label" href="?month=2025-01">1월</a>' in year

    def test_only_my_counts(self, member_client):
        posts_on_days(a_member(), {date(2025, 3, 5): 3})
        assert member_client.get("/me/calendar/?month=2025-03").context["cal"].total == 0

    @pytest.mark.parametrize(
        ("query", "reason"),
        [
            ("month=2025-13", "The month must be 01 to 12."),
            ("month=2025-3", "Use YYYY-MM"),
            ("month=march", "Use YYYY-MM"),
            ("month=1899-12", "The year must be 1900 to 9998."),
            ("year=abcd", "Enter a whole number."),
            ("year=1899", "greater than or equal to 1900"),
            ("year=2025&month=2025-01", "Give either month or year, not both."),
        ],
    )
    def test_malformed_parameters_are_400(self, member_client, query, reason):
        response = member_client.get(f"/me/calendar/?{query}")
        assert response.status_code == 400
        assert reason in response.text


class TestCalendarApi:
    def test_anonymous_is_401_json(self, client):
        response = client.get("/api/me/calendar?start=2025-01-01&end=2025-01-31")
        assert response.status_code == 401
        assert "error" in response.json()

    def test_shape(self, member_client):
        member = member_client.member
        posts_on_days(member, {date(2025, 1, 3): 2, date(2025, 1, 1): 1, date(2025, 2, 1): 5})

        response = member_client.get("/api/me/calendar?start=2025-01-01&end=2025-01-31")

        assert response.status_code == 200
        assert response.json() == {
            "member_id": member.pk,
            "nickname": "kim",
            "start": "2025-01-01",
            "end": "2025-01-31",
            "days": [{"date": "2025-01-01", "count": 1}, {"date": "2025-01-03", "count": 2}],
        }

    def test_3660_days_is_allowed(self, member_client):
        response = member_client.get("/api/me/calendar?start=2015-01-01&end=2025-01-07")
        assert response.status_code == 200

    @pytest.mark.parametrize(
        ("query", "reason"),
        [
            ("", "start: This field is required."),
            ("start=2025-01-01", "end: This field is required."),
            ("start=2025-02-30&end=2025-03-01", "start: Enter a valid date."),
            ("start=01/01/2025&end=2025-03-01", "start: Enter a valid date."),
            ("start=2025-03-01&end=2025-02-01", "start must not be after end."),
            ("start=2015-01-01&end=2025-01-08", "The range is at most 3660 days."),
        ],
    )
    def test_bad_ranges_are_400_json(self, member_client, query, reason):
        response = member_client.get(f"/api/me/calendar?{query}")
        assert response.status_code == 400
        assert reason in response.json()["error"]
