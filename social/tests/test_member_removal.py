"""A member leaves (on /me/delete/ or in the admin): everything of theirs goes, and every
count they touched stays right, as every ``--check`` command says afterwards."""

from io import StringIO

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from feeds.models import FanoutJob, FeedEntry
from follows.models import Follow, FollowCount
from likes import services as likes
from likes.models import Like
from members import services as members
from members.models import Member, MemberRemoval, NicknameHistory, OutboundMail
from posts.models import DailyPostCount, Post
from social import usecases
from social.tests.mothers import a_member, follow, publish

pytestmark = pytest.mark.django_db

CHECKS = ["rebuild_follow_counts", "rebuild_like_counts", "rebuild_daily_counts", "rebuild_feeds"]


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()  # the pull-author set is cached
    yield
    cache.clear()


def every_check_passes() -> None:
    """Each derived count against its source, as an operator would run it."""
    for command in CHECKS:
        call_command(command, "--check", stdout=StringIO())  # CommandError when anything differs


def community(on_commit):
    """The member who leaves, with everything a member can touch, among others who stay."""
    leaver, ann, bob, cat = (a_member(nickname=n) for n in ("leaver", "ann", "bob", "cat"))
    with on_commit(execute=True):
        for member in (ann, bob):
            follow(member, leaver)  # the leaver's followers
        for member in (ann, cat):
            follow(leaver, member)  # whom the leaver follows
        follow(bob, cat)
        theirs = [publish(leaver, f"leaver {i}") for i in range(5)]
        others = [publish(m, f"by {m.nickname}") for m in (ann, bob, cat)]
        for post in theirs[:3]:
            likes.like_add(member_id=ann.pk, post_id=post.pk)
            likes.like_add(member_id=bob.pk, post_id=post.pk)
        for post in others:
            likes.like_add(member_id=leaver.pk, post_id=post.pk)  # the leaver's likes
            likes.like_add(member_id=cat.pk, post_id=post.pk)
        members.member_change_nickname(member_id=leaver.pk, nickname="renamed")
    every_check_passes()  # the starting point is right
    return leaver, [ann, bob, cat], others


def nothing_of(member_id: int) -> None:
    assert not Member.objects.filter(pk=member_id).exists()
    assert not Post.objects.filter(member_id=member_id).exists()
    assert not DailyPostCount.objects.filter(member_id=member_id).exists()
    assert not Like.objects.filter(member_id=member_id).exists()
    assert not Follow.objects.filter(follower_id=member_id).exists()
    assert not Follow.objects.filter(followee_id=member_id).exists()
    assert not FollowCount.objects.filter(member_id=member_id).exists()
    assert not FeedEntry.objects.filter(owner_id=member_id).exists()
    assert not FeedEntry.objects.filter(author_id=member_id).exists()
    assert not NicknameHistory.objects.filter(member_id=member_id).exists()
    assert not OutboundMail.objects.filter(member_id=member_id).exists()


