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


class TestTheFloor:
    """How far down a feed is whole: the checks tell a trimmed or thinned feed from one
    that lost a post it should show."""

    @pytest.fixture
    def trimmed(self, settings, django_capture_on_commit_callbacks):
        """kim follows lee, who wrote 5 posts; kim's feed holds the newest 3 (cap 3)."""
        settings.FEED_MAX_ENTRIES = 3
        kim, lee = a_member(), a_member()
        with django_capture_on_commit_callbacks(execute=True):
            follow(kim, lee)
            made = [publish(lee, f"{i}") for i in range(5)]
        services.feed_trim(owner_id=kim.pk)
        assert feed_of(kim) == [p.pk for p in made[:1:-1]]
        return kim, lee, made

    def test_a_trim_raises_the_floor_to_the_newest_post_it_took_out(self, trimmed):
        kim, _, made = trimmed
        assert services.feed_floors(owner_ids=[kim.pk]) == {kim.pk: made[1].pk}
        assert not services.feed_differences(member_id=kim.pk)

    def test_a_feed_thinned_by_a_deletion_is_not_short(self, trimmed):
        kim, lee, made = trimmed
        from posts import services as posts

        posts.post_delete(post_id=made[3].pk)
        assert feed_of(kim) == [made[4].pk, made[2].pk]
        assert not services.feed_differences(member_id=kim.pk)  # 2 of 3, nothing missing
        reach = services.post_reach(post_id=made[1].pk)
        assert (reach.missing, reach.trimmed) == ([], 1)  # trimmed past it, not missing

    def test_a_lost_row_above_the_floor_is_missing_below_it_is_not(self, trimmed):
        kim, _, made = trimmed
        FeedEntry.objects.filter(owner=kim, post=made[2]).delete()  # the floor is made[1]
        assert services.feed_differences(member_id=kim.pk).missing == {made[2].pk}
        assert services.post_reach(post_id=made[2].pk).missing == [kim.pk]

    def test_a_repair_fills_the_feed_back_and_lowers_the_floor(
        self, settings, django_capture_on_commit_callbacks
    ):
        settings.FEED_MAX_ENTRIES = 3
        kim, lee, park = a_member(), a_member(), a_member()
        with django_capture_on_commit_callbacks(execute=True):
            follow(kim, lee)
            follow(kim, park)
            made = [publish(author, f"{i}") for i in range(3) for author in (lee, park)]
        services.feed_trim(owner_id=kim.pk)  # l0 p0 l1 p1 l2 p2: keeps p2 l2 p1
        from posts import services as posts

        posts.post_delete(post_id=made[5].pk)  # p2
        services.feed_repair(member_id=kim.pk)
        assert feed_of(kim) == [made[4].pk, made[3].pk, made[2].pk]  # l1 back
        assert services.feed_floors(owner_ids=[kim.pk]) == {kim.pk: made[1].pk}  # p0 left out
        assert not services.feed_differences(member_id=kim.pk)

    def test_a_repair_with_nothing_left_out_leaves_the_feed_whole(self, trimmed):
        kim, _, made = trimmed
        from posts import services as posts

        posts.posts_delete(post_ids=[made[3].pk, made[4].pk])
        services.feed_repair(member_id=kim.pk)
        assert feed_of(kim) == [made[2].pk, made[1].pk, made[0].pk]
        assert services.feed_floors(owner_ids=[kim.pk]) == {kim.pk: 0}

    def test_a_feed_never_trimmed_has_floor_0_and_must_hold_everything(self, settings):
        kim = a_member()
        post = publish(kim)
        assert services.feed_floors(owner_ids=[kim.pk]) == {kim.pk: 0}
        FeedEntry.objects.filter(owner=kim).delete()
        assert services.feed_differences(member_id=kim.pk).missing == {post.pk}
