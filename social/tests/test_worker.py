"""End to end: a real Celery worker on the machine's RabbitMQ fans posts out.

The worker is a separate process, so it must see committed rows in a database it
can reach: this runs on MariaDB (the test database, with transactional_db), in
a RabbitMQ vhost of its own that it creates and deletes.
"""

import subprocess
import sys
import time

import pytest
from django.utils import timezone

from core.outbox import outbox_sweep
from core.testing.workers import ROOT, celery_worker, wait_until, worker_env
from feeds.models import FanoutJob, FeedEntry
from follows import services as follows
from social import usecases
from social.tests.mothers import a_member

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
