"""The served app under gunicorn (config/gunicorn.py) on a loopback port: slow clients,
bodies cut short, and a database that refuses connections or never answers.

Each server is a subprocess with the test settings; the bounds are generous
client timeouts, not timing figures.
"""

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from config.net import free_port

BASE_DIR = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).with_name("gunicorn")
BOUND = 10  # seconds a request may take before the test calls it a hang


def raw_request(port: int, data: bytes, *, shut_write: bool = False) -> bytes:
    """Send ``data`` as it is and read the whole answer (the server closes)."""
    with socket.create_connection(("127.0.0.1", port), timeout=BOUND) as sock:
        sock.sendall(data)
        if shut_write:
            sock.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def get(port: int, path: str) -> tuple[int, bytes, bytes]:
    answer = raw_request(
        port, f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode()
    )
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split()[1]), head, body


@contextlib.contextmanager
def served(tmp_path, database_url: str, **extra_env: str):
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))},
        "DJANGO_SETTINGS_MODULE": "config.settings_test",
        "DATABASE_URL": database_url,
        "ALLOWED_HOSTS": "127.0.0.1",
        "BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "1",
        **extra_env,
    }
    log = (tmp_path / f"gunicorn-{port}.log").open("w")
    server = subprocess.Popen(
        [str(GUNICORN), "-c", "config/gunicorn.py", "config.wsgi"],
        cwd=BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError((tmp_path / f"gunicorn-{port}.log").read_text()) from None
                time.sleep(0.2)
        yield port
    finally:
        server.terminate()
        server.wait(timeout=15)
        log.close()


@pytest.fixture
def sqlite_server(tmp_path):
    # /login/ for an anonymous visitor touches no database: none is needed.
    with served(tmp_path, f"sqlite:///{tmp_path / 'unused.sqlite3'}") as port:
        yield port


def test_slow_clients_do_not_stall_the_others(sqlite_server):
    slow = []
    try:
        for _ in range(5):
            sock = socket.create_connection(("127.0.0.1", sqlite_server), timeout=BOUND)
            sock.sendall(b"GET /login/ HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")  # and stop
            slow.append(sock)

        status, _, body = get(sqlite_server, "/login/")  # raises on timeout

        assert status == 200
        assert b'name="username"' in body
    finally:
        for sock in slow:
            sock.close()


def test_head_has_get_s_headers_no_body_and_no_warning(sqlite_server, tmp_path):
    status, get_head, body = get(sqlite_server, "/login/")
    answer = raw_request(
        sqlite_server, b"HEAD /login/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    head, _, rest = answer.partition(b"\r\n\r\n")

    assert status == 200
    assert head.split()[1] == b"200"
    assert rest == b""
    assert f"Content-Length: {len(body)}".encode() in head
    log = next(tmp_path.glob("gunicorn-*.log")).read_text()
    assert "no-body response" not in log  # gunicorn's warning when a body comes with HEAD


def test_a_body_cut_short_is_a_400(sqlite_server):
    body = b"username=a%40b.example&password=secret-password&csrfmiddlewaretoken=x" * 2
    head = (
        "POST /login/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(body) + 30}\r\n\r\n"
    ).encode()

    answer = raw_request(sqlite_server, head + body, shut_write=True)

    assert answer.split()[1] == b"400"
    assert b"shorter than its Content-Length" in answer


def closed_port() -> int:
    return free_port()  # nothing listens there once the probe socket is closed


@pytest.mark.parametrize("database", ["refusing", "silent"])
def test_a_database_down_or_silent_is_a_503(tmp_path, request, database):
    port = closed_port() if database == "refusing" else request.getfixturevalue("silent_port")
    with served(tmp_path, f"mysql://root@127.0.0.1:{port}/sns") as server:
        api_status, api_head, api_body = get(server, "/api/posts")
        page_status, page_head, page_body = get(server, "/posts/")

    assert api_status == 503
    assert b"application/json" in api_head
    assert "error" in json.loads(api_body)
    assert page_status == 503
    assert b"text/html" in page_head
    assert b"Traceback" not in page_body
    log = "".join(path.read_text() for path in tmp_path.glob("gunicorn-*.log"))
    assert "database unavailable" in log
    assert "Traceback" not in log
