"""The use cases end to end: fan-out on write, pull on read, and nothing lost or doubled
on the way (the outbox, the fan-out, the feed rows)."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerDown

from core.outbox import outbox_pending, outbox_sweep
from core.pagination import Cursor
from core.testing.queries import assert_no_join_offset_or_count
from feeds import fanout, services, tasks
from feeds.models import FanoutJob, FeedEntry
from feeds.tests.mothers import feed_of, holders, pull_authors_settled
from follows import services as follows
from likes import services as likes
from posts.models import DailyPostCount, Post
from social import facades, usecases
from social.tests.mothers import a_member, crowd_following, follow, publish

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()  # the pull-author set is cached
    yield
    cache.clear()


def age_jobs(seconds: int = 120) -> None:
    """Make every job look written long ago and never queued, as the sweep sees a lost one."""
    earlier = timezone.now() - timezone.timedelta(seconds=seconds)
    FanoutJob.objects.update(created_at=earlier, queued_at=None)


def sweep() -> int:
    """How many fan-out jobs the outbox sweep queued again."""
    return outbox_sweep()["feeds.FanoutJob"]


class TestPublish:
    def test_own_feed_at_once_followers_after_commit(self, django_capture_on_commit_callbacks):
        star = a_member()
        crowd = crowd_following(star, 3, django_capture_on_commit_callbacks)

        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            post = publish(star)
            assert holders(post) == [star.pk]  # in the author's own feed in the same transaction
        assert holders(post) == [star.pk]  # the fan-out is sent after the commit
        for callback in callbacks:
            callback()

        assert holders(post) == sorted([star.pk] + [m.pk for m in crowd])
        assert FanoutJob.objects.get(post=post).done_at is not None

    def test_the_write_does_not_depend_on_the_audience(self, django_capture_on_commit_callbacks):
        queries = []
        for followers in (0, 40):
            star = a_member()
            crowd_following(star, followers, django_capture_on_commit_callbacks)
            with CaptureQueriesContext(connection) as ctx:
                publish(star)  # callbacks are not run: this is the request's share
            queries.append([q["sql"].split(" ")[0] for q in ctx.captured_queries])
        assert queries[0] == queries[1]

    def test_a_fan_out_run_twice_leaves_the_post_in_each_feed_once(
        self, django_capture_on_commit_callbacks
    ):
        star = a_member()
        crowd = crowd_following(star, 4, django_capture_on_commit_callbacks)
        with django_capture_on_commit_callbacks(execute=True):
            post = publish(star)
        job = FanoutJob.objects.get(post=post)
        FanoutJob.objects.filter(pk=job.pk).update(done_at=None, cursor=0)

        fanout.fanout_run(job_id=job.pk)

        assert holders(post) == sorted([star.pk] + [m.pk for m in crowd])

    def test_a_fan_out_cut_off_halfway_resumes_and_doubles_nothing(self, monkeypatch):
        star = a_member()
        crowd = [a_member() for _ in range(5)]
        for member in crowd:
            follows.follow_add(follower_id=member.pk, followee_id=star.pk)
        post = publish(star)  # callbacks never run: no fan-out yet
        job = FanoutJob.objects.get(post=post)

        def crash(**kwargs):
            raise SystemExit("the worker died")

        monkeypatch.setattr(services, "feed_trim_some", crash)
        with pytest.raises(SystemExit):
            fanout.fanout_run(job_id=job.pk, chunk_size=2)
        job.refresh_from_db()
        assert job.done_at is None
        assert len(holders(post)) == 1 + 2  # the author and the first chunk
        monkeypatch.undo()

        fanout.fanout_run(job_id=job.pk, chunk_size=2)  # the message, delivered again

        assert holders(post) == sorted([star.pk] + [m.pk for m in crowd])
        assert FeedEntry.objects.filter(post=post).count() == 6

    def test_written_while_the_broker_is_down_it_arrives_once_it_is_back(
        self, monkeypatch, django_capture_on_commit_callbacks
    ):
        star = a_member()
        crowd = crowd_following(star, 3, django_capture_on_commit_callbacks)

        tries = []

        def down(*args, **kwargs):
            tries.append(args)
            raise BrokerDown("[Errno 111] Connection refused")

        monkeypatch.setattr(tasks.fanout, "apply_async", down)
        with django_capture_on_commit_callbacks(execute=True):
            post = publish(star)  # no error for the writer
        assert Post.objects.filter(pk=post.pk).exists()
        assert holders(post) == [star.pk]
        assert len(tries) == 1
        assert sweep() == 0
        assert len(tries) == 1  # written a moment ago: the sweep leaves it alone

        age_jobs()
        assert sweep() == 0  # still down: tried, and it stays pending
        assert len(tries) == 2
        assert holders(post) == [star.pk]

        monkeypatch.undo()  # the broker is back
        age_jobs()
        assert sweep() == 1
        assert holders(post) == sorted([star.pk] + [m.pk for m in crowd])
        assert outbox_pending(FanoutJob) == []

    def test_a_process_that_dies_after_the_commit_loses_nothing(self):
        star, fan = a_member(), a_member()
        follows.follow_add(follower_id=fan.pk, followee_id=star.pk)
        post = publish(star)  # on_commit never runs: the process died right after COMMIT

        age_jobs()
        sweep()

        assert holders(post) == sorted([star.pk, fan.pk])

    def test_a_post_deleted_before_its_fan_out_needs_none(self):
        star, fan = a_member(), a_member()
        follows.follow_add(follower_id=fan.pk, followee_id=star.pk)
        post = publish(star)
        job_id = FanoutJob.objects.get(post=post).pk
        usecases.post_remove(member_id=star.pk, post_id=post.pk)

        fanout.fanout_run(job_id=job_id)  # the message arrives anyway

        assert not FeedEntry.objects.exists()
        assert not FanoutJob.objects.exists()


class TestFollowAndUnfollow:
    def test_follow_backfills_recent_posts_unfollow_takes_them_out(
        self, django_capture_on_commit_callbacks
    ):
        kim, lee, park = a_member(), a_member(), a_member()
        old = [publish(lee, f"lee {i}") for i in range(3)]
        other = publish(park)
        with django_capture_on_commit_callbacks(execute=True):
            follow(kim, park)
            follow(kim, lee)
        assert feed_of(kim) == sorted([p.pk for p in old] + [other.pk], reverse=True)

        usecases.unfollow(follower_id=kim.pk, followee_id=lee.pk)

        assert feed_of(kim) == [other.pk]
        assert feed_of(lee) == sorted([p.pk for p in old], reverse=True)  # their own

    def test_a_backfill_after_an_unfollow_brings_nothing(self):
        kim, lee = a_member(), a_member()
        publish(lee)
        usecases.follow(follower_id=kim.pk, followee_id=lee.pk)  # job not run yet
        usecases.unfollow(follower_id=kim.pk, followee_id=lee.pk)

        age_jobs()
        sweep()

        assert feed_of(kim) == []

    def test_the_backfill_respects_the_cap(self, settings, django_capture_on_commit_callbacks):
        settings.FEED_MAX_ENTRIES = 4
        kim, lee = a_member(), a_member()
        made = [publish(lee, f"{i}") for i in range(7)]
        with django_capture_on_commit_callbacks(execute=True):
            follow(kim, lee)
        assert feed_of(kim) == [p.pk for p in made[::-1][:4]]


class TestDelete:
    def test_deleting_leaves_timelines_feeds_likes_and_the_day(
        self, django_capture_on_commit_callbacks
    ):
        star = a_member()
        crowd = crowd_following(star, 3, django_capture_on_commit_callbacks)
        with django_capture_on_commit_callbacks(execute=True):
            post = publish(star)
            kept = publish(star, "kept")
        likes.like_add(member_id=crowd[0].pk, post_id=post.pk)

        usecases.post_remove(member_id=star.pk, post_id=post.pk)

        assert not Post.objects.filter(pk=post.pk).exists()
        assert holders(post) == []
        assert len(holders(kept)) == 4
        assert likes.like_counts(post_ids=[post.pk]) == {}
        assert DailyPostCount.objects.get(member=star).count == 1
        page = facades.home(member_id=crowd[0].pk, cursor=Cursor())
        assert [e.id for e in page.entries] == [kept.pk]

    def test_only_the_author_deletes(self):
        star, other = a_member(), a_member()
        post = publish(star)
        from posts.services import NotTheAuthor, PostNotFound

        with pytest.raises(NotTheAuthor):
            usecases.post_remove(member_id=other.pk, post_id=post.pk)
        with pytest.raises(PostNotFound):
            usecases.post_remove(member_id=star.pk, post_id=999_999)
        assert Post.objects.filter(pk=post.pk).exists()


class TestPull:
    """Authors with more followers than FEED_FANOUT_LIMIT are merged in at read time."""

    @pytest.fixture
    def world(self, settings, django_capture_on_commit_callbacks):
        settings.FEED_FANOUT_LIMIT = 2
        star, friend, reader = a_member(), a_member(), a_member()
        crowd_following(star, 2, django_capture_on_commit_callbacks)
        with django_capture_on_commit_callbacks(execute=True):
            follow(reader, star)  # the third follower: star is pulled once the sweep says so
            follow(reader, friend)
        pull_authors_settled()
        made = []
        with django_capture_on_commit_callbacks(execute=True):
            for i in range(9):
                author = star if i % 3 else friend
                made.append(publish(author, f"post {i}"))
        made.append(publish(reader, "mine"))
        return star, friend, reader, made

    def test_pulled_posts_are_not_fanned_out(self, world):
        star, friend, reader, made = world
        star_posts = [p for p in made if p.member_id == star.pk]
        assert all(holders(p) == [star.pk] for p in star_posts)
        assert set(feed_of(reader)) == {p.pk for p in made if p.member_id != star.pk}

    @pytest.mark.parametrize("size", [1, 2, 3, 4, 20])
    def test_pages_merge_exactly_both_ways(self, world, size):
        _star, _friend, reader, made = world
        expected = sorted((p.pk for p in made), reverse=True)

        pages, cursor = [], Cursor(size=size)
        while cursor is not None:
            page = facades.home(member_id=reader.pk, cursor=cursor)
            pages.append(page)
            cursor = page.older
        assert [e.id for page in pages for e in page.entries] == expected

        # And back again from the last page, with the "newer" links.
        back, cursor = [], pages[-1].newer
        while cursor is not None:
            page = facades.home(member_id=reader.pk, cursor=cursor)
            back.append(page)
            cursor = page.newer
        walked_back = [e.id for page in reversed(back) for e in page.entries]
        assert walked_back == expected[: len(expected) - len(pages[-1].entries)]

    def test_a_post_both_pushed_and_pulled_shows_once(self, world):
        star, _friend, reader, made = world
        early = next(p for p in made if p.member_id == star.pk)
        services.feed_add(owner_ids=[reader.pk], post_id=early.pk, author_id=star.pk)
        ids = [e.id for e in facades.home(member_id=reader.pk, cursor=Cursor(size=100)).entries]
        assert ids.count(early.pk) == 1


def test_the_home_page_costs_the_same_for_1_and_10_followings(
    django_capture_on_commit_callbacks,
):
    counts = []
    for n in (1, 10):
        reader = a_member()
        authors = [a_member() for _ in range(n)]
        with django_capture_on_commit_callbacks(execute=True):
            for author in authors:
                follow(reader, author)
            for i in range(12):  # two full pages of 5 either way
                publish(authors[i % n])
        cache.clear()
        facades.home(member_id=reader.pk, cursor=Cursor())  # fills the pull-author cache
        with CaptureQueriesContext(connection) as ctx:
            page = facades.home(member_id=reader.pk, cursor=Cursor(size=5))
            facades.home(member_id=reader.pk, cursor=page.older)
        assert_no_join_offset_or_count(ctx.captured_queries)
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]
