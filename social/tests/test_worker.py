"""End to end: a real Celery worker on the machine's RabbitMQ fans posts out.

The worker is a separate process, so it must see committed rows in a database it
can reach: this runs on MariaDB (the test database, with transactional_db), in
a RabbitMQ vhost of its own that it creates and deletes.
"""

import os
import subprocess
import sys
import time

import pytest
from django.core.cache import cache
from django.test import override_settings
from django.utils import timezone

from core.cache import cache_from_url
from core.outbox import outbox_sweep
from core.testing.workers import ROOT, celery_worker, wait_until, worker_env
from feeds.models import FanoutJob, FeedEntry
from follows import services as follows
from social import usecases
from social.tests.mothers import a_member
from social.tests.test_member_caches import logged_in

pytestmark = pytest.mark.mysql

BROKER_DOWN = "amqp://guest:guest@127.0.0.1:1//"


@pytest.fixture
def worker(broker, transactional_db, tmp_path):
    with celery_worker(worker_env(broker), tmp_path / "worker.log") as process:
        yield process


def some_members(n: int) -> list[int]:
    return [a_member().pk for _ in range(n)]


def test_a_worker_fans_a_post_out_and_a_post_written_while_the_broker_was_down_arrives(
    worker, broker
):
    star, *crowd = some_members(41)
    follows.follow_add(follower_id=a_member().pk, followee_id=star)  # one more
    for member_id in crowd:
        follows.follow_add(follower_id=member_id, followee_id=star)
    audience = follows.follow_counts(member_id=star).followers
    assert audience == 41

    post = usecases.post_publish(member_id=star, contents="through the queue")

    def fanned_out(post_id):
        return lambda: FeedEntry.objects.filter(post_id=post_id).count() == audience + 1

    assert wait_until(fanned_out(post.pk)), "the worker did not fan the post out"
    assert FanoutJob.objects.get(post_id=post.pk).done_at is not None

    # An app server whose broker is down writes a post: the post is written
    # (quickly), its fan-out waits in the outbox.
    began = time.monotonic()
    written = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "shell",
            "-c",
            "from social import usecases; "
            f"print(usecases.post_publish(member_id={star}, contents='broker down').pk)",
        ],
        cwd=ROOT,
        env={**worker_env(broker), "CELERY_BROKER_URL": BROKER_DOWN},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert time.monotonic() - began < 30  # a whole process start, not a hang
    assert "not queued" in written.stderr
    later_id = int(written.stdout.strip().splitlines()[-1])
    assert FeedEntry.objects.filter(post_id=later_id).count() == 1  # the author's own
    assert FanoutJob.objects.get(post_id=later_id).done_at is None

    # It comes back; the sweeper sends what was left.
    FanoutJob.objects.filter(post_id=later_id).update(
        created_at=timezone.now() - timezone.timedelta(minutes=5)
    )
    assert outbox_sweep()["feeds.FanoutJob"] == 1
    assert wait_until(fanned_out(later_id)), "the swept job was not fanned out"


REDIS_URL = f"redis://127.0.0.1:6379/{os.environ.get('TEST_REDIS_DB', '9')}"


def test_a_kept_home_shows_what_the_worker_fanned_out_on_the_next_request(
    broker, transactional_db, tmp_path, settings
):
    """The worker bumps the feeds it writes (their stamps in the shared Redis): a home
    kept before, or while, a fan-out runs is never served once the job is done. The
    member asks for their home all through each fan-out, at several delays after
    the post, so pages are kept at every point of the worker's transaction."""
    settings.PAGE_CACHE = True
    with override_settings(CACHES={"default": cache_from_url(REDIS_URL)}):
        cache.clear()
        env = worker_env(broker, CACHE_URL=REDIS_URL)
        with celery_worker(env, tmp_path / "worker.log"):
            star, reader = a_member(), a_member()
            usecases.follow(follower_id=reader.pk, followee_id=star.pk)
            assert wait_until(lambda: not FanoutJob.objects.filter(done_at__isnull=True).exists())
            client = logged_in(reader)
            for round_, delay in enumerate([0, 0, 0.005, 0.02, 0.05, 0.1, 0.3]):
                assert client.get("/home/")["X-Page-Cache"] in ("miss", "hit")
                assert client.get("/home/")["X-Page-Cache"] == "hit"
                contents = f"round {round_}"
                post = usecases.post_publish(member_id=star.pk, contents=contents)
                time.sleep(delay)
                job = FanoutJob.objects.get(post_id=post.pk)
                deadline = time.monotonic() + 60
                while FanoutJob.objects.filter(pk=job.pk, done_at__isnull=True).exists():
                    assert client.get("/home/").status_code == 200
                    assert time.monotonic() < deadline, "the worker did not finish the job"
                answer = client.get("/home/")
                assert contents in answer.text, f"round {round_}: a stale home after the job"
                assert client.get("/home/")["X-Page-Cache"] == "hit"  # and kept again
        cache.clear()
