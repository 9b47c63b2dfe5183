"""The cluster smoke test: up under supervisord, Prometheus scraping every part, a write
read back through nginx, an app server killed with no failed request and back by itself
with its alert, up again starts nothing, stop.

A cluster of its own (another state directory, every port shifted by 10 000, two app
servers, one worker), so it runs beside a developer's `make cluster`.
"""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

from core.testing.http import Browser

pytestmark = pytest.mark.mysql  # it runs MariaDB servers of its own: once, in the MariaDB pass

ROOT = Path(__file__).resolve().parents[2]
# Another cluster beside this one (a second checkout) picks another offset.
OFFSET = int(os.environ.get("CLUSTER_TEST_PORT_OFFSET", "10000"))
NGINX = f"http://127.0.0.1:{8080 + OFFSET}"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    state = tmp_path_factory.mktemp("cluster")
    env = {
        **os.environ,
        "CLUSTER_DIR": str(state),
        "CLUSTER_PORT_OFFSET": str(OFFSET),
        "CLUSTER_APPS": "2",
        "CLUSTER_WORKERS": "1",
    }
    for name in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE"):
        env.pop(name, None)  # the cluster's processes take theirs from its env file

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "deploy/cluster.py", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )

    started = run("up")
    try:
        assert started.returncode == 0, started.stdout + started.stderr
        yield run, state
    finally:
        stopped = run("stop")
        assert stopped.returncode == 0, stopped.stderr
        assert "stopped supervisord" in stopped.stdout
        assert not (state / "run" / "supervisor.sock").exists()
        assert run("status").returncode == 1


def prometheus(path: str) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{9090 + OFFSET}{path}", timeout=5) as answer:
        return json.load(answer)["data"]


def test_prometheus_scrapes_every_part(cluster):
    targets = prometheus("/api/v1/targets?state=active")["activeTargets"]
    scraped = sorted((t["labels"]["job"], t["labels"]["instance"]) for t in targets)
    assert scraped == [
        ("app", "app-1"),
        ("app", "app-2"),
        ("backlog", "app-1"),
        ("backlog", "app-2"),
        ("broker", "broker"),
        ("mysql", "primary"),
        ("mysql", "replica"),
        ("nginx", "nginx"),
        ("prometheus", "prometheus"),
        ("redis", "redis"),
    ]
    assert [t["lastError"] for t in targets if t["health"] != "up"] == []
    rules = [r for g in prometheus("/api/v1/rules")["groups"] for r in g["rules"]]
    assert {r["health"] for r in rules} == {"ok"}
    # The outboxes and the queues, as Prometheus read them from the app servers.
    consumers = prometheus("/api/v1/query?query=sns_queue_consumers")["result"]
    assert {(m["metric"]["queue"], m["value"][1]) for m in consumers} == {
        ("celery", "1"),
        ("mail", "1"),
    }


def browser() -> Browser:
    return Browser(NGINX)


def test_a_write_is_read_back_through_nginx(cluster):
    member = browser()
    assert member.get("/signup/").status == 200
    email = f"smoke-{uuid.uuid4().hex[:8]}@example.com"
    assert member.signup(email=email, password="smoke-password-1", nickname="smoke").status == 302
    contents = f"hello from the smoke test {uuid.uuid4().hex}"
    assert member.post("/posts/new/", {"contents": contents}).status == 302
    # Read back at once (the writer reads the primary for a while), then by anyone.
    mine = member.get("/api/posts")
    assert mine.status == 200
    assert contents in mine.text()
    deadline = time.monotonic() + 10
    while contents not in browser().get("/api/posts").text():
        assert time.monotonic() < deadline, "the post never reached the anonymous timeline"
        time.sleep(0.2)
    ready = browser().get("/readyz")
    assert ready.status == 200
    assert '"replica"' in ready.text()


def test_nginx_serves_static_files_and_keeps_cut_requests_from_the_app_servers(cluster):
    _, state = cluster
    page = browser().get("/posts/").body
    stylesheet = re.search(rb'href="(/static/css/site\.[0-9a-f]{12}\.css)"', page).group(1)
    with urllib.request.urlopen(NGINX + stylesheet.decode(), timeout=10) as response:
        assert response.status == 200
        assert "immutable" in response.headers["Cache-Control"]
        assert "X-Request-ID" not in response.headers  # the app servers add one; nginx did not ask

    probe = uuid.uuid4().hex
    with socket.create_connection(("127.0.0.1", 8080 + OFFSET), timeout=10) as sock:
        sock.sendall(
            f"POST /posts/new/?probe={probe} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\n"
            "contents=a".encode()
        )  # and the client goes away with 990 bytes unsent
    access = state / "log" / "nginx-access.log"
    deadline = time.monotonic() + 10
    while probe not in (access.read_text() if access.exists() else ""):
        assert time.monotonic() < deadline, "nginx never logged the cut request"
        time.sleep(0.2)
    for log in (state / "log").glob("app-*.log"):
        assert probe not in log.read_text(), f"{log.name} saw a request nginx had not finished"


def test_an_app_server_killed_under_load_fails_no_request(cluster):
    run, state = cluster
    failures, requests = [], []
    stop = threading.Event()

    def reader() -> None:
        visitor = browser()
        while not stop.is_set():
            try:
                status = visitor.get("/posts/").status
            except OSError as exc:
                status = repr(exc)
            requests.append(status)
            if status != 200:
                failures.append(status)

    threads = [threading.Thread(target=reader) for _ in range(4)]
    for thread in threads:
        thread.start()
    time.sleep(1)
    pid = int(run("pid", "app-1").stdout)
    os.killpg(pid, signal.SIGKILL)
    time.sleep(2)
    stop.set()
    for thread in threads:
        thread.join()
    assert len(requests) > 20
    assert failures == []

    # supervisord starts it again, and Prometheus says it restarted, then stops saying so.
    deadline = time.monotonic() + 60
    while not _answers(8101 + OFFSET) or run("pid", "app-1").stdout.strip() in ("", str(pid)):
        assert time.monotonic() < deadline, "app-1 did not come back by itself"
        time.sleep(0.5)
    fired = set()
    while not fired:
        assert time.monotonic() < deadline, "no alert fired for app-1"
        alerts = prometheus("/api/v1/alerts")["alerts"]
        fired = {
            a["labels"]["alertname"]
            for a in alerts
            if a["state"] == "firing" and a["labels"].get("instance") == "app-1"
        }
        time.sleep(0.5)
    assert fired <= {"AppServerDown", "PartRestarted"}
    assert "PartRestarted" in run("status").stdout

    again = run("up")
    assert again.returncode == 0, again.stderr
    assert "Everything was running already." in again.stdout


def _answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as answer:
            return answer.status == 200
    except OSError:
        return False
