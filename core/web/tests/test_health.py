"""/healthz and /readyz: liveness touches nothing; readiness reports each part, and only
a primary database that is down makes it a 503. Parts that are down are real: a
closed port, a port that never answers, a served app on a database that refuses."""

from unittest import mock

import pytest
from django.core.cache import cache
from django.test import override_settings

from core.testing.served import closed_port, get, served

pytestmark = pytest.mark.django_db


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


def test_a_silent_cache_is_reported_down_within_the_check_s_bound(client, silent_port):
    # Redis with no socket timeout would wait for ever: the check stops waiting.
    with override_settings(CACHES=redis_at(silent_port)):
        response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json()["parts"]["cache"] == {"state": "down", "error": "no answer within 1 s"}


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
