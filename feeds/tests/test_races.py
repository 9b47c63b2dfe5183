"""The feed's races, with real threads: an unfollow against a follow's backfill, and
against a fan-out, each caught between reading the follows and writing the rows.

On MariaDB (row locks, a second connection per thread). Each test holds the writer
at the point where the race used to open, runs the unfollow in another thread
meanwhile, and checks that no row of the unfollowed author is left. The same races
with a real worker on RabbitMQ, at many delays: ``feeds/tests/test_worker_races.py``.
"""

import threading
import time

import pytest
from django.db import connections, transaction

from feeds import fanout, services
from feeds.models import FanoutJob, FeedEntry
from follows import services as follows
from posts import services as posts
from social import usecases
from social.tests.mothers import a_member

pytestmark = [pytest.mark.mysql, pytest.mark.django_db(transaction=True)]

HOLD = 0.3  # seconds the writer is held where the race used to open


def hold_before(monkeypatch, module, name: str) -> threading.Event:
    """Make ``module.name`` wait HOLD seconds before it runs; the event says it was reached."""
    real, reached = getattr(module, name), threading.Event()

    def held(*args, **kwargs):
        reached.set()
        time.sleep(HOLD)
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, held)
    return reached


def in_thread(work) -> tuple[threading.Thread, list[BaseException]]:
    errors: list[BaseException] = []

    def run():
        try:
            work()
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            errors.append(exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, errors


def posts_by(member, n: int) -> list[int]:
    with transaction.atomic():
        return [posts.post_write(member_id=member.pk, contents=f"{i}").pk for i in range(n)]


def unfollow_while_held(reached: threading.Event, follower, followee, job_id: int) -> None:
    job, job_errors = in_thread(lambda: fanout.fanout_run(job_id=job_id))
    assert reached.wait(10), "the job never reached the held point"
    began = time.monotonic()
    usecases.unfollow(follower_id=follower.pk, followee_id=followee.pk)
    waited = time.monotonic() - began
    job.join(30)
    assert not job_errors
    # The unfollow waited for the writer's commit (the follow was locked) rather
    # than slipping in between its read and its write.
    assert waited > HOLD / 3


def test_an_unfollow_during_a_backfill_leaves_none_of_the_author_s_posts(monkeypatch, held_jobs):
    star, reader = a_member(), a_member()
    posts_by(star, 30)
    usecases.follow(follower_id=reader.pk, followee_id=star.pk)
    [job_id] = held_jobs
    reached = hold_before(monkeypatch, fanout.posts, "latest_post_ids")

    unfollow_while_held(reached, reader, star, job_id)

    assert not FeedEntry.objects.filter(owner_id=reader.pk, author_id=star.pk).exists()
    assert not services.feed_differences(member_id=reader.pk)


def test_an_unfollow_during_a_fan_out_leaves_the_post_in_no_ex_follower_s_feed(
    monkeypatch, held_jobs
):
    star = a_member()
    crowd = [a_member() for _ in range(5)]
    for member in crowd:
        follows.follow_add(follower_id=member.pk, followee_id=star.pk)
    post = usecases.post_publish(member_id=star.pk, contents="to everyone")
    [job_id] = held_jobs
    reached = hold_before(monkeypatch, fanout.feeds, "feeds_add_posts")

    unfollow_while_held(reached, crowd[2], star, job_id)

    reach = services.post_reach(post_id=post.pk)
    assert (reach.held, reach.missing, reach.twice, reach.strangers) == (4, [], [], [])
    assert FanoutJob.objects.get(pk=job_id).done_at is not None
    assert not FeedEntry.objects.filter(owner_id=crowd[2].pk, author_id=star.pk).exists()


def test_an_unfollow_before_the_backfill_ran_leaves_nothing(held_jobs):
    star, reader = a_member(), a_member()
    posts_by(star, 3)
    usecases.follow(follower_id=reader.pk, followee_id=star.pk)
    usecases.unfollow(follower_id=reader.pk, followee_id=star.pk)

    fanout.fanout_run(job_id=held_jobs[0])

    assert not FeedEntry.objects.filter(owner_id=reader.pk, author_id=star.pk).exists()
