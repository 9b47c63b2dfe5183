from datetime import date, timedelta

import pytest

from posts.facades import today
from posts.tests.mothers import a_member, a_post, noon, posts_on_days

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
        posts_on_days(member_client.member, {date(2025, 3, 5): 3, date(2025, 3, 9): 1})
        page = member_client.get("/me/calendar/?year=2025").text
        # The labels over the map are text; the months above it are the links.
        assert '<span class="heat-label">Jan</span>' in page
        assert page.count('class="month-link" href="?month=2025-') == 12
        assert 'href="?month=2025-03" aria-label="March 2025: 4 posts"' in page
        assert "<span>Mon</span>" in page
        assert "js/heatmap.js" in page
        assert "style=" not in page  # everything in site.css

    def test_month_and_year_titles_match_in_korean(self, member_client):
        ko = {"HTTP_ACCEPT_LANGUAGE": "ko"}
        assert "2025년 3월</h2>" in member_client.get("/me/calendar/?month=2025-03", **ko).text
        year = member_client.get("/me/calendar/?year=2025", **ko).text
        assert "2025년</h2>" in year
        assert '<span class="heat-label">1월</span>' in year
        assert 'aria-label="2025년 3월: 게시물 0개"' in year

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


class TestCalendarWalk:
    """Day cells are links, the year leads back to its months, nothing leads past today."""

    def test_days_up_to_today_are_links_to_their_posts(self, member_client, on_day):
        on_day(date(2025, 3, 10))
        posts_on_days(member_client.member, {date(2025, 3, 5): 3})
        page = member_client.get("/me/calendar/?month=2025-03").text
        assert 'href="/me/calendar/2025-03-05/" aria-label="March 5, 2025: 3 posts"' in page
        assert 'href="/me/calendar/2025-03-01/"' in page  # no posts: a link still
        assert 'href="/me/calendar/2025-03-10/"' in page  # today
        assert 'href="/me/calendar/2025-03-11/"' not in page  # tomorrow
        assert page.count('class="day-cell" href=') == 10

    @pytest.mark.parametrize(
        ("month", "previous", "following"),
        [
            ("2025-02", "2025-01", "2025-03"),
            ("2025-03", "2025-02", None),
            ("2025-04", "2025-03", None),
        ],
    )
    def test_no_link_into_a_month_to_come(self, member_client, on_day, month, previous, following):
        on_day(date(2025, 3, 10))
        page = member_client.get(f"/me/calendar/?month={month}").text
        assert f'rel="prev" href="?month={previous}"' in page
        assert ('rel="next"' in page) == (following is not None)
        if following:
            assert f'rel="next" href="?month={following}"' in page

    @pytest.mark.parametrize(("year", "has_next"), [(2024, True), (2025, False), (2026, False)])
    def test_no_link_into_a_year_to_come(self, member_client, on_day, year, has_next):
        on_day(date(2025, 3, 10))
        page = member_client.get(f"/me/calendar/?year={year}").text
        assert f'rel="prev" href="?year={year - 1}"' in page
        assert (f'rel="next" href="?year={year + 1}"' in page) == has_next

    def test_the_year_leads_to_each_month_until_this_one(self, member_client, on_day):
        on_day(date(2025, 3, 10))
        page = member_client.get("/me/calendar/?year=2025").text
        assert page.count('class="month-link" href="?month=2025-') == 3
        assert 'href="?month=2025-03" aria-label="March 2025: 0 posts"' in page
        assert 'title="March 2025: 0 posts" aria-current="date"' in page
        assert '<span class="month-link future">Apr</span>' in page

    @pytest.mark.parametrize(("day", "said"), [(1, True), (7, True), (8, False), (31, False)])
    def test_the_first_days_of_a_month_offer_the_last(self, member_client, on_day, day, said):
        on_day(date(2025, 3, day))
        page = member_client.get("/me/calendar/").text
        assert ("March 2025 has only just begun." in page) == said
        assert ('<a href="?month=2025-02">See February 2025</a>' in page) == said

    def test_only_this_month_says_it_has_just_begun(self, member_client, on_day):
        on_day(date(2025, 3, 2))
        assert "just begun" not in member_client.get("/me/calendar/?month=2025-02").text
        assert "just begun" in member_client.get("/me/calendar/?month=2025-03").text


