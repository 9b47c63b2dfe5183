import re
from datetime import date
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from likes import services as likes
from members.tests.mothers import a_staff_member
from posts.models import DailyPostCount, Post
from posts.tests.mothers import a_member, posts_on_days
from social.tests.mothers import follow, publish

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    client.force_login(a_staff_member())
    return client


def counts(member) -> dict:
    return dict(DailyPostCount.objects.filter(member=member).values_list("date", "count"))


@pytest.mark.parametrize("url", ["/admin/posts/post/", "/admin/posts/dailypostcount/"])
def test_changelists_never_count_the_whole_table(staff_client, url):
    posts_on_days(a_member(), {date(2025, 1, d): 3 for d in range(1, 11)})

    with CaptureQueriesContext(connection) as ctx:
        response = staff_client.get(url)

    assert response.status_code == 200
    table = "posts_post" if "post/" in url else "posts_dailypostcount"
    for query in ctx.captured_queries:
        sql = query["sql"]
        if table in sql:
            assert " JOIN " not in sql.upper(), sql
            if "COUNT(" in sql.upper():
                assert re.search(r"LIMIT \d+", sql), f"unbounded count: {sql}"


def test_post_changelist_search_by_member_id(staff_client):
    kim, lee = a_member(), a_member()
    posts_on_days(kim, {date(2025, 1, 1): 2})
    posts_on_days(lee, {date(2025, 1, 1): 1})
    response = staff_client.get("/admin/posts/post/", {"q": str(lee.pk)})
    assert [p.member_id for p in response.context["cl"].result_list] == [lee.pk]


def test_post_change_page(staff_client):
    post = posts_on_days(a_member(), {date(2025, 1, 1): 1})[0]
    response = staff_client.get(f"/admin/posts/post/{post.pk}/change/")
    assert response.status_code == 200
    assert post.contents in response.text


def test_deleting_one_post_in_the_admin_keeps_counts_right(staff_client):
    member = a_member()
    post = posts_on_days(member, {date(2025, 1, 1): 2})[0]

    response = staff_client.post(f"/admin/posts/post/{post.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert counts(member) == {date(2025, 1, 1): 1}


def test_bulk_delete_in_the_admin_keeps_counts_right(staff_client):
    member = a_member()
    posts = posts_on_days(member, {date(2025, 1, 1): 2, date(2025, 1, 2): 1})

    response = staff_client.post(
        "/admin/posts/post/",
        {
            "action": "delete_selected",
            "_selected_action": [posts[0].pk, posts[2].pk],
            "post": "yes",
        },
    )

    assert response.status_code == 302
    assert set(Post.objects.values_list("id", flat=True)) == {posts[1].pk}
    assert counts(member) == {date(2025, 1, 1): 1}


def test_daily_counts_are_read_only(staff_client):
    member = a_member()
    posts_on_days(member, {date(2025, 1, 1): 2})
    row = DailyPostCount.objects.get()
    assert staff_client.get("/admin/posts/dailypostcount/add/").status_code == 403
    response = staff_client.post(
        f"/admin/posts/dailypostcount/{row.pk}/change/",
        {"member": member.pk, "date": "2025-01-01", "count": "99"},
    )
    assert response.status_code == 403
    row.refresh_from_db()
    assert row.count == 2


class TestDeletingPosts:
    def test_a_liked_fanned_out_post_is_deleted_on_a_page_that_reads_little(
        self, staff_client, django_capture_on_commit_callbacks
    ):
        author, fan = a_member(), a_member()
        with django_capture_on_commit_callbacks(execute=True):
            follow(fan, author)
            quiet, popular = publish(author, "quiet"), publish(author, "popular")
            for _ in range(20):
                follow(a_member(), author)
            popular = publish(author, "popular")
            likes.like_add(member_id=fan.pk, post_id=popular.pk)

        queries = []
        for post in (quiet, popular):
            with CaptureQueriesContext(connection) as ctx:
                page = staff_client.get(f"/admin/posts/post/{post.pk}/delete/")
            assert page.status_code == 200
            assert "home feed" in page.text
            queries.append(len(ctx.captured_queries))
        assert queries[0] == queries[1]

        with django_capture_on_commit_callbacks(execute=True):
            response = staff_client.post(f"/admin/posts/post/{popular.pk}/delete/", {"post": "yes"})
        assert response.status_code == 302
        assert not Post.objects.filter(pk=popular.pk).exists()
        for command in ("rebuild_like_counts", "rebuild_daily_counts", "rebuild_feeds"):
            call_command(command, "--check", stdout=StringIO())
