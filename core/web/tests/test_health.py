"""/healthz and /readyz: liveness touches nothing; readiness reports each part, and only
a primary database that is down makes it a 503. Parts that are down are real: a
closed port, a port that never answers, a served app on a database that refuses."""

import time
from unittest import mock

import pytest
from django.core.cache import cache
from django.test import override_settings

from core.cache import cache_from_url
from core.testing.served import closed_port, get, served
from core.web import health

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def checked_afresh():
    """Each test's /readyz checks again (a process keeps an answer for a second)."""
    health._ready.forget()
    yield
    health._ready.forget()


def redis_at(port: int) -> dict:
    return {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{port}/13",
        }
    }


def test_healthz_is_ok_without_touching_the_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-store" in response["Cache-Control"]


def test_probes_never_wait_on_the_page_cache(client, settings):
    settings.PAGE_CACHE = True
    with mock.patch("core.web.pagecache.cache") as page_cache:
        assert client.get("/healthz").status_code == 200
        assert client.get("/metrics").status_code == 200
    page_cache.get.assert_not_called()


def test_readyz_all_up(client):
    response = client.get("/readyz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready"
    assert body["parts"]["database"]["state"] == "up"
    assert body["parts"]["cache"]["state"] == "up"
    assert body["parts"]["broker"] == {"state": "not configured"}
    assert body["parts"]["replica"] == {"state": "not configured"}
    assert "no-store" in response["Cache-Control"]


def test_a_cache_that_refuses_is_degraded_not_down(client):
    with override_settings(CACHES=redis_at(closed_port())):
        response = client.get("/readyz")
        cache.close()

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["parts"]["cache"]["state"] == "down"
    assert body["parts"]["database"]["state"] == "up"


def test_a_silent_cache_is_reported_down_within_its_client_s_timeout(client, silent_port):
    # The site's own Redis client (CACHE_URL) gives up after its socket timeout.
    silent = {"default": cache_from_url(f"redis://127.0.0.1:{silent_port}/13")}
    with override_settings(CACHES=silent):
        began = time.monotonic()
        response = client.get("/readyz")
        cache.close()

    assert time.monotonic() - began < 2
    assert response.status_code == 200
    assert response.json()["parts"]["cache"]["state"] == "down"


def test_anyone_but_the_machine_gets_the_status_alone(client, settings):
    settings.CELERY_BROKER_URL = f"amqp://guest:guest@127.0.0.1:{closed_port()}//"
    outside = client.get("/readyz", REMOTE_ADDR="203.0.113.7")
    inside = client.get("/readyz")

    assert (outside.status_code, outside.json()) == (200, {"status": "degraded"})
    assert inside.json()["parts"]["broker"]["state"] == "down"


def test_a_burst_of_probes_is_checked_once_a_second_without_writes_or_threads(client):
    with (
        mock.patch.object(health, "_database_state", wraps=health._database_state) as db,
        mock.patch.object(health.cache, "set") as written,
        mock.patch("threading.Thread") as thread,
    ):
        answers = [client.get("/readyz", REMOTE_ADDR="203.0.113.7") for _ in range(20)]
        assert db.call_count == 1
        health._ready.at -= health.READY_SECONDS  # a second later
        client.get("/readyz")
        assert db.call_count == 2
    assert {a.status_code for a in answers} == {200}
    written.assert_not_called()
    thread.assert_not_called()


def test_a_broker_that_refuses_is_degraded(client, settings):
    settings.CELERY_BROKER_URL = f"amqp://guest:guest@127.0.0.1:{closed_port()}//"

    response = client.get("/readyz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["parts"]["broker"]["state"] == "down"


def test_a_broker_that_answers_is_up(client, settings, vhost):
    settings.CELERY_BROKER_URL = vhost

    body = client.get("/readyz").json()

    assert body["parts"]["broker"]["state"] == "up"
    assert body["status"] == "ready"


def test_a_replica_that_is_down_is_degraded(client):
    with mock.patch("core.web.health._replica_state", return_value={"state": "down", "lag": None}):
        response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json()["status"] == "degraded"
    assert response.json()["parts"]["replica"]["state"] == "down"


def test_a_database_that_refuses_is_a_503(tmp_path):
    with served(tmp_path, f"mysql://root@127.0.0.1:{closed_port()}/sns") as server:
        ready = get(server, "/readyz")
        live = get(server, "/healthz")

    assert ready.status == 503
    assert "no-store" in ready.headers["Cache-Control"]
    answer = ready.json()
    assert answer["status"] == "unavailable"
    assert answer["parts"]["database"]["state"] == "down"
    assert answer["parts"]["database"]["error"] == "OperationalError"
    # Alive all the same: restarting the app server would not bring the database back.
    assert (live.status, live.json()) == (200, {"status": "ok"})
