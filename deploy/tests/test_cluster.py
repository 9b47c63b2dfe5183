"""The cluster smoke test: up, a write read back through nginx, an app server killed
with no failed request, up again starts only what is down, stop.

A cluster of its own (another state directory, every port shifted by 10 000, two app
servers, one worker), so it runs beside a developer's `make cluster`.
"""

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
        assert not [p for p in (state / "run").glob("*.pid")], "stop leaves no pid file"


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
    pid = int((state / "run" / "app-1.pid").read_text())
    os.killpg(pid, signal.SIGKILL)
    time.sleep(2)
    stop.set()
    for thread in threads:
        thread.join()
    assert len(requests) > 20
    assert failures == []

    assert run("status").returncode == 1  # app-1 is down, and status says so
    again = run("up")
    assert again.returncode == 0, again.stderr
    assert "started app-1" in again.stdout
    assert "started app-2" not in again.stdout
    assert run("status").returncode == 0
