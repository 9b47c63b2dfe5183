from datetime import date
from urllib.parse import parse_qs, urlparse

import pytest
from django.core.cache import cache
from django.test import Client

from core import outbox
from core.cache import local_clear_all
from feeds.models import FeedEntry
from follows import services as follows
from likes import services as likes
from likes.models import Like
from members import services as members
from posts.facades import today
from posts.models import DailyPostCount, Post
from posts.tests.mothers import a_member, a_post, posts_on_days

pytestmark = pytest.mark.django_db


def test_root_sends_a_visitor_to_the_timeline(client):
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


# --- home, follows, likes and deleting ------------------------------------------------


@pytest.fixture
def run_on_commit(monkeypatch):
    """Fan-out runs at once, as it would right after the request's commit.

    (Each test runs inside one transaction that never commits.)
    """
    monkeypatch.setattr(outbox, "outbox_enqueue", lambda row: outbox.outbox_send(type(row), row.pk))
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def anonymous():
    return Client()


class TestRoot:
    def test_a_member_goes_home(self, member_client):
        response = member_client.get("/")
        assert (response.status_code, response.url) == (302, "/home/")


class TestHome:
    def test_needs_login(self, client):
        response = client.get("/home/")
        assert (response.status_code, response.url) == (302, "/login/?next=/home/")
        api = client.get("/api/me/home")
        assert api.status_code == 401
        assert "error" in api.json()

    def test_my_posts_and_those_i_follow(self, member_client, run_on_commit):
        lee, park = a_member(nickname="lee"), a_member(nickname="park")
        member_client.post(f"/members/{lee.pk}/follow/")
        member_client.post("/posts/new/", {"contents": "mine"})
        from social.tests.mothers import publish

        publish(lee, "from lee")
        publish(park, "from park, not followed")

        page = member_client.get("/home/")
        body = member_client.get("/api/me/home").json()

        assert "from lee" in page.text
        assert "mine" in page.text
        assert "from park" not in page.text
        assert [p["contents"] for p in body["posts"]] == ["from lee", "mine"]
        assert set(body["posts"][0]) == {
            "id",
            "member_id",
            "nickname",
            "contents",
            "created_at",
            "likes",
        }

    def test_a_malformed_cursor_is_400(self, member_client):
        assert member_client.get("/home/?before=x").status_code == 400
        response = member_client.get("/api/me/home?size=0")
        assert response.status_code == 400
        assert "size" in response.json()["error"]


class TestFollowViews:
    def test_follow_and_unfollow_are_idempotent_and_go_to_the_member(self, member_client):
        lee = a_member()
        for _ in range(2):
            response = member_client.post(f"/members/{lee.pk}/follow/")
            assert (response.status_code, response.url) == (302, f"/members/{lee.pk}/posts/")
        assert follows.follow_counts(member_id=lee.pk).followers == 1
        page = member_client.get(f"/members/{lee.pk}/posts/")
        assert "Unfollow" in page.text
        assert "1 follower" in page.text
        for _ in range(2):
            response = member_client.post(f"/members/{lee.pk}/unfollow/")
            assert response.status_code == 302
        assert follows.follow_counts(member_id=lee.pk).followers == 0
        assert ">Follow<" in member_client.get(f"/members/{lee.pk}/posts/").text

    def test_following_yourself_is_400_and_writes_nothing(self, member_client):
        response = member_client.post(f"/members/{member_client.member.pk}/follow/")
        assert response.status_code == 400
        assert "yourself" in response.text
        assert follows.follow_counts(member_id=member_client.member.pk).following == 0

    def test_unknown_member_is_404(self, member_client):
        assert member_client.post("/members/999999/follow/").status_code == 404
        assert member_client.post("/members/999999/unfollow/").status_code == 404

    def test_anonymous_goes_to_login_and_get_is_refused(self, anonymous, member_client):
        lee = a_member()
        response = anonymous.post(f"/members/{lee.pk}/follow/")
        assert response.status_code == 302
        assert response.url.startswith("/login/")
        assert member_client.get(f"/members/{lee.pk}/follow/").status_code == 405

    def test_the_script_gets_the_cards_new_state(self, member_client):
        lee = a_member(nickname="lee")
        json = {"HTTP_ACCEPT": "application/json"}
        followed = member_client.post(f"/members/{lee.pk}/follow/", **json).json()
        assert followed == {
            "followed": True,
            "followers": 1,
            "followers_label": "1 follower",
            "action": f"/members/{lee.pk}/unfollow/",
            "label": "Unfollow",
        }
        again = member_client.post(f"/members/{lee.pk}/follow/", **json).json()
        assert again == followed  # idempotent
        unfollowed = member_client.post(
            f"/members/{lee.pk}/unfollow/", HTTP_ACCEPT_LANGUAGE="ko", **json
        ).json()
        assert unfollowed == {
            "followed": False,
            "followers": 0,
            "followers_label": "팔로워 0명",
            "action": f"/members/{lee.pk}/follow/",
            "label": "팔로우",
        }

    @pytest.mark.parametrize(
        "accept", ["text/html,application/xhtml+xml,*/*;q=0.8", "*/*", "application/json;q=0.5,*/*"]
    )
    def test_a_browser_without_the_script_is_sent_back(self, member_client, accept):
        lee = a_member()
        response = member_client.post(f"/members/{lee.pk}/follow/", HTTP_ACCEPT=accept)
        assert (response.status_code, response.url) == (302, f"/members/{lee.pk}/posts/")

    def test_no_follow_button_on_my_own_page(self, member_client):
        page = member_client.get(f"/members/{member_client.member.pk}/posts/")
        assert "/follow/" not in page.text


