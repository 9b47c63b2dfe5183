from datetime import date
from urllib.parse import parse_qs, urlparse

import pytest

from members import services as members
from posts.facades import today
from posts.models import DailyPostCount, Post
from posts.tests.mothers import a_member, a_post, posts_on_days

pytestmark = pytest.mark.django_db


@pytest.fixture
def member_client(client):
    member = a_member(nickname="kim")
    client.force_login(member)
    client.member = member
    return client


def test_home_redirects_to_the_timeline(client):
    response = client.get("/")
    assert (response.status_code, response.url) == (302, "/posts/")


class TestNewPost:
    def test_needs_login(self, client):
        response = client.get("/posts/new/")
        assert (response.status_code, response.url) == (302, "/login/?next=/posts/new/")
        client.post("/posts/new/", {"contents": "anonymous"})
        assert not Post.objects.exists()

    def test_form(self, member_client):
        response = member_client.get("/posts/new/")
        assert response.status_code == 200
        assert 'name="contents"' in response.text

    def test_success_goes_to_my_posts_and_counts_today(self, member_client):
        member = member_client.member
        response = member_client.post("/posts/new/", {"contents": "first post"})

        assert response.status_code == 302
        assert response.url == f"/members/{member.pk}/posts/"
        post = Post.objects.get()
        assert (post.member_id, post.contents, post.created_date) == (
            member.pk,
            "first post",
            today(),
        )
        assert DailyPostCount.objects.get(member=member).count == 1
        assert "Your post is up." in member_client.get(response.url).text

    @pytest.mark.parametrize(
        ("contents", "message"),
        [
            ("", "This field is required."),
            ("   ", "This field is required."),
            ("x" * 501, "at most 500 characters"),
        ],
    )
    def test_bad_contents_re_renders_and_writes_nothing(self, member_client, contents, message):
        response = member_client.post("/posts/new/", {"contents": contents})
        assert response.status_code == 200
        assert message in response.text
        assert not Post.objects.exists()
        assert not DailyPostCount.objects.exists()


class TestTimelinePages:
    def test_newest_first_with_nicknames(self, client):
        kim, lee = a_member(nickname="kim"), a_member(nickname="lee")
        a_post(kim, contents="older one")
        a_post(lee, contents="newer one")

        response = client.get("/posts/")

        assert response.status_code == 200
        text = response.text
        assert text.index("newer one") < text.index("older one")
        assert f'href="/members/{kim.pk}/posts/">kim</a>' in text

    def test_contents_and_nicknames_are_escaped(self, client):
        member = a_member(nickname="<i>n</i>")
        a_post(member, contents="<script>alert(1)</script>")
        for url in ("/posts/", f"/members/{member.pk}/posts/"):
            text = client.get(url).text
            assert "<script>alert(1)</script>" not in text
            assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
            assert "<i>n</i>" not in text

    def test_no_email_on_public_pages(self, client):
        member = a_member(email="secret@example.com")
        a_post(member)
        for url in ("/posts/", f"/members/{member.pk}/posts/", "/api/posts"):
            assert "secret@example.com" not in client.get(url).content.decode()

    def test_paging_with_size_2(self, client):
        member = a_member()
        posts = posts_on_days(member, {date(2025, 1, 1): 5})
        ids = [p.pk for p in reversed(posts)]

        first = client.get("/posts/?size=2")
        assert [e.id for e in first.context["page"].entries] == ids[:2]
        assert first.context["newer_url"] is None
        assert first.context["older_url"] == f"/posts/?before={ids[1]}&size=2"

        second = client.get(first.context["older_url"])
        assert [e.id for e in second.context["page"].entries] == ids[2:4]
        assert second.context["newer_url"] == f"/posts/?after={ids[2]}&size=2"

        last = client.get(second.context["older_url"])
        assert [e.id for e in last.context["page"].entries] == ids[4:]
        assert last.context["older_url"] is None
        assert 'rel="next"' not in last.text
        assert 'rel="prev"' in last.text

        back = client.get(last.context["newer_url"])
        assert [e.id for e in back.context["page"].entries] == ids[2:4]

    def test_member_timeline_shows_only_theirs(self, client):
        kim, lee = a_member(nickname="kim"), a_member(nickname="lee")
        a_post(kim, contents="by kim")
        a_post(lee, contents="by lee")
        response = client.get(f"/members/{kim.pk}/posts/")
        assert response.status_code == 200
        assert "Posts by kim" in response.text
        assert "by kim" in response.text
        assert "by lee" not in response.text

    @pytest.mark.parametrize("member_id", ["999999", "99999999999999999999"])
    def test_unknown_member_is_404(self, client, member_id):
        assert client.get(f"/members/{member_id}/posts/").status_code == 404

    @pytest.mark.parametrize(
        ("query", "reason"),
        [
            ("before=abc", "before: Enter a whole number."),
            ("size=0", "size: Ensure this value is greater than or equal to 1."),
            ("size=101", "size: Ensure this value is less than or equal to 100."),
            ("before=3&after=1", "Give either before or after, not both."),
        ],
    )
    def test_malformed_parameters_are_400_with_the_reason(self, client, query, reason):
        for url in ("/posts/", f"/members/{a_member().pk}/posts/"):
            response = client.get(f"{url}?{query}")
            assert response.status_code == 400
            assert reason in response.text


class TestTimelineApi:
    def test_shape_and_links(self, client):
        member = a_member(nickname="kim")
        posts = posts_on_days(member, {date(2025, 1, 1): 3})

        body = client.get("/api/posts?size=2").json()

        assert list(body) == ["posts", "next", "previous"]
        assert body["posts"][0] == {
            "id": posts[2].pk,
            "member_id": member.pk,
            "nickname": "kim",
            "contents": posts[2].contents,
            "created_at": "2025-01-01T12:00:00+09:00",
        }
        assert body["previous"] is None
        nxt = urlparse(body["next"])
        assert (nxt.scheme, nxt.path) == ("http", "/api/posts")
        assert parse_qs(nxt.query) == {"before": [str(posts[1].pk)], "size": ["2"]}

        older = client.get(body["next"]).json()
        assert [p["id"] for p in older["posts"]] == [posts[0].pk]
        assert older["next"] is None
        assert parse_qs(urlparse(older["previous"]).query) == {
            "after": [str(posts[0].pk)],
            "size": ["2"],
        }

    def test_member_posts(self, client):
        kim, lee = a_member(nickname="kim"), a_member()
        a_post(kim, contents="mine")
        a_post(lee)
        body = client.get(f"/api/members/{kim.pk}/posts").json()
        assert [(p["nickname"], p["contents"]) for p in body["posts"]] == [("kim", "mine")]

    def test_nickname_is_the_current_one(self, client):
        member = a_member(nickname="old")
        a_post(member)
        members.member_change_nickname(member_id=member.pk, nickname="새이름")
        assert client.get("/api/posts").json()["posts"][0]["nickname"] == "새이름"

    def test_errors_are_json(self, client):
        response = client.get("/api/posts?size=abc")
        assert response.status_code == 400
        assert response.json() == {"error": "size: Enter a whole number."}
        response = client.get("/api/members/999999/posts")
        assert response.status_code == 404
        assert response.json() == {"error": "No such member."}


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
