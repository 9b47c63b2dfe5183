"""Requests a second of the served site, page by page, beside a static file: `make throughput`.

It starts the production server (gunicorn with config/gunicorn.py, DEBUG off) on a
loopback port over the current database, runs wrk (Debian's package) against a
static file and each page, anonymous and logged in, and stops the server. The
static file, answered by WhiteNoise in the same server, is the ceiling a page can
approach; each page's figure is set beside it, measured in the same run.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.templatetags.static import static

from core.testing.net import free_port
from members.models import Member
from posts.models import Post

BASE_DIR = Path(settings.BASE_DIR)


@dataclass(frozen=True)
class Row:
    label: str
    path: str
    member: bool  # logged in
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    errors: int
    ratio: float | None = None  # to the static file


def _member_with_posts() -> Member:
    newest = Post.objects.order_by("-id").values_list("member_id", flat=True).first()
    if newest is None:
        raise RuntimeError("No posts to measure: seed some first (make run does, or seed_posts).")
    return Member.objects.get(pk=newest)


def _session_cookie(member: Member) -> str:
    """A logged-in session for ``member``, as the login page would leave it."""
    session = SessionStore()
    session[SESSION_KEY] = str(member.pk)
    session[BACKEND_SESSION_KEY] = "members.backends.MemberBackend"
    session[HASH_SESSION_KEY] = member.get_session_auth_hash()
    session.create()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]


def wrk(url: str, *, seconds: int, connections: int, threads: int, cookie: str | None):
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    if cookie:
        command[1:1] = ["-H", f"Cookie: {cookie}"]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout  # noqa: S603
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = _ms(re.search(r"\s50%\s+(\S+)", out).group(1))
    p99 = _ms(re.search(r"\s99%\s+(\S+)", out).group(1))
    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", out))
    errors += sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    return rate, p50, p99, errors


class Server:
    """gunicorn as `make serve` runs it, on a free loopback port, with its output kept."""

    def __init__(self, log: Path):
        self.port = free_port()
        self.log = log
        self.env = {
            **os.environ,
            "DEBUG": "0",
            "HTTPS": "0",
            "ALLOWED_HOSTS": "127.0.0.1",
            "CONN_MAX_AGE": "60",
            "BIND": f"127.0.0.1:{self.port}",
            "SECRET_KEY": os.environ.get("SECRET_KEY") or secrets.token_urlsafe(50),
        }

    def __enter__(self) -> Server:
        manage = [sys.executable, "manage.py"]
        collect = [*manage, "collectstatic", "--noinput", "-v0"]
        subprocess.run(collect, env=self.env, check=True)  # noqa: S603 - our own command
        gunicorn = Path(sys.executable).with_name("gunicorn")
        with self.log.open("w") as out:
            self.process = subprocess.Popen(  # noqa: S603 - our own server
                [gunicorn, "-c", "config/gunicorn.py", "config.wsgi"],
                cwd=BASE_DIR,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        for _ in range(150):
            try:
                urllib.request.urlopen(f"{self.url}/posts/", timeout=1)  # noqa: S310
                return self
            except urllib.error.HTTPError:
                return self  # it answers, whatever it says
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not start; see {self.log}")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __exit__(self, *exc) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def measure(
    *,
    seconds: int = 10,
    connections: int = 16,
    threads: int = 2,
    log: Callable[[str], None] = print,
) -> list[Row]:
    if shutil.which("wrk") is None:
        raise RuntimeError("wrk is missing: apt-get install wrk (make throughput installs it).")
    member = _member_with_posts()
    cookie = _session_cookie(member)
    static_path = static("css/site.css")
    pages = [
        ("a static file (the ceiling)", static_path, False),
        ("/posts/", "/posts/", False),
        ("a member's page", f"/members/{member.pk}/posts/", False),
        ("/api/posts", "/api/posts", False),
        ("a member's posts (JSON)", f"/api/members/{member.pk}/posts", False),
        ("/posts/ (logged in)", "/posts/", True),
        ("/home/ (logged in)", "/home/", True),
        ("/api/me/home (logged in)", "/api/me/home", True),
    ]
    rows: list[Row] = []
    (BASE_DIR / ".cache").mkdir(exist_ok=True)
    with Server(BASE_DIR / ".cache" / "throughput-server.log") as server:
        for label, path, logged_in in pages:
            url = server.url + path
            session = cookie if logged_in else None
            wrk(url, seconds=1, connections=2, threads=1, cookie=session)  # warm-up
            rate, p50, p99, errors = wrk(
                url, seconds=seconds, connections=connections, threads=threads, cookie=session
            )
            ceiling = rows[0].requests_per_s if rows else rate
            row = Row(label, path, logged_in, rate, p50, p99, errors, rate / ceiling)
            rows.append(row)
            log(f"{label}: {rate:,.0f} requests/s")
    return rows