class TestFollowLists:
    def test_followers_and_following_html_and_json(self, client):
        star = a_member(nickname="star")
        fans = [a_member(nickname=f"fan{i}") for i in range(3)]
        for fan in fans:
            follows.follow_add(follower_id=fan.pk, followee_id=star.pk)

        html = client.get(f"/members/{star.pk}/followers/?size=2")
        body = client.get(f"/api/members/{star.pk}/followers?size=2").json()
        following = client.get(f"/api/members/{fans[0].pk}/following").json()

        assert "fan2" in html.text
        assert "fan1" in html.text
        assert "fan0" not in html.text
        assert body["members"] == [
            {"id": fans[2].pk, "nickname": "fan2"},
            {"id": fans[1].pk, "nickname": "fan1"},
        ]
        rest = client.get(body["next"]).json()
        assert rest["members"] == [{"id": fans[0].pk, "nickname": "fan0"}]
        assert rest["next"] is None
        assert rest["previous"] is not None
        assert following["members"] == [{"id": star.pk, "nickname": "star"}]
        assert client.get(f"/members/{star.pk}/following/").status_code == 200

    def test_errors(self, client):
        assert client.get("/members/999999/followers/").status_code == 404
        assert client.get("/api/members/999999/following").json() == {"error": "No such member."}
        member = a_member()
        response = client.get(f"/api/members/{member.pk}/followers?before=abc")
        assert response.status_code == 400
        assert "before" in response.json()["error"]