class TestRemoval:
    def test_everything_goes_and_every_count_stays_right(self, django_capture_on_commit_callbacks):
        leaver, (ann, bob, cat), others = community(django_capture_on_commit_callbacks)

        with django_capture_on_commit_callbacks(execute=True):
            members.member_delete_request(member_id=leaver.pk)

        nothing_of(leaver.pk)
        every_check_passes()
        assert MemberRemoval.objects.get().done_at is not None
        counts = dict(FollowCount.objects.values_list("member_id", "following"))
        assert counts == {ann.pk: 0, bob.pk: 1, cat.pk: 0}
        assert dict(FollowCount.objects.values_list("member_id", "followers"))[cat.pk] == 1
        assert likes.like_counts(post_ids=[p.pk for p in others]) == {p.pk: 1 for p in others}
        # The others keep everything of their own.
        assert Post.objects.count() == 3
        assert set(FeedEntry.objects.values_list("author_id", flat=True)) == {
            ann.pk,
            bob.pk,
            cat.pk,
        }

    @pytest.mark.parametrize("steps", [1, 3, 7, 12])
    def test_a_removal_cut_off_after_any_step_leaves_every_count_right(
        self, django_capture_on_commit_callbacks, steps
    ):
        leaver, _, _ = community(django_capture_on_commit_callbacks)
        with django_capture_on_commit_callbacks(execute=False):  # the worker never came
            members.member_delete_request(member_id=leaver.pk)

        for _ in range(steps):  # chunks of two rows: many steps, each a transaction
            usecases._remove_some(leaver.pk, 2)
        every_check_passes()
        assert Member.objects.filter(pk=leaver.pk).exists()

        assert usecases.member_removal_run(removal_id=MemberRemoval.objects.get().pk)
        nothing_of(leaver.pk)
        every_check_passes()

    def test_small_chunks_remove_as_much_as_one(self, django_capture_on_commit_callbacks):
        leaver, _, _ = community(django_capture_on_commit_callbacks)
        members.member_delete_request(member_id=leaver.pk)
        assert usecases.member_remove(member_id=leaver.pk, chunk=1)
        nothing_of(leaver.pk)
        every_check_passes()

    def test_a_post_fanned_out_widely_leaves_its_feeds_a_chunk_at_a_time(
        self, django_capture_on_commit_callbacks
    ):
        leaver = a_member()
        crowd = [a_member() for _ in range(9)]
        with django_capture_on_commit_callbacks(execute=True):
            for member in crowd:
                follow(member, leaver)
            post = publish(leaver)
        assert FeedEntry.objects.filter(post=post).count() == 10

        with CaptureQueriesContext(connection) as ctx:
            assert usecases.member_remove(member_id=leaver.pk, chunk=4)
        deletes = [q["sql"] for q in ctx.captured_queries if q["sql"].startswith("DELETE")]
        feed_deletes = [sql for sql in deletes if "feeds_feedentry" in sql]
        assert len(feed_deletes) >= 3  # 10 rows in chunks of 4, not one statement
        nothing_of(leaver.pk)
        every_check_passes()

    def test_a_pending_fan_out_of_theirs_goes_with_the_post(
        self, django_capture_on_commit_callbacks
    ):
        leaver, fan = a_member(), a_member()
        with django_capture_on_commit_callbacks(execute=True):
            follow(fan, leaver)
        with django_capture_on_commit_callbacks(execute=False):  # the fan-out never ran
            publish(leaver)
        assert FanoutJob.objects.filter(kind="post", done_at=None).count() == 1

        assert usecases.member_remove(member_id=leaver.pk)
        assert not FanoutJob.objects.filter(kind="post").exists()
        every_check_passes()

    def test_a_removal_run_twice_does_the_work_once(self, django_capture_on_commit_callbacks):
        leaver, _, _ = community(django_capture_on_commit_callbacks)
        with django_capture_on_commit_callbacks(execute=False):
            removal = members.member_delete_request(member_id=leaver.pk)
        assert usecases.member_removal_run(removal_id=removal.pk) is True
        assert usecases.member_removal_run(removal_id=removal.pk) is False  # redelivered
        assert usecases.member_remove(member_id=leaver.pk) is False  # a copy that ran late
        every_check_passes()

    def test_asking_twice_is_one_removal(self, django_capture_on_commit_callbacks):
        leaver = a_member()
        with django_capture_on_commit_callbacks(execute=False):
            first = members.member_delete_request(member_id=leaver.pk)
            second = members.member_delete_request(member_id=leaver.pk)
        assert first.pk == second.pk
        assert MemberRemoval.objects.count() == 1

    def test_no_such_member(self):
        with pytest.raises(members.MemberNotFound):
            members.member_delete_request(member_id=999_999)


class TestClosing:
    def test_a_closed_member_can_neither_log_in_nor_use_a_session(
        self, client, django_capture_on_commit_callbacks
    ):
        from members.tests.mothers import PASSWORD

        leaver = a_member(email="leaver@example.com")
        client.force_login(leaver)
        with django_capture_on_commit_callbacks(execute=False):  # not removed yet
            members.member_delete_request(member_id=leaver.pk)

        assert client.get("/me/").status_code == 302  # the session ended
        response = client.post("/login/", {"username": "leaver@example.com", "password": PASSWORD})
        assert response.status_code == 200  # the login page again, with its error
        assert client.get("/me/").status_code == 302
