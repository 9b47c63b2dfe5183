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
            "likes": 0,
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