class TestLikeViews:
    def test_like_and_unlike_go_back_to_the_post(self, member_client):
        post = a_post()
        url = f"/members/{post.member_id}/posts/"
        response = member_client.post(f"/posts/{post.pk}/like/", {"next": url})
        assert (response.status_code, response.url) == (302, f"{url}#post-{post.pk}")
        member_client.post(f"/posts/{post.pk}/like/", {"next": url})  # a double click
        assert likes.like_counts(post_ids=[post.pk]) == {post.pk: 1}
        page = member_client.get(url)
        assert 'aria-pressed="true"' in page.text
        assert member_client.get(f"/api/posts/{post.pk}").json()["likes"] == 1

        member_client.post(f"/posts/{post.pk}/unlike/", {"next": url})
        member_client.post(f"/posts/{post.pk}/unlike/", {"next": url})
        assert likes.like_counts(post_ids=[post.pk]) == {}

    def test_the_script_gets_the_posts_new_state(self, member_client):
        post = a_post()
        likes.like_add(member_id=a_member().pk, post_id=post.pk)
        json = {"HTTP_ACCEPT": "application/json"}
        liked = member_client.post(f"/posts/{post.pk}/like/", **json).json()
        assert liked == {
            "liked": True,
            "likes": 2,
            "action": f"/posts/{post.pk}/unlike/",
            "title": "Unlike",
        }
        assert member_client.post(f"/posts/{post.pk}/like/", **json).json() == liked
        unliked = member_client.post(
            f"/posts/{post.pk}/unlike/", HTTP_ACCEPT_LANGUAGE="ko", **json
        ).json()
        assert unliked == {
            "liked": False,
            "likes": 1,
            "action": f"/posts/{post.pk}/like/",
            "title": "좋아요",
        }
        # Without the script: back to the page, as before.
        response = member_client.post(f"/posts/{post.pk}/like/", HTTP_ACCEPT="text/html,*/*")
        assert (response.status_code, response.url) == (302, "/posts/")

    def test_an_outside_next_is_ignored(self, member_client):
        post = a_post()
        response = member_client.post(f"/posts/{post.pk}/like/", {"next": "https://evil.example/"})
        assert response.url == "/posts/"

    def test_unknown_post_is_404_and_anonymous_goes_to_login(self, anonymous, member_client):
        assert member_client.post("/posts/999999/like/").status_code == 404
        assert member_client.post("/posts/999999/unlike/").status_code == 404
        post = a_post()
        response = anonymous.post(f"/posts/{post.pk}/like/")
        assert response.status_code == 302
        assert response.url.startswith("/login/")
        assert not Like.objects.exists()

    def test_counts_without_a_query_per_post(self, client, django_assert_max_num_queries):
        authors = [a_member() for _ in range(3)]
        fan = a_member()
        made = [a_post(authors[i % 3]) for i in range(30)]
        for post in made:
            likes.like_add(member_id=fan.pk, post_id=post.pk)
        client.force_login(fan)
        client.get("/posts/?size=5")  # warm-up: session, language
        local_clear_all()  # nothing kept of the posts' counts and nicknames: all read
        with django_assert_max_num_queries(8) as few:
            client.get("/posts/?size=5")
        local_clear_all()
        with django_assert_max_num_queries(len(few.captured_queries)):
            body = client.get("/posts/?size=30")
        assert body.text.count('aria-pressed="true"') == 30


