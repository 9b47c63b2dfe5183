import contextlib

import pytest
from django.db import IntegrityError, transaction

from core.testing.concurrency import run_together
from likes import services
from likes.models import LIKE_COUNT_SLOTS, Like, LikeCount
from likes.tests.mothers import a_like, a_member, a_post
from posts import services as posts

pytestmark = pytest.mark.django_db


class TestLike:
    def test_once_per_member_and_post(self):
        post, kim = a_post(), a_member()

        assert services.like_add(member_id=kim.pk, post_id=post.pk) is True
        assert services.like_add(member_id=kim.pk, post_id=post.pk) is False

        assert Like.objects.filter(post=post).count() == 1
        assert services.like_counts(post_ids=[post.pk]) == {post.pk: 1}

    def test_unlike_is_idempotent(self):
        post, kim = a_post(), a_member()
        a_like(kim, post)

        assert services.like_remove(member_id=kim.pk, post_id=post.pk) is True
        assert services.like_remove(member_id=kim.pk, post_id=post.pk) is False

        assert services.like_counts(post_ids=[post.pk]) == {}
        assert services.like_counts_differences() == []

    def test_an_unknown_post_is_refused_and_writes_nothing(self):
        kim = a_member()
        with pytest.raises(services.PostNotFound):
            services.like_add(member_id=kim.pk, post_id=999_999)
        with pytest.raises(services.PostNotFound):
            services.like_remove(member_id=kim.pk, post_id=999_999)
        assert not Like.objects.exists()
        assert not LikeCount.objects.exists()

    def test_counts_and_liked_for_a_page_in_one_query_each(self, django_assert_num_queries):
        posts_ = [a_post() for _ in range(3)]
        crowd = [a_member() for _ in range(LIKE_COUNT_SLOTS + 3)]  # more members than slots
        for member in crowd:
            a_like(member, posts_[0])
        a_like(crowd[0], posts_[2])
        ids = [p.pk for p in posts_]

        with django_assert_num_queries(1):
            counts = services.like_counts(post_ids=ids)
        with django_assert_num_queries(1):
            liked = services.liked_among(member_id=crowd[0].pk, post_ids=ids)

        assert counts == {posts_[0].pk: len(crowd), posts_[2].pk: 1}
        assert liked == {posts_[0].pk, posts_[2].pk}

    def test_a_deleted_post_takes_its_likes_and_counts(self):
        post = a_post()
        a_like(a_member(), post)
        posts.post_delete(post_id=post.pk)
        assert not Like.objects.exists()
        assert not LikeCount.objects.exists()


class TestConstraints:
    def test_a_like_is_unique(self):
        post, kim = a_post(), a_member()
        Like.objects.create(member=kim, post=post)
        with pytest.raises(IntegrityError), transaction.atomic():
            Like.objects.create(member=kim, post=post)

    def test_a_count_slot_never_goes_negative(self):
        with pytest.raises(IntegrityError), transaction.atomic():
            LikeCount.objects.create(post=a_post(), slot=0, count=-1)


def test_rebuild_repairs_what_check_finds():
    post, kim = a_post(), a_member()
    a_like(kim, post)
    LikeCount.objects.update(count=5)
    slot = kim.pk % LIKE_COUNT_SLOTS

    assert services.like_counts_differences() == [(post.pk, slot, 5, 1)]
    services.like_counts_rebuild()
    assert services.like_counts_differences() == []
    assert services.like_counts(post_ids=[post.pk]) == {post.pk: 1}


@pytest.mark.django_db(transaction=True)
def test_16_concurrent_likes_are_exact():
    post = a_post()
    crowd = [a_member() for _ in range(16)]

    def like(member):
        services.like_add(member_id=member.pk, post_id=post.pk)
        services.like_add(member_id=member.pk, post_id=post.pk)  # a double click

    errors = run_together(like, crowd)

    assert errors == []
    assert services.like_counts(post_ids=[post.pk]) == {post.pk: 16}
    assert Like.objects.filter(post=post).count() == 16
    assert services.like_counts_differences() == []


class TestAPostDeletedWhileLiked:
    def test_a_like_after_the_delete_is_post_not_found(self):
        post, kim = a_post(), a_member()
        post_id = post.pk
        posts.post_delete(post_id=post_id)
        with pytest.raises(services.PostNotFound):
            services.like_add(member_id=kim.pk, post_id=post_id)
        assert not Like.objects.exists()

    @pytest.mark.django_db(transaction=True)
    def test_likes_racing_the_delete_are_never_an_error(self):
        crowd = [a_member() for _ in range(6)]
        for _ in range(4):
            post = a_post()

            def like_or_delete(member, post_id=post.pk):
                if member is None:
                    posts.post_delete(post_id=post_id)
                    return
                with contextlib.suppress(services.PostNotFound):  # a 404: the post went first
                    services.like_add(member_id=member.pk, post_id=post_id)

            assert run_together(like_or_delete, [*crowd, None]) == []
            assert not Like.objects.filter(post_id=post.pk).exists()
            assert not LikeCount.objects.filter(post_id=post.pk).exists()
        assert services.like_counts_differences() == []
