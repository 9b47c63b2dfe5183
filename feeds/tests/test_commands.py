"""The commands that check and rebuild feeds, follow counts and like counts."""

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
