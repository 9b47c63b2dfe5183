"""End to end: real ``celery -A config worker``s send the welcome emails to a real
SMTP stand-in that refuses more than 10 messages a second.

The worker is started exactly as `make worker` does, with no queue option: it must
consume the ``mail`` queue as well as the default one. It is a separate process, so
this runs on MariaDB (transactional_db) in a RabbitMQ vhost of its own.
"""

import os
import socket
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest
from celery import current_app
from django.db import transaction

from core.outbox import outbox_pending
from core.testing.net import free_port
from core.testing.workers import ROOT, celery_worker, wait_until, worker_env
from deploy.smtp_standin import read_mailbox, read_stats
from members import mail, services
from members.models import OutboundMail

app = current_app._get_current_object()  # the project's (config.celery), loaded with the settings

SIGN_UPS = 40
PROVIDER_LIMIT = 10  # messages a second
WORKER_RATE = "8/s"  # under it, with margin for the jitter of one worker
REDIS = f"redis://127.0.0.1:6379/{os.environ.get('TEST_REDIS_DB', '9')}"


@pytest.fixture
def provider(tmp_path):
    """The stand-in, as the cluster runs it; yields its mailbox path."""
    port, mailbox = free_port(), tmp_path / "mailbox.jsonl"
    with (tmp_path / "smtp.log").open("w") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                str(ROOT / "deploy" / "smtp_standin.py"),
                *("--host", "127.0.0.1", "--port", str(port)),
                *("--max-per-second", str(PROVIDER_LIMIT), "--mailbox", str(mailbox)),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def listening() -> bool:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
        except OSError:
            return False
        return True

    assert wait_until(listening, 15), "the SMTP stand-in did not start"
    yield port, mailbox
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def worker(broker, provider, transactional_db, tmp_path, request):
    """``celery -A config worker`` sending at MAIL_RATE_LIMIT (the test's param, or 8/s)."""
    port, _ = provider
    rate = getattr(request, "param", WORKER_RATE)
    env = worker_env(broker, EMAIL_URL=f"smtp://127.0.0.1:{port}", MAIL_RATE_LIMIT=rate)
    log = tmp_path / "worker.log"
    with celery_worker(env, log):
        yield log


@pytest.fixture
def two_workers(broker, provider, transactional_db, tmp_path, request):
    """Two workers, each allowed WORKER_RATE by Celery (16/s together, over the provider's
    10), on one Redis, paced together at the test's MAIL_PROVIDER_RATE ("0": not at all)."""
    port, _ = provider
    env = worker_env(
        broker,
        EMAIL_URL=f"smtp://127.0.0.1:{port}",
        MAIL_RATE_LIMIT=WORKER_RATE,
        MAIL_PROVIDER_RATE=request.param,
        CACHE_URL=REDIS,
    )
    logs = [tmp_path / "worker-1.log", tmp_path / "worker-2.log"]
    with celery_worker(env, logs[0], "worker-1"), celery_worker(env, logs[1], "worker-2"):
        yield logs


def sign_up(n: int) -> dict[str, OutboundMail]:
    """``n`` sign-ups through the service; their outbox rows by address."""
    emails = [
        services.member_register(
            email=f"member{k}@example.com",
            nickname=f"m{k}",
            birthdate=date(1990, 1, 2),
            password=None,
        ).email
        for k in range(n)
    ]
    rows = {row.to: row for row in OutboundMail.objects.all()}
    assert sorted(rows) == sorted(emails)
    return rows


def arrived_once_each(mailbox: Path, rows: dict[str, OutboundMail], seconds: float) -> None:
    assert wait_until(lambda: len(read_mailbox(mailbox)) >= len(rows), seconds), (
        f"{len(read_mailbox(mailbox))} of {len(rows)} mails arrived"
    )
    assert wait_until(lambda: outbox_pending(OutboundMail) == [], 5)
    time.sleep(0.5)  # anything sent twice would arrive now
    delivered = read_mailbox(mailbox)
    assert sorted(m["to"][0] for m in delivered) == sorted(rows)
    assert sorted(m["message_id"] for m in delivered) == sorted(
        mail.message_id(row) for row in rows.values()
    )


def test_each_queue_has_a_binding_of_its_own():
    bindings = {name: (q.exchange.name, q.routing_key) for name, q in app.amqp.queues.items()}
    assert bindings == {"celery": ("celery", "celery"), "mail": ("celery", "mail")}
    route = app.amqp.router.route({}, "members.tasks.send_mail")
    assert route["queue"].name == "mail"
    assert app.amqp.router.route({}, "feeds.tasks.fanout")["queue"].name == "celery"


@pytest.mark.mysql
def test_every_welcome_email_arrives_once_and_none_is_refused(worker, provider):
    _, mailbox = provider
    rows = sign_up(SIGN_UPS)

    arrived_once_each(mailbox, rows, seconds=30)
    assert read_stats(mailbox) == {"accepted": SIGN_UPS, "refused": 0, "duplicates": 0}
    # Each message was delivered to the worker once: in one queue, not copied to both.
    assert worker.read_text().count("members.tasks.send_mail[") == SIGN_UPS

    # A worker started with no queue option consumes the mail queue and the default one.
    banner = worker.read_text()
    assert ".> celery " in banner
    assert ".> mail " in banner


@pytest.mark.mysql
@pytest.mark.parametrize("worker", ["100/s"], indirect=True)
def test_sent_faster_than_the_provider_takes_the_refused_are_retried_not_lost(worker, provider):
    _, mailbox = provider
    with transaction.atomic():  # all queued at once, at the commit: a burst
        rows = sign_up(2 * PROVIDER_LIMIT)

    arrived_once_each(mailbox, rows, seconds=60)
    stats = read_stats(mailbox)
    assert stats["refused"] > 0, stats  # the provider did say "451 not now" ...
    assert (stats["accepted"], stats["duplicates"]) == (2 * PROVIDER_LIMIT, 0)  # ... to no harm


@pytest.mark.mysql
@pytest.mark.parametrize("two_workers", ["0", "8"], indirect=True)
def test_two_workers_paced_together_are_never_refused(two_workers, provider, request):
    _, mailbox = provider
    with transaction.atomic():  # all queued at once, at the commit: a burst
        rows = sign_up(SIGN_UPS)

    arrived_once_each(mailbox, rows, seconds=90)
    stats = read_stats(mailbox)
    logs = [log.read_text() for log in two_workers]
    assert all("members.tasks.send_mail[" in log for log in logs)  # both sent
    assert (stats["accepted"], stats["duplicates"]) == (SIGN_UPS, 0)
    if request.node.callspec.params["two_workers"] == "0":
        # Each worker keeps to its own Celery limit; together they are over the
        # provider's: the reference that the shared pace is needed.
        assert stats["refused"] > 0, stats
    else:
        assert stats["refused"] == 0, stats
