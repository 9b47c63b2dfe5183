"""/metrics: Prometheus text for the machine itself, counting requests by view and the
page cache's hits and misses; under gunicorn, the sum over all its workers."""

import re
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.cache import cache
from django.test import Client
from prometheus_client import REGISTRY
from prometheus_client.multiprocess import MultiProcessCollector

from core.testing.served import get, served

pytestmark = pytest.mark.django_db

REQUESTS = "django_http_requests_total_by_view_transport_method_total"


def page_cache_count(result: str) -> float:
    return REGISTRY.get_sample_value("sns_page_cache_total", {"result": result})


@pytest.mark.parametrize("address", ["127.0.0.1", "::1"])
def test_loopback_gets_prometheus_text(address):
    Client().get("/healthz")

    response = Client(REMOTE_ADDR=address).get("/metrics")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    text = response.content.decode()
    assert re.search(REQUESTS + r'\{[^}]*view="healthz"[^}]*\} [1-9]', text)
    assert 'sns_page_cache_total{result="hit"}' in text
    assert 'sns_page_cache_total{result="miss"}' in text


def test_another_address_is_refused():
    response = Client(REMOTE_ADDR="203.0.113.7").get("/metrics")
    assert response.status_code == 404
    assert b"sns_page_cache" not in response.content


def test_behind_a_proxy_the_client_s_address_counts(settings):
    settings.CLIENT_IP_HEADER = "X-Real-IP"
    proxy = Client(REMOTE_ADDR="127.0.0.1")

    outside = proxy.get("/metrics", HTTP_X_REAL_IP="203.0.113.7")
    inside = proxy.get("/metrics", HTTP_X_REAL_IP="127.0.0.1")

    assert (outside.status_code, inside.status_code) == (404, 200)


@pytest.mark.parametrize("header", ["", "X-Real-IP"])
def test_a_forged_header_does_not_pass_for_loopback(settings, header):
    """X-Forwarded-For is never read; X-Real-IP only from a trusted proxy."""
    settings.CLIENT_IP_HEADER = header
    outside = Client(REMOTE_ADDR="203.0.113.7")
    forged = outside.get("/metrics", HTTP_X_FORWARDED_FOR="127.0.0.1", HTTP_X_REAL_IP="127.0.0.1")
    assert forged.status_code == 404
    through_the_proxy = Client(REMOTE_ADDR="127.0.0.1").get(
        "/metrics", HTTP_X_FORWARDED_FOR="127.0.0.1", HTTP_X_REAL_IP="203.0.113.7"
    )
    assert through_the_proxy.status_code == (404 if header else 200)


def test_page_cache_hits_and_misses_are_counted(settings):
    settings.PAGE_CACHE = True
    cache.clear()
    hits, misses = page_cache_count("hit"), page_cache_count("miss")

    first = Client().get("/posts/")
    second = Client().get("/posts/")

    assert (first["X-Page-Cache"], second["X-Page-Cache"]) == ("miss", "hit")
    assert page_cache_count("miss") == misses + 1
    assert page_cache_count("hit") == hits + 1
    cache.clear()


def healthz_count_by_process(directory) -> dict[str, float]:
    """Each worker's own count of /healthz requests, from its file in the directory."""
    counts = {}
    for path in directory.glob("counter_*.db"):
        for metric in MultiProcessCollector.merge([str(path)]):
            for sample in metric.samples:
                if sample.name == REQUESTS and sample.labels.get("view") == "healthz":
                    counts[path.name] = counts.get(path.name, 0) + sample.value
    return counts


def metrics_count(port: int) -> float:
    response = get(port, "/metrics")
    assert response.status == 200
    found = re.search(REQUESTS + r'\{[^}]*view="healthz"[^}]*\} (\S+)', response.text())
    return float(found.group(1)) if found else 0.0


