"""The feed's races end to end: a real Celery worker on the machine's RabbitMQ does the
fan-out while this process follows, unfollows and posts at many delays.

On MariaDB (the worker is another process on the test database), each in a RabbitMQ
vhost of its own. After each race the outbox is drained and every check is run:
``rebuild_feeds --check`` for every feed and ``feeds_check`` for every post.
"""

import time

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import transaction

from core.outbox import outbox_pending, outbox_sweep
from core.pagination import Cursor
from core.testing.workers import celery_worker, wait_until, worker_env
from feeds import services
from feeds.models import FanoutJob, FeedEntry, PullAuthor
from follows import services as follows
from posts import services as posts
from social import facades, usecases
from social.tests.mothers import a_member

pytestmark = [pytest.mark.mysql, pytest.mark.django_db(transaction=True)]

DELAYS = [0, 0.001, 0.003, 0.01, 0.03]  # seconds between the two sides of a race


def drained(seconds: float = 60) -> None:
    assert wait_until(lambda: outbox_pending(FanoutJob) == [], seconds), (
        f"fan-out jobs left: {outbox_pending(FanoutJob)}"
    )


def everything_checks_out(post_ids) -> None:
    call_command("rebuild_feeds", "--check")  # raises (exit 1) on any wrong feed
    for post_id in post_ids:
        call_command("feeds_check", "--post", str(post_id))


def posts_by(member_id: int, n: int) -> list[int]:
    """``n`` posts at once (below the use case: their fan-out is not the point), in the
    author's own feed."""
    with transaction.atomic():
        made = [posts.post_write(member_id=member_id, contents=f"{i}").pk for i in range(n)]
    services.feed_rebuild(member_id=member_id)
    return made


@pytest.fixture
def worker(broker, tmp_path, request):
    """A worker with FEED_FANOUT_LIMIT 3 (or the test's ``limit`` marker)."""
    marker = request.node.get_closest_marker("limit")
    limit = str(marker.args[0]) if marker else "3"
    env = worker_env(broker, FEED_FANOUT_LIMIT=limit, LOCAL_CACHE_SECONDS="0")
    with celery_worker(env, tmp_path / "worker.log") as process:
        yield process


def test_follow_then_unfollow_at_every_delay_leaves_no_row_behind(worker, settings):
    settings.FEED_FANOUT_LIMIT = 3
    star = a_member().pk
    posts_by(star, 300)
    readers = []
    for delay in DELAYS:
        for _ in range(4):
            reader = a_member().pk
            readers.append(reader)
            usecases.follow(follower_id=reader, followee_id=star)
            time.sleep(delay)
            usecases.unfollow(follower_id=reader, followee_id=star)
    drained()

    left = FeedEntry.objects.filter(owner_id__in=readers, author_id=star).count()
    assert left == 0
    everything_checks_out([])


FAN_OUT_DELAYS = [0, 0.01, 0.05, 0.1, 0.2, 0.3]


@pytest.mark.limit(20_000)
def test_an_unfollow_at_every_delay_of_a_fan_out_leaves_the_post_in_no_ex_follower_s_feed(
    worker, settings
):
    settings.FEED_FANOUT_LIMIT = 20_000
    star = a_member().pk
    audience = 3 * services.CHUNK_SIZE - 1_000  # three chunks, each read then written
    call_command("seed_follows", "--member", str(star), "--followers", str(audience))
    crowd = [f for _, f in follows.followers_after(member_id=star, after=0, limit=audience)]
    made, gone = [], []
    for n, delay in enumerate(FAN_OUT_DELAYS):
        made.append(usecases.post_publish(member_id=star, contents=f"race {n}").pk)
        time.sleep(delay)
        # The last of each chunk: written the longest after the chunk was read.
        for end in (services.CHUNK_SIZE, 2 * services.CHUNK_SIZE, audience):
            follower = crowd[end - 1 - n]
            usecases.unfollow(follower_id=follower, followee_id=star)
            gone.append(follower)
    drained(120)

    assert not FeedEntry.objects.filter(owner_id__in=gone, author_id=star).exists()
    for post_id in made:
        reach = services.post_reach(post_id=post_id)
        assert (reach.missing, reach.twice, reach.strangers) == ([], [], [])
        assert reach.held == reach.followers == audience - len(gone)


def home_ids(reader: int, pulled_as_cached: set[int] | None) -> list[int]:
    """A home page as a reader whose cached pull authors are ``pulled_as_cached``
    (a cache that has not expired yet), or read afresh (None)."""
    services.pull_authors_forget()
    if pulled_as_cached is not None:
        cache.set(services.PULL_AUTHORS_KEY, pulled_as_cached, 60)
    page = facades.home(member_id=reader, cursor=Cursor(size=100))
    return [e.id for e in page.entries]


def every_home_shows(readers, post_ids, caches) -> None:
    for pulled_as_cached in caches:
        for reader in readers:
            shown = home_ids(reader, pulled_as_cached)
            assert set(post_ids) <= set(shown), (reader, pulled_as_cached)


def test_an_author_crossing_the_limit_either_way_stays_in_every_home(worker, settings):
    settings.FEED_FANOUT_LIMIT = 3
    star = a_member().pk
    crowd = [a_member().pk for _ in range(4)]
    for reader in crowd[:3]:
        usecases.follow(follower_id=reader, followee_id=star)
    outbox_sweep()
    assert not PullAuthor.objects.exists()
    made = [usecases.post_publish(member_id=star, contents="three followers").pk]

    # The fourth follower: over the limit. Until the sweep writes the row, and until
    # that row settles, posts are pushed, whatever a reader's cache says.
    usecases.follow(follower_id=crowd[3], followee_id=star)
    made.append(usecases.post_publish(member_id=star, contents="four, no row yet").pk)
    drained()
    every_home_shows(crowd, made, caches=[set(), None])

    outbox_sweep()  # the row, settling a while from now
    assert PullAuthor.objects.get().pulled_from > posts.post_get(post_id=made[-1]).created_at
    made.append(usecases.post_publish(member_id=star, contents="four, settling").pk)
    drained()
    every_home_shows(crowd, made, caches=[set(), {star}, None])
    assert len(services.feeds_holding(post_id=made[-1])) == 5  # pushed: 4 and the author

    # Settled (as the settling time would have passed): every cache pulls the
    # author by now, and the worker no longer pushes.
    PullAuthor.objects.update(pulled_from=posts.post_get(post_id=made[-1]).created_at)
    made.append(usecases.post_publish(member_id=star, contents="pulled").pk)
    drained()
    assert list(services.feeds_holding(post_id=made[-1])) == [star]
    every_home_shows(crowd, made, caches=[{star}, None])
    everything_checks_out(made)

    # Back to three: the sweep starts a push-back; readers pull until it is done,
    # and once the row is gone the feeds hold every post.
    usecases.unfollow(follower_id=crowd[3], followee_id=star)
    outbox_sweep()
    # Whether the push-back has run yet or not: pulled, or in the feed.
    every_home_shows(crowd[:3], made, caches=[{star}, None])
    drained()
    made.append(usecases.post_publish(member_id=star, contents="three again").pk)
    drained()
    assert not PullAuthor.objects.exists()
    every_home_shows(crowd[:3], made, caches=[{star}, set(), None])
    for post_id in made:
        assert set(crowd[:3]) <= set(services.feeds_holding(post_id=post_id))
    assert not FeedEntry.objects.filter(owner_id=crowd[3], author_id=star).exists()
    everything_checks_out(made)
