"""End to end: a real Celery worker on the machine's RabbitMQ fans posts out.

The worker is a separate process, so it must see committed rows in a database it
can reach: this runs on MariaDB (the test database, with transactional_db), in
a RabbitMQ vhost of its own that it creates and deletes.
"""

import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from config.celery import app
from feeds import usecases
from feeds.models import FanoutJob, FeedEntry
from follows import services as follows
from members import services as members

pytestmark = pytest.mark.mysql

ROOT = Path(__file__).resolve().parents[2]
BROKER_DOWN = "amqp://guest:guest@127.0.0.1:1//"


def rabbitmqctl(*args: str) -> None:
    command = shutil.which("rabbitmqctl")
    if command is None:
        pytest.fail("rabbitmqctl is missing: the worker test needs the machine's RabbitMQ")
    subprocess.run([command, "-q", *args], check=True, capture_output=True, timeout=60)


def use_broker(url: str) -> None:
    """Point this process's publisher at ``url``, dropping connections made to the last one."""
    app.pool.force_close_all()
    app._pool = None  # Celery caches the pool and the producer pool: start both anew
    app.amqp._producer_pool = None
    app.conf.broker_url = url


@pytest.fixture
def vhost():
    name = f"sns-test-{uuid.uuid4().hex[:8]}"
    rabbitmqctl("add_vhost", name)
    rabbitmqctl("set_permissions", "-p", name, "guest", ".*", ".*", ".*")
    yield f"amqp://guest:guest@127.0.0.1:5672/{name}"
    rabbitmqctl("delete_vhost", name)


def database_url() -> str:
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"mysql://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 3306}/{s['NAME']}"


@pytest.fixture
def broker(vhost):
    """This process publishes to the vhost (not eagerly) for the test's length."""
    saved = app.conf.broker_url
    app.conf.task_always_eager = False
    use_broker(vhost)
    yield vhost
    use_broker(saved)
    app.conf.task_always_eager = True


def worker_env(broker: str) -> dict[str, str]:
    """The environment of another process of ours on the test database."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "0",
        "SECRET_KEY": "worker-test-only",
        "HTTPS": "0",
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_URL": broker,
    }


@pytest.fixture
def worker(broker, transactional_db, tmp_path):
    env = worker_env(broker)
    log = tmp_path / "worker.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--pool",
                "solo",
                "--loglevel",
                "INFO",
                "--without-gossip",
                "--without-mingle",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    yield process
    process.terminate()
    process.wait(timeout=30)
    print(log.read_text()[-3000:])  # shown when the test fails


def wait_until(condition, seconds: float = 60) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def some_members(n: int) -> list[int]:
    return members.members_seed(count=n, seed=int(time.time()))


def test_a_worker_fans_a_post_out_and_a_post_written_while_the_broker_was_down_arrives(
    worker, broker
):
    star, *crowd = some_members(41)
    follows.follows_seed_followers(member_id=star, count=1, seed=99)  # one more, in bulk
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
            "from feeds import usecases; "
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
    assert "not sent" in written.stderr
    later_id = int(written.stdout.strip().splitlines()[-1])
    assert FeedEntry.objects.filter(post_id=later_id).count() == 1  # the author's own
    assert FanoutJob.objects.get(post_id=later_id).done_at is None

    # It comes back; the sweeper sends what was left.
    FanoutJob.objects.filter(post_id=later_id).update(
        created_at=timezone.now() - timezone.timedelta(minutes=5)
    )
    assert usecases.sweep() == 1
    assert wait_until(fanned_out(later_id)), "the swept job was not fanned out"
