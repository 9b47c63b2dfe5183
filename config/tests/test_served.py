"""The served app under gunicorn (config/gunicorn.py) on a loopback port: slow clients,
bodies cut short, and a database that refuses connections or never answers.

Each server is a subprocess with the test settings; the bounds are generous
client timeouts, not timing figures.
"""

import socket

import pytest

from core.testing.served import BOUND, closed_port, get, raw_request, served


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

        response = get(sqlite_server, "/login/")  # raises on timeout

        assert response.status == 200
        assert b'name="username"' in response.body
    finally:
        for sock in slow:
            sock.close()


def test_head_has_get_s_headers_no_body_and_no_warning(sqlite_server, tmp_path):
    page = get(sqlite_server, "/login/")
    answer = raw_request(
        sqlite_server, b"HEAD /login/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    head, _, rest = answer.partition(b"\r\n\r\n")

    assert page.status == 200
    assert head.split()[1] == b"200"
    assert rest == b""
    assert f"Content-Length: {len(page.body)}".encode() in head
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


@pytest.mark.parametrize("database", ["refusing", "silent"])
def test_a_database_down_or_silent_is_a_503(tmp_path, request, database):
    port = closed_port() if database == "refusing" else request.getfixturevalue("silent_port")
    with served(tmp_path, f"mysql://root@127.0.0.1:{port}/sns") as server:
        api = get(server, "/api/posts")
        page = get(server, "/posts/")

    assert api.status == 503
    assert "application/json" in api.headers["Content-Type"]
    assert "error" in api.json()
    assert page.status == 503
    assert "text/html" in page.headers["Content-Type"]
    assert b"Traceback" not in page.body
    log = "".join(path.read_text() for path in tmp_path.glob("gunicorn-*.log"))
    assert "database unavailable" in log
    assert "Traceback" not in log