class TestCalendarDayPage:
    def test_needs_login(self, client):
        response = client.get("/me/calendar/2025-03-05/")
        assert (response.status_code, response.url) == (
            302,
            "/login/?next=/me/calendar/2025-03-05/",
        )

    def test_the_days_posts_of_mine_newest_first(self, member_client):
        me = member_client.member
        day = date(2025, 3, 5)
        at = noon(day)
        mine = [a_post(me, contents=f"mine {n}", at=at + timedelta(minutes=n)) for n in (1, 2)]
        a_post(me, contents="the day before", at=noon(day - timedelta(days=1)))
        a_post(a_member(), contents="someone else's", at=noon(day))

        response = member_client.get("/me/calendar/2025-03-05/")

        assert response.status_code == 200
        assert [p.id for p in response.context["cal"].posts] == [mine[1].pk, mine[0].pk]
        text = response.text
        assert "mine 2" in text
        assert "mine 1" in text
        assert "the day before" not in text
        assert "someone else" not in text
        assert "2 posts on this day" in text
        delete = f'href="/posts/{mine[0].pk}/delete/?next=/me/calendar/2025-03-05/" data-delete'
        assert delete in text
        assert 'id="delete-question"' in text
        assert "private" in response["Cache-Control"]

    def test_the_days_around_it_and_its_month(self, member_client, on_day):
        on_day(date(2025, 3, 10))
        text = member_client.get("/me/calendar/2025-03-01/").text
        assert 'rel="prev" href="/me/calendar/2025-02-28/"' in text
        assert 'rel="next" href="/me/calendar/2025-03-02/"' in text
        assert '<a href="/me/calendar/?month=2025-03">March 2025</a>' in text
        assert "No posts on this day." in text

    @pytest.mark.parametrize(
        ("day", "has_next"), [("2025-03-09", True), ("2025-03-10", False), ("2025-03-11", False)]
    )
    def test_no_link_past_today(self, member_client, on_day, day, has_next):
        on_day(date(2025, 3, 10))
        text = member_client.get(f"/me/calendar/{day}/").text
        assert ('rel="next"' in text) == has_next

    def test_the_first_day_there_is_has_no_day_before(self, member_client):
        text = member_client.get("/me/calendar/1900-01-01/").text
        assert 'rel="prev"' not in text
        assert 'rel="next" href="/me/calendar/1900-01-02/"' in text

    def test_keyset_pages(self, member_client):
        me, day = member_client.member, date(2025, 3, 5)
        made = [a_post(me, contents=f"n{n}", at=noon(day) + timedelta(minutes=n)) for n in range(5)]
        ids = [p.pk for p in reversed(made)]

        first = member_client.get("/me/calendar/2025-03-05/?size=2")
        assert [p.id for p in first.context["cal"].posts] == ids[:2]
        assert first.context["newer_url"] is None
        assert first.context["older_url"] == f"/me/calendar/2025-03-05/?before={ids[1]}&size=2"

        last = member_client.get(f"/me/calendar/2025-03-05/?before={ids[3]}&size=2")
        assert [p.id for p in last.context["cal"].posts] == ids[4:]
        assert last.context["older_url"] is None
        assert last.context["newer_url"] == f"/me/calendar/2025-03-05/?after={ids[4]}&size=2"

        newer = member_client.get(last.context["newer_url"])
        assert [p.id for p in newer.context["cal"].posts] == ids[2:4]
        # Five posts, size 5: one page; size 4: one more.
        assert member_client.get("/me/calendar/2025-03-05/?size=5").context["older_url"] is None
        assert member_client.get("/me/calendar/2025-03-05/?size=4").context["older_url"]

    def test_a_korean_post_is_marked_korean(self, member_client):
        a_post(member_client.member, contents="든든합니다", at=noon(date(2025, 3, 5)))
        assert (
            '<div class="post-body" lang="ko">든든합니다</div>'
            in member_client.get("/me/calendar/2025-03-05/").text
        )

    @pytest.mark.parametrize(
        ("day", "reason"),
        [
            ("2025-02-30", "day: Enter a valid date."),
            ("2025-3-05", "day: Enter a valid date."),
            ("yesterday", "day: Enter a valid date."),
            ("２０２５-03-05", "day: Enter a valid date."),
            ("1899-12-31", "The year must be 1900 to 9998."),
            ("9999-01-01", "The year must be 1900 to 9998."),
            ("2025-03-05/?before=x", "before: Enter a whole number."),
            ("2025-03-05/?before=5&after=3", "Give either before or after, not both."),
        ],
    )
    def test_malformed_is_400(self, member_client, day, reason):
        path = f"/me/calendar/{day}" if "?" in day else f"/me/calendar/{day}/"
        response = member_client.get(path)
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
