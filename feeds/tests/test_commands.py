"""The commands that check, rebuild and seed follows, likes and feeds."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from feeds.models import FanoutJob, FeedEntry
from feeds.tests.mothers import a_member, publish
from follows import services as follows
from follows.models import FollowCount
from likes import services as likes
from likes.models import LikeCount

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.fixture
def star(django_capture_on_commit_callbacks):
    star = a_member()
    for _ in range(3):
        follows.follow_add(follower_id=a_member().pk, followee_id=star.pk)
    with django_capture_on_commit_callbacks(execute=True):
        star.post = publish(star)
    return star


class TestFeedsCheck:
    def test_every_feed_holds_the_post(self, star):
        out = run("feeds_check", "--post", str(star.post.pk))
        assert "in 3 of 3 followers' feeds (0 missing, 0 twice" in out

    def test_a_missing_entry_exits_1_and_names_the_feed(self, star):
        owner = FeedEntry.objects.exclude(owner=star).first().owner_id
        FeedEntry.objects.filter(owner_id=owner).delete()
        with pytest.raises(CommandError, match=f"1 feeds lack the post \\({owner}\\)"):
            run("feeds_check", "--post", str(star.post.pk))

    def test_a_pending_fan_out_is_said(self, star):
        FanoutJob.objects.update(done_at=None)
        FeedEntry.objects.exclude(owner=star).delete()
        out = StringIO()
        with pytest.raises(CommandError, match="3 feeds lack the post"):
            call_command("feeds_check", "--post", str(star.post.pk), stdout=out)
        assert "its fan-out has not finished yet" in out.getvalue()

    def test_no_such_post(self):
        with pytest.raises(CommandError, match="No post with id 999999"):
            run("feeds_check", "--post", "999999")


class TestRebuilds:
    def test_feeds(self, star):
        FeedEntry.objects.exclude(owner=star).delete()
        with pytest.raises(CommandError, match="3 of 4 feeds differ"):
            run("rebuild_feeds", "--check")
        assert "Rebuilt 4 feeds" in run("rebuild_feeds")
        assert "All 4 feeds match" in run("rebuild_feeds", "--check")

    def test_one_feed_and_an_unknown_member(self, star):
        assert "All 1 feeds match" in run("rebuild_feeds", "--check", "--member", str(star.pk))
        with pytest.raises(CommandError, match="No member with id 999999"):
            run("rebuild_feeds", "--member", "999999")

    def test_follow_counts(self, star):
        FollowCount.objects.filter(member=star).update(followers=99)
        with pytest.raises(CommandError, match="1 members' follow counts differ"):
            run("rebuild_follow_counts", "--check")
        run("rebuild_follow_counts")
        assert "equal GROUP BY" in run("rebuild_follow_counts", "--check")
        assert follows.follow_counts(member_id=star.pk).followers == 3

    def test_like_counts(self, star):
        likes.like_add(member_id=a_member().pk, post_id=star.post.pk)
        LikeCount.objects.update(count=7)
        with pytest.raises(CommandError, match="1 like count slots differ"):
            run("rebuild_like_counts", "--check")
        run("rebuild_like_counts")
        assert likes.like_counts(post_ids=[star.post.pk]) == {star.post.pk: 1}


class TestSeedFollows:
    def test_a_crowd(self):
        star = a_member()
        out = run("seed_follows", "--member", str(star.pk), "--followers", "25")
        assert "Seeded 25 follows" in out
        assert follows.follow_counts(member_id=star.pk).followers == 25

    def test_a_graph(self):
        for _ in range(30):
            a_member()
        assert "Seeded" in run(
            "seed_follows", "--graph", "--members", "30", "--mean-following", "3"
        )
        assert follows.follow_counts_differences() == []

    @pytest.mark.parametrize(
        ("args", "message"),
        [
            ([], "Give --member ID --followers N"),
            (["--member", "999999", "--followers", "3"], "No member with id 999999"),
            (["--member", "1", "--followers", "0"], "--followers must be a positive number"),
            (["--graph"], "--graph needs --members N"),
            (["--graph", "--members", "500"], "Only"),
        ],
    )
    def test_bad_arguments_write_nothing(self, args, message):
        a_member()
        with pytest.raises(CommandError, match=message):
            run("seed_follows", *args)
        assert not FollowCount.objects.exists()


def test_feeds_sweep_sends_what_was_left(django_capture_on_commit_callbacks):
    from django.utils import timezone

    star, fan = a_member(), a_member()
    follows.follow_add(follower_id=fan.pk, followee_id=star.pk)
    post = publish(star)  # its send never ran
    FanoutJob.objects.update(created_at=timezone.now() - timezone.timedelta(minutes=2))
    assert "Sent 1 unfinished" in run("feeds_sweep")
    assert FeedEntry.objects.filter(post=post).count() == 2


def test_seed_demo_builds_consistent_follows_likes_and_feeds():
    run("seed_demo")
    assert "All 7 feeds match" in run("rebuild_feeds", "--check")
    assert "equal GROUP BY" in run("rebuild_like_counts", "--check")
    assert "equal GROUP BY" in run("rebuild_follow_counts", "--check")
    assert "already there" in run("seed_demo")