def test_every_worker_is_counted_under_gunicorn(tmp_path):
    directory = tmp_path / "metrics"
    directory.mkdir()
    (directory / "counter_1.db").write_bytes(b"left by a run before")  # emptied at start
    url = f"sqlite:///{tmp_path / 'unused.sqlite3'}"
    with served(
        tmp_path, url, WEB_CONCURRENCY="2", PROMETHEUS_MULTIPROC_DIR=str(directory)
    ) as port:
        sent = 0
        deadline = time.monotonic() + 30
        # Which worker takes a connection is the kernel's choice: ask until both have.
        while len(healthz_count_by_process(directory)) < 2 and time.monotonic() < deadline:
            with ThreadPoolExecutor(8) as pool:
                statuses = list(pool.map(lambda _: healthz(port), range(16)))
            assert statuses == [200] * 16
            sent += 16

        by_process = healthz_count_by_process(directory)
        total = metrics_count(port)

    assert len(by_process) == 2, by_process
    assert total == sent == sum(by_process.values())


def healthz(port: int) -> int:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as response:
        return response.status


# --- the work waiting: /metrics?collect=backlog (core/web/metrics.py) -----------------------


def backlog_samples() -> dict[tuple[str, str], float]:
    text = Client(REMOTE_ADDR="127.0.0.1").get("/metrics?collect=backlog").content.decode()
    found = re.findall(r'^(sns_\w+)\{\w+="([^"]+)"\} (\S+)$', text, re.MULTILINE)
    return {(name, label): float(value) for name, label, value in found}


def test_the_backlog_counts_the_rows_not_done_and_the_age_of_the_oldest():
    from datetime import timedelta

    from django.utils import timezone

    from members.models import OutboundMail
    from members.tests.mothers import a_member

    assert backlog_samples()[("sns_outbox_pending", "members.OutboundMail")] == 0
    assert backlog_samples()[("sns_outbox_oldest_seconds", "members.OutboundMail")] == 0

    now = timezone.now()
    member = a_member()
    OutboundMail.objects.create(
        member=member, to="a@example.com", created_at=now - timedelta(days=60)
    )
    OutboundMail.objects.create(member=member, to="b@example.com", created_at=now)
    OutboundMail.objects.create(
        member=member, to="c@example.com", created_at=now - timedelta(days=9), done_at=now
    )

    samples = backlog_samples()
    assert samples[("sns_outbox_pending", "members.OutboundMail")] == 2  # the done one is not
    assert 60 * 86400 <= samples[("sns_outbox_oldest_seconds", "members.OutboundMail")] < 61 * 86400
    assert samples[("sns_outbox_pending", "feeds.FanoutJob")] == 0


def test_without_a_broker_there_are_no_queue_depths_and_no_app_metrics():
    text = Client(REMOTE_ADDR="127.0.0.1").get("/metrics?collect=backlog").content.decode()
    assert "sns_outbox_pending{" in text
    assert "sns_queue_messages{" not in text  # the tests run tasks in-process: no broker
    assert "django_http" not in text  # the app server's own metrics are the other job's


def test_the_backlog_is_refused_to_another_address_too():
    response = Client(REMOTE_ADDR="203.0.113.7").get("/metrics?collect=backlog")
    assert response.status_code == 404


def test_queue_depths_are_read_from_a_real_broker(settings, vhost):
    from kombu import Connection

    from core.web.metrics import queue_depths

    settings.CELERY_BROKER_URL = vhost
    assert queue_depths() == []  # no queue declared yet: nothing to report, no error
    with Connection(vhost) as connection:
        channel = connection.default_channel
        for queue in settings.CELERY_TASK_QUEUES:
            queue(channel).declare()
        connection.Producer(serializer="json").publish({}, exchange="", routing_key="mail")
    deadline = time.monotonic() + 5
    while (depths := queue_depths()) != [("celery", 0, 0), ("mail", 1, 0)]:
        assert time.monotonic() < deadline, depths
        time.sleep(0.1)
