import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from core.pagination import Cursor
from core.testing.concurrency import run_together
from follows import services
from follows.models import Follow, FollowCount
from follows.services import FollowCounts
from follows.tests.mothers import a_follow, a_member, followers_of

pytestmark = pytest.mark.django_db


class TestFollow:
    def test_follows_once_and_counts_both_sides(self):
        kim, lee = a_member(), a_member()

        assert services.follow_add(follower_id=kim.pk, followee_id=lee.pk) is True
        assert services.follow_add(follower_id=kim.pk, followee_id=lee.pk) is False

        assert Follow.objects.filter(follower=kim, followee=lee).count() == 1
        assert services.follow_counts(member_id=lee.pk) == FollowCounts(followers=1, following=0)
        assert services.follow_counts(member_id=kim.pk) == FollowCounts(followers=0, following=1)

    def test_following_yourself_is_refused_and_writes_nothing(self):
        kim = a_member()
        with pytest.raises(ValidationError, match="yourself"):
            services.follow_add(follower_id=kim.pk, followee_id=kim.pk)
        assert not Follow.objects.exists()
        assert not FollowCount.objects.exists()

    def test_an_unknown_member_is_refused(self):
        kim = a_member()
        with pytest.raises(services.MemberNotFound):
            services.follow_add(follower_id=kim.pk, followee_id=999_999)
        with pytest.raises(services.MemberNotFound):
            services.follow_remove(follower_id=kim.pk, followee_id=999_999)
        assert not FollowCount.objects.exists()

    def test_unfollow_takes_both_counts_back_and_is_idempotent(self):
        kim, lee = a_member(), a_member()
        a_follow(kim, lee)

        assert services.follow_remove(follower_id=kim.pk, followee_id=lee.pk) is True
        assert services.follow_remove(follower_id=kim.pk, followee_id=lee.pk) is False

        assert not services.is_following(follower_id=kim.pk, followee_id=lee.pk)
        assert services.follow_counts(member_id=lee.pk) == FollowCounts(0, 0)
        assert services.follow_counts(member_id=kim.pk) == FollowCounts(0, 0)

    def test_no_counter_row_reads_as_zero(self):
        assert services.follow_counts(member_id=a_member().pk) == FollowCounts(0, 0)

    def test_following_among_and_heavy_members(self):
        kim, lee, park, choi = (a_member() for _ in range(4))
        a_follow(kim, lee)
        a_follow(kim, park)
        a_follow(choi, park)

        among = services.following_among(follower_id=kim.pk, member_ids={lee.pk, choi.pk})
        assert among == {lee.pk}
        assert services.members_with_followers_over(limit=1) == {park.pk}


class TestConstraints:
    """The database refuses what the service would never write."""

    def test_a_follow_is_unique(self):
        kim, lee = a_member(), a_member()
        Follow.objects.create(follower=kim, followee=lee)
        with pytest.raises(IntegrityError), transaction.atomic():
            Follow.objects.create(follower=kim, followee=lee)

    def test_nobody_follows_themselves(self):
        kim = a_member()
        with pytest.raises(IntegrityError), transaction.atomic():
            Follow.objects.create(follower=kim, followee=kim)

    def test_counts_never_go_negative(self):
        kim = a_member()
        with pytest.raises(IntegrityError), transaction.atomic():
            FollowCount.objects.create(member=kim, followers=-1)


class TestLists:
    def test_followers_most_recent_first_in_keyset_pages(self):
        star = a_member()
        crowd = followers_of(star, 5)

        first = services.followers_page(member_id=star.pk, cursor=Cursor(size=2))
        second = services.followers_page(member_id=star.pk, cursor=first.older)
        third = services.followers_page(member_id=star.pk, cursor=second.older)

        walked = [f.follower_id for page in (first, second, third) for f in page.items]
        assert walked == [m.pk for m in reversed(crowd)]
        assert third.older is None
        back = services.followers_page(member_id=star.pk, cursor=second.newer)
        assert [f.follower_id for f in back.items] == [f.follower_id for f in first.items]

    def test_following(self):
        kim, lee, park = a_member(), a_member(), a_member()
        a_follow(kim, lee)
        a_follow(kim, park)
        page = services.following_page(member_id=kim.pk, cursor=Cursor())
        assert [f.followee_id for f in page.items] == [park.pk, lee.pk]

    def test_followers_after_gives_fan_out_chunks_in_follow_order(self):
        star = a_member()
        crowd = followers_of(star, 5)
        first = services.followers_after(member_id=star.pk, after=0, limit=3)
        rest = services.followers_after(member_id=star.pk, after=first[-1][0], limit=3)
        assert [f for _, f in first + rest] == [m.pk for m in crowd]


class TestCountsCheckAndRebuild:
    def test_rebuild_repairs_what_check_finds(self):
        kim, lee = a_member(), a_member()
        a_follow(kim, lee)
        FollowCount.objects.filter(member=lee).update(followers=7)

        assert services.follow_counts_differences() == [
            (lee.pk, FollowCounts(7, 0), FollowCounts(1, 0))
        ]
        services.follow_counts_rebuild()
        assert services.follow_counts_differences() == []
        assert services.follow_counts(member_id=lee.pk) == FollowCounts(1, 0)


@pytest.mark.django_db(transaction=True)
def test_concurrent_follows_are_all_counted():
    star = a_member()
    crowd = [a_member() for _ in range(12)]

    def follow(member):
        services.follow_add(follower_id=member.pk, followee_id=star.pk)
        # Both directions at once: the counters' rows lock in key order.
        services.follow_add(follower_id=star.pk, followee_id=member.pk)

    errors = run_together(follow, crowd)

    assert errors == []
    assert services.follow_counts(member_id=star.pk) == FollowCounts(12, 12)
    assert services.follow_counts_differences() == []