class TestDelete:
    def test_the_author_deletes_and_it_leaves_everything(self, member_client, run_on_commit):
        fan = a_member()
        follows.follow_add(follower_id=fan.pk, followee_id=member_client.member.pk)
        member_client.post("/posts/new/", {"contents": "to delete"})
        post = Post.objects.get(contents="to delete")
        likes.like_add(member_id=fan.pk, post_id=post.pk)
        assert FeedEntry.objects.filter(post=post).count() == 2

        response = member_client.post(f"/posts/{post.pk}/delete/")

        assert (response.status_code, response.url) == (
            302,
            f"/members/{member_client.member.pk}/posts/",
        )
        assert not Post.objects.filter(pk=post.pk).exists()
        assert not FeedEntry.objects.exists()
        assert not Like.objects.exists()
        assert not DailyPostCount.objects.filter(member=member_client.member).exists()
        assert member_client.get(f"/api/posts/{post.pk}").status_code == 404

    def test_someone_elses_post_is_403_none_is_404(self, member_client):
        post = a_post()
        assert member_client.post(f"/posts/{post.pk}/delete/").status_code == 403
        assert member_client.post("/posts/999999/delete/").status_code == 404
        assert member_client.get(f"/posts/{post.pk}/delete/").status_code == 403
        assert member_client.get("/posts/999999/delete/").status_code == 404
        assert member_client.put(f"/posts/{post.pk}/delete/").status_code == 405
        assert Post.objects.filter(pk=post.pk).exists()

    def test_the_delete_link_opens_a_page_that_asks_first(self, member_client):
        mine = a_post(member_client.member, contents="keep me?")
        likes.like_add(member_id=a_member().pk, post_id=mine.pk)
        theirs = a_post()
        page = member_client.get("/posts/?size=5").text
        link = f'href="/posts/{mine.pk}/delete/?next=%2Fposts%2F%3Fsize%3D5" data-delete'
        assert link in page
        assert f"/posts/{theirs.pk}/delete/" not in page
        assert 'id="delete-question"' in page  # what the script asks in place

        response = member_client.get(f"/posts/{mine.pk}/delete/?next=/posts/%3Fsize%3D5")

        assert response.status_code == 200
        assert "Delete this post?" in response.text
        assert "keep me?" in response.text
        assert "with its 1 like" in response.text
        assert '<form method="post" class="actions">' in response.text  # to this address
        assert f'href="/posts/?size=5#post-{mine.pk}">Cancel</a>' in response.text
        assert Post.objects.filter(pk=mine.pk).exists()  # asking deletes nothing
        assert member_client.head(f"/posts/{mine.pk}/delete/").status_code == 200

    @pytest.mark.parametrize("next_url", ["", "https://evil.example/", "//evil.example/"])
    def test_cancel_goes_back_only_to_this_site(self, member_client, next_url):
        mine = a_post(member_client.member)
        page = member_client.get(f"/posts/{mine.pk}/delete/", {"next": next_url}).text
        own = f"/members/{member_client.member.pk}/posts/#post-{mine.pk}"
        assert f'href="{own}">Cancel</a>' in page
        assert 'href="https://evil' not in page
        assert 'href="//evil' not in page

    def test_anonymous_is_sent_to_log_in(self, client):
        post = a_post()
        response = client.get(f"/posts/{post.pk}/delete/")
        assert (response.status_code, response.url[:14]) == (302, "/login/?next=/")

    def test_the_script_deletes_in_place(self, member_client):
        mine = a_post(member_client.member)
        response = member_client.post(f"/posts/{mine.pk}/delete/", HTTP_ACCEPT="application/json")
        assert response.json() == {"deleted": mine.pk, "message": "Your post is deleted."}
        assert not Post.objects.filter(pk=mine.pk).exists()
        # Said in place: nothing left to show on the next page.
        assert "Your post is deleted." not in member_client.get("/posts/").text

    def test_a_korean_post_is_marked_korean_in_the_english_interface(self, member_client):
        korean = a_post(contents="이번 겨울은 든든합니다.")
        english = a_post(contents="Plain English.")
        page = member_client.get("/posts/").text
        assert f'id="post-{korean.pk}"' in page
        assert '<div class="post-body" lang="ko">이번 겨울은 든든합니다.</div>' in page
        assert '<div class="post-body">Plain English.</div>' in page
        assert english.pk


class TestOnePostAndOneMemberApi:
    def test_a_post(self, client):
        post = a_post(contents="hi")
        body = client.get(f"/api/posts/{post.pk}").json()
        assert (body["id"], body["contents"], body["likes"]) == (post.pk, "hi", 0)
        missing = client.get("/api/posts/999999")
        assert missing.status_code == 404
        assert missing.json() == {"error": "No such post."}

    def test_a_member(self, client):
        member, fan = a_member(nickname="kim"), a_member()
        posts_on_days(member, {date(2025, 1, 1): 2, date(2025, 1, 2): 1})
        follows.follow_add(follower_id=fan.pk, followee_id=member.pk)
        body = client.get(f"/api/members/{member.pk}").json()
        assert body == {
            "id": member.pk,
            "nickname": "kim",
            "followers": 1,
            "following": 0,
            "posts": 3,
        }
        assert client.get("/api/members/999999").status_code == 404


class TestPostText:
    def test_crlf_line_breaks_count_once(self, member_client):
        contents = "\r\n".join(["x" * 49] * 10) + "\r\n"  # 500 as the browser counts
        response = member_client.post("/posts/new/", {"contents": contents})

        assert response.status_code == 302
        assert Post.objects.get().contents == "\n".join(["x" * 49] * 10)

    @pytest.mark.parametrize("contents", ["\u200b\u200b", "\u3164", "a\u202eb", "a\tb", "\x00"])
    def test_invisible_or_controlled_posts_are_refused(self, member_client, contents):
        response = member_client.post("/posts/new/", {"contents": contents})

        assert response.status_code == 200
        assert response.context["form"].errors
        assert not Post.objects.exists()
