"""Requests a second of the served site, page by page, beside a static file: `make throughput`.

It starts the production server (gunicorn with config/gunicorn.py, DEBUG off) on a
loopback port over the current database, runs wrk (Debian's package) against a
static file and each page, anonymous and logged in, and stops the server. The
static file, answered by WhiteNoise in the same server, is the ceiling a page can
approach; each page's figure is set beside it, measured in the same run.

Logged-in rows are members of the run's own (``throughput-N@throughput.example``,
made once and kept), each with a session of their own: every request of a row
carries the next member's cookie in turn (a wrk script), so no two requests in a
row are one member's. They all follow one author who has at least FRESH_POSTS
posts of the last day, so that their home pages are full; their pages are
checked before the run (logged in, their own nickname in the header).
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.templatetags.static import static
from django.utils import timezone

from core.testing.net import free_port
from follows import services as follows
from members import services as members
from members.models import Member
from posts.models import Post
from social import usecases

BASE_DIR = Path(settings.BASE_DIR)
MEMBER_EMAIL = "throughput-{}@throughput.example"
FRESH_POSTS = 30
# What each logged-in page must reach, as a share of the static file (and anonymous pages).
TARGETS = {"member": 0.30, "/api/me/home": 0.40, "anonymous": 0.50}


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
    target: float | None = None  # the least ratio it must reach


def _author() -> Member:
    newest = Post.objects.order_by("-id").values_list("member_id", flat=True).first()
    if newest is None:
        raise RuntimeError("No posts to measure: seed some first (make run does, or seed_posts).")
    return Member.objects.get(pk=newest)


def _fresh_posts(author: Member) -> None:
    """At least FRESH_POSTS posts by the author in the last day, written as a member would."""
    since = timezone.now() - timedelta(days=1)
    have = Post.objects.filter(member_id=author.pk, created_at__gte=since).count()
    for n in range(have, FRESH_POSTS):
        usecases.post_publish(member_id=author.pk, contents=f"A fresh post for the run ({n + 1})")


def run_members(count: int, author: Member) -> list[Member]:
    """The run's own members, made once (no welcome mail: backdated), each following ``author``."""
    found = []
    for n in range(1, count + 1):
        member = Member.objects.filter(email=MEMBER_EMAIL.format(n)).first()
        if member is None:
            member = members.member_register(
                email=MEMBER_EMAIL.format(n),
                nickname=f"run {n}",
                birthdate=date(1990, 1, 1),
                password=None,
                at=timezone.now() - timedelta(days=2),
            )
        if not follows.is_following(follower_id=member.pk, followee_id=author.pk):
            usecases.follow(follower_id=member.pk, followee_id=author.pk)
        found.append(member)
    return found


def _session_cookie(member: Member) -> str:
    """A logged-in session for ``member``, as the login page would leave it."""
    session = SessionStore()
    session[SESSION_KEY] = str(member.pk)
    session[BACKEND_SESSION_KEY] = "members.backends.MemberBackend"
    session[HASH_SESSION_KEY] = member.get_session_auth_hash()
    session.create()
    # The CSRF cookie a browser would hold: pages with forms use it, not make one.
    return (
        f"{settings.SESSION_COOKIE_NAME}={session.session_key}; csrftoken={secrets.token_hex(16)}"
    )


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]


def _cookie_script(cookies: list[str], directory: Path) -> Path:
    """A wrk script that sends the next cookie with each request (round robin per thread)."""
    quoted = ",\n".join(f'  "{c}"' for c in cookies)
    script = directory / "cookies.lua"
    script.write_text(
        f"local cookies = {{\n{quoted}\n}}\n"
        "local n = 0\n"
        "local next_thread = 0\n"
        "function setup(thread)\n"
        "  thread:set('start', next_thread)\n"
        "  next_thread = next_thread + 7\n"
        "end\n"
        "function init(args)\n"
        "  n = tonumber(start) or 0\n"
        "end\n"
        "function request()\n"
        "  n = n % #cookies + 1\n"
        '  return wrk.format(nil, nil, {["Cookie"] = cookies[n]})\n'
        "end\n"
    )
    return script


def wrk(url: str, *, seconds: int, connections: int, threads: int, script: Path | None = None):
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    if script is not None:
        command[1:1] = ["-s", str(script)]
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
            "SECRET_KEY": settings.SECRET_KEY,  # the sessions made here must verify there
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


def _check_logged_in(server: Server, path: str, cookie: str, nickname: str) -> None:
    """The page answers a member's session as that member: 200, their nickname, no login."""
    request = urllib.request.Request(server.url + path, headers={"Cookie": cookie})  # noqa: S310
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        body = response.read().decode()
        if response.status != 200 or response.url != server.url + path:
            raise RuntimeError(f"{path} did not answer the member: {response.status}")
    if path.startswith("/api/"):
        if '"posts"' not in body:
            raise RuntimeError(f"{path} answered no posts for the member")
    elif f">{nickname}</a>" not in body:
        raise RuntimeError(f"{path} did not show the member's nickname: not logged in?")


def measure(
    *,
    seconds: int = 10,
    connections: int = 16,
    threads: int = 2,
    member_count: int = 16,
    log: Callable[[str], None] = print,
) -> list[Row]:
    if shutil.which("wrk") is None:
        raise RuntimeError("wrk is missing: apt-get install wrk (make throughput installs it).")
    author = _author()
    _fresh_posts(author)
    viewers = run_members(member_count, author)
    cookies = [_session_cookie(m) for m in viewers]
    static_path = static("css/site.css")
    member_page = f"/members/{author.pk}/posts/"
    pages = [
        ("a static file (the ceiling)", static_path, False, None),
        ("/posts/", "/posts/", False, TARGETS["anonymous"]),
        ("a member's page", member_page, False, TARGETS["anonymous"]),
        ("/api/posts", "/api/posts", False, TARGETS["anonymous"]),
        ("a member's posts (JSON)", f"/api/members/{author.pk}/posts", False, None),
        ("/home/ (logged in)", "/home/", True, TARGETS["member"]),
        ("/posts/ (logged in)", "/posts/", True, TARGETS["member"]),
        ("a member's page (logged in)", member_page, True, TARGETS["member"]),
        ("/me/ (logged in)", "/me/", True, TARGETS["member"]),
        ("/api/me/home (logged in)", "/api/me/home", True, TARGETS["/api/me/home"]),
    ]
    rows: list[Row] = []
    (BASE_DIR / ".cache").mkdir(exist_ok=True)
    with (
        tempfile.TemporaryDirectory() as scratch,
        Server(BASE_DIR / ".cache" / "throughput-server.log") as server,
    ):
        script = _cookie_script(cookies, Path(scratch))
        for _, path, logged_in, _ in pages:
            if logged_in:
                _check_logged_in(server, path, cookies[0], viewers[0].nickname)
        for label, path, logged_in, target in pages:
            url = server.url + path
            members_script = script if logged_in else None
            wrk(url, seconds=1, connections=2, threads=1, script=members_script)  # warm-up
            rate, p50, p99, errors = wrk(
                url,
                seconds=seconds,
                connections=connections,
                threads=threads,
                script=members_script,
            )
            ceiling = rows[0].requests_per_s if rows else rate
            row = Row(label, path, logged_in, rate, p50, p99, errors, rate / ceiling, target)
            rows.append(row)
            log(f"{label}: {rate:,.0f} requests/s")
    return rows
