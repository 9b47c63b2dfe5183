"""What the tests that run a real broker, worker or silent peer share.

A pytest plugin (the root conftest.py loads it): its fixtures are everyone's.
"""

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
from celery import current_app
from django.db import connection

app = current_app._get_current_object()  # the project's (config.celery), loaded with the settings

ROOT = Path(__file__).resolve().parents[2]


def rabbitmqctl(*args: str) -> None:
    command = shutil.which("rabbitmqctl")
    if command is None:
        pytest.fail("rabbitmqctl is missing: the test needs the machine's RabbitMQ")
    subprocess.run([command, "-q", *args], check=True, capture_output=True, timeout=60)


def use_broker(url: str) -> None:
    """Point this process's publisher at ``url``, dropping connections made to the last one."""
    app.pool.force_close_all()
    app._pool = None  # Celery caches the pool and the producer pool: start both anew
    app.amqp._producer_pool = None
    app.conf.broker_url = url


@pytest.fixture
def vhost():
    """A RabbitMQ vhost of the test's own on the machine's broker; yields its URL."""
    name = f"sns-test-{uuid.uuid4().hex[:8]}"
    rabbitmqctl("add_vhost", name)
    rabbitmqctl("set_permissions", "-p", name, "guest", ".*", ".*", ".*")
    yield f"amqp://guest:guest@127.0.0.1:5672/{name}"
    rabbitmqctl("delete_vhost", name)


@pytest.fixture
def broker(vhost):
    """This process publishes to the vhost (not eagerly) for the test's length."""
    saved = app.conf.broker_url
    app.conf.task_always_eager = False
    use_broker(vhost)
    yield vhost
    use_broker(saved)
    app.conf.task_always_eager = True


def database_url() -> str:
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"mysql://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 3306}/{s['NAME']}"


def worker_env(broker: str, **extra: str) -> dict[str, str]:
    """The environment of another process of ours on the test database."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "0",
        "SECRET_KEY": "worker-test-only",
        "HTTPS": "0",
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_URL": broker,
        **extra,
    }


@contextlib.contextmanager
def celery_worker(env: dict[str, str], log: Path, name: str = "celery"):
    """``celery -A config worker`` as `make worker` starts it (no queue option), one process;
    ``name`` tells two apart."""
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "solo"]
            + ["--loglevel", "INFO", "--without-gossip", "--without-mingle"]
            + ["--hostname", f"{name}@%h"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        yield process
    finally:
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


@pytest.fixture
def silent_port():
    """A port that accepts connections and never says a word."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    held = []
    stop = threading.Event()

    def accept():
        listener.settimeout(0.2)
        while not stop.is_set():
            with contextlib.suppress(OSError):
                held.append(listener.accept()[0])

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join()
    for sock in held:
        sock.close()
    listener.close()
