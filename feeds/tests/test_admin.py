"""Follows, likes and the outbox in the admin: bounded counts, no joins, search by id, read-only."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from feeds.tests.mothers import publish
from follows import services as follows
from likes import services as likes
from members.tests.mothers import a_member, a_staff_member

pytestmark = pytest.mark.django_db

CHANGELISTS = {
    "/admin/follows/follow/": "follows_follow",
    "/admin/follows/followcount/": "follows_followcount",
    "/admin/likes/like/": "likes_like",
    "/admin/likes/likecount/": "likes_likecount",
    "/admin/feeds/fanoutjob/": "feeds_fanoutjob",
}


@pytest.fixture
def world():
    crowd = [a_member() for _ in range(4)]
    for member in crowd[1:]:
        follows.follow_add(follower_id=member.pk, followee_id=crowd[0].pk)
    post = publish(crowd[0])
    for member in crowd[1:]:
        likes.like_add(member_id=member.pk, post_id=post.pk)
    return crowd, post


@pytest.fixture
def staff_client(client):
    client.force_login(a_staff_member())
    return client


@pytest.mark.parametrize("url", CHANGELISTS)
def test_changelists_never_count_the_whole_table_nor_join(staff_client, world, url):
    with CaptureQueriesContext(connection) as ctx:
        response = staff_client.get(url)

    assert response.status_code == 200
    assert len(response.context["cl"].result_list) > 0
    for query in ctx.captured_queries:
        sql = query["sql"]
        if CHANGELISTS[url] in sql:
            assert " JOIN " not in sql.upper(), sql
            if "COUNT(" in sql.upper():
                assert re.search(r"LIMIT \d+", sql), f"unbounded count: {sql}"


def test_search_follows_by_member_id(staff_client, world):
    crowd, _ = world
    response = staff_client.get("/admin/follows/follow/", {"q": str(crowd[2].pk)})
    assert [f.follower_id for f in response.context["cl"].result_list] == [crowd[2].pk]


def test_search_likes_by_post_id(staff_client, world):
    _, post = world
    response = staff_client.get("/admin/likes/like/", {"q": str(post.pk)})
    assert {like.post_id for like in response.context["cl"].result_list} == {post.pk}


@pytest.mark.parametrize("url", CHANGELISTS)
def test_nothing_is_added_or_deleted_by_hand(staff_client, url):
    assert staff_client.get(f"{url}add/").status_code == 403
