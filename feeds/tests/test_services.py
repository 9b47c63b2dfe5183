"""The feed domain's services: trimming, and what a feed should hold (checks, rebuild)."""

import pytest

from feeds import services
from feeds.models import FeedEntry
from feeds.tests.mothers import a_member, feed_of, follow, publish
from social.tests.mothers import crowd_following

pytestmark = pytest.mark.django_db


def test_a_feed_is_trimmed_to_its_newest_entries(settings):
    settings.FEED_MAX_ENTRIES = 3
    kim = a_member()
    made = [publish(kim, f"{i}") for i in range(6)]
    assert services.feed_trim(owner_id=kim.pk) == 3
    assert feed_of(kim) == [p.pk for p in made[::-1][:3]]
    assert services.feed_trim(owner_id=kim.pk) == 0


class TestFeedsCheckAndRebuild:
    def test_differences_and_rebuild(self, django_capture_on_commit_callbacks):
        kim, lee = a_member(), a_member()
        with django_capture_on_commit_callbacks(execute=True):
            follow(kim, lee)
            post = publish(lee)
        assert not services.feed_differences(member_id=kim.pk)

        FeedEntry.objects.filter(owner=kim).delete()
        assert services.feed_differences(member_id=kim.pk).missing == {post.pk}
        services.feed_rebuild(member_id=kim.pk)
        assert feed_of(kim) == [post.pk]

    def test_post_reach(self, django_capture_on_commit_callbacks):
        star = a_member()
        crowd = crowd_following(star, 3, django_capture_on_commit_callbacks)
        with django_capture_on_commit_callbacks(execute=True):
            post = publish(star)
        FeedEntry.objects.filter(owner=crowd[1], post=post).delete()

        reach = services.post_reach(post_id=post.pk)

        assert (reach.followers, reach.held, reach.missing, reach.twice) == (
            3,
            2,
            [crowd[1].pk],
            [],
        )
        assert services.post_reach(post_id=999_999) is None
