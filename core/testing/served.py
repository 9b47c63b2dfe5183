"""The app served under gunicorn (config/gunicorn.py) on a loopback port, for the tests that
need a real server: its settings are the tests', its database the one they name; and the
site as `make run` serves it (``dev_server``).
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from core.testing.http import Browser, Response
from core.testing.net import free_port

BASE_DIR = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).with_name("gunicorn")
BOUND = 10  # seconds a request may take before a test calls it a hang


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


def get(port: int, path: str) -> Response:
    return Browser(f"http://127.0.0.1:{port}", timeout=BOUND).get(path)


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


@contextlib.contextmanager
def dev_server(folder: Path):
    """What `make run` serves, at its URL: DEBUG on, the debug toolbar, the demo community
    in its own SQLite file under ``folder``, runserver on a loopback port."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))},
        "DATABASE_URL": f"sqlite:///{folder / 'db.sqlite3'}",
        "DEBUG": "1",
        "DEBUG_TOOLBAR": "1",
        "SECRET_KEY": "",
        "CELERY_BROKER_URL": "",
    }
    manage = [sys.executable, "manage.py"]
    for command in (["migrate", "-v0"], ["seed_demo"]):
        subprocess.run([*manage, *command], cwd=BASE_DIR, env=env, check=True, timeout=300)
    port = free_port()
    log = (folder / "server.log").open("w")
    server = subprocess.Popen(
        [*manage, "runserver", "--noreload", "--skip-checks", f"127.0.0.1:{port}"],
        cwd=BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/posts/", timeout=2)  # noqa: S310 - loopback
                break
            except OSError:
                time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
        print((folder / "server.log").read_text()[-5000:])  # shown when a test fails


def closed_port() -> int:
    return free_port()  # nothing listens there once the probe socket is closed
