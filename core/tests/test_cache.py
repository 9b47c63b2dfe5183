"""The shared cache can die: a Redis killed, stopped, restarted empty or never there
leaves the site working and members logged in. The local tier. CACHE_URL's mapping."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from django.core.cache import cache
from django.test import Client, override_settings

from core import cache as shared
from core.cache import STAMP_PREFIX, cache_from_url, local_forget, local_get_or_set
from core.testing.net import free_port
from core.web.pagecache import TIMELINE
from feeds import services as feeds
from members.tests.mothers import PASSWORD, a_member
from posts.models import Post
from social import usecases

pytestmark = pytest.mark.django_db(transaction=True)  # writes commit, as in production

SESSION_PREFIX = "django.contrib.sessions.cached_db"


class RedisServer:
    """A throwaway redis-server, without persistence like the cluster's, to kill and stop."""

    def __init__(self) -> None:
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
            + ["--save", "", "--appendonly", "no", "--daemonize", "no"],
            stdout=subprocess.DEVNULL,
        )
        probe = redis.Redis(port=self.port, socket_timeout=1)
        for _ in range(100):
            try:
                probe.ping()
                return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError(f"redis-server did not start on {self.port}")

    def kill(self) -> None:
        self.process.kill()
        self.process.wait()

    def stop(self) -> None:
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        self.process.send_signal(signal.SIGCONT)

    def raw(self) -> redis.Redis:
        """A plain client, to see what the server holds."""
        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=1)

    def holds(self, key: str) -> bool:
        return bool(self.raw().exists(f":1:{key}"))  # django-redis's key: prefix, version, key


def session_key(client: Client) -> str:
    return SESSION_PREFIX + client.cookies["sessionid"].value


@pytest.fixture(autouse=True)
def fresh_state(monkeypatch):
    # No outage and no local value carried over from another test.
    monkeypatch.setattr(shared, "_down_until", {})
    monkeypatch.setattr(shared, "_local", {})


@pytest.fixture
def server():
    server = RedisServer()
    server.start()
    yield server
    server.resume()  # a stopped process ignores SIGKILL's cleanup until resumed
    server.kill()


def site_cache(port: int):
    """The default cache as CACHE_URL=redis://127.0.0.1:<port>/0 configures it, page cache on."""
    return override_settings(
        CACHES={"default": cache_from_url(f"redis://127.0.0.1:{port}/0")}, PAGE_CACHE=True
    )


@pytest.fixture
def on_server(server):
    with site_cache(server.port):
        yield server


@pytest.fixture
def author():
    author = a_member(nickname="writer")
    usecases.post_publish(member_id=author.pk, contents="first post")
    return author


def logged_in(member) -> Client:
    client = Client()
    response = client.post("/login/", {"username": member.email, "password": PASSWORD})
    assert response.status_code == 302, response.content
    return client


def is_logged_in(client: Client) -> bool:
    response = client.get("/home/")
    assert response.status_code in (200, 302)
    return response.status_code == 200 and "Log out" in response.text


def assert_the_site_works_without_the_cache(member_client: Client, author) -> None:
    page = Client().get("/posts/")
    assert page.status_code == 200
    assert page.headers.get("X-Page-Cache") == "miss"  # rendered
    assert "first post" in page.text

    assert is_logged_in(member_client)  # the session from the database; home reads pull_authors

    newcomer = logged_in(a_member())
    assert is_logged_in(newcomer)

    usecases.post_publish(member_id=author.pk, contents="written while the cache is down")
    assert "written while the cache is down" in Client().get("/posts/").text

    assert member_client.post("/logout/").status_code == 302
    assert not is_logged_in(member_client)


def test_redis_killed_mid_test(on_server, author, caplog):
    member = logged_in(a_member())
    assert is_logged_in(member)
    assert on_server.holds(session_key(member))
    Client().get("/posts/")
    assert Client().get("/posts/").headers.get("X-Page-Cache") == "hit"

    on_server.kill()

    assert_the_site_works_without_the_cache(member, author)
    outage = [r for r in caplog.records if r.name == "core.cache"]
    assert len(outage) == 1  # this process's first failure; the rest are quiet
    assert not any(r.exc_info for r in caplog.records)


def test_redis_on_a_closed_port(author):
    with site_cache(free_port()):  # nothing listens there
        assert_the_site_works_without_the_cache(logged_in(a_member()), author)


def test_sessions_survive_redis_restarted_empty(on_server, monkeypatch, caplog):
    monkeypatch.setattr(shared, "RETRY_SECONDS", 0)  # try Redis again at the next call
    member = logged_in(a_member())
    assert on_server.holds(session_key(member))

    on_server.kill()
    assert is_logged_in(member)
    on_server.start()
    assert on_server.raw().dbsize() == 0

    assert is_logged_in(member)
    assert on_server.holds(session_key(member))  # read from the database, cached again
    down, up = [r.getMessage() for r in caplog.records if r.name == "core.cache"]
    assert "unreachable (ConnectionError" in down
    assert up.endswith("answers again")


def test_a_stopped_redis_costs_one_timeout_per_retry_period_logged_once(
    on_server, author, monkeypatch, caplog
):
    monkeypatch.setattr(shared, "RETRY_SECONDS", 600)  # no second try within the test
    member = logged_in(a_member())
    reached = []
    execute = redis.Redis.execute_command

    def counted(self, *args, **options):
        reached.append(args[0])
        return execute(self, *args, **options)

    monkeypatch.setattr(redis.Redis, "execute_command", counted)
    on_server.stop()

    for _ in range(3):
        assert Client().get("/posts/").status_code == 200
        assert is_logged_in(member)

    assert len(reached) == 1  # the call that timed out; every later one skipped Redis
    outage = [r for r in caplog.records if r.name == "core.cache"]
    assert len(outage) == 1
    assert "unreachable (TimeoutError" in outage[0].getMessage()
    assert not any(r.exc_info for r in caplog.records)


def test_a_logout_during_a_blip_does_not_outlive_the_session_cache_cap(
    on_server, monkeypatch, settings
):
    monkeypatch.setattr(shared, "RETRY_SECONDS", 600)
    settings.SESSION_CACHE_SECONDS = 3
    member = logged_in(a_member())
    stolen = Client()  # the same cookie, kept elsewhere
    stolen.cookies["sessionid"] = member.cookies["sessionid"].value
    key = session_key(member)

    on_server.stop()
    assert member.post("/logout/").status_code == 302  # the cache's delete is skipped
    assert not is_logged_in(member)
    on_server.resume()

    # Redis answers again with the logged-out session's copy; another app server,
    # which saw no outage, reads it: the session is back, for the cap at most.
    assert on_server.holds(key)
    assert 0 < on_server.raw().ttl(f":1:{key}") <= 3
    shared._down_until.clear()
    assert is_logged_in(stolen)
    time.sleep(3.1)
    assert not is_logged_in(stolen)


# --- the local tier ----------------------------------------------------------------------


class Reads:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> str:
        self.count += 1
        return f"value {self.count}"


def test_local_tier_off_reads_every_time(settings):
    settings.LOCAL_CACHE_SECONDS = 0
    read = Reads()
    assert [local_get_or_set("k", read) for _ in range(3)] == ["value 1", "value 2", "value 3"]


def test_local_tier_keeps_a_value_for_its_seconds_then_reads_again(settings):
    settings.LOCAL_CACHE_SECONDS = 0.2
    read = Reads()
    assert local_get_or_set("k", read) == local_get_or_set("k", read) == "value 1"
    time.sleep(0.25)
    assert local_get_or_set("k", read) == "value 2"
    local_forget("k")
    assert local_get_or_set("k", read) == "value 3"


@pytest.mark.parametrize("seconds", [0, 60])
def test_a_stamp_changed_by_another_process_shows_at_once_whatever_the_local_tier(
    on_server, author, settings, seconds
):
    # Stamps are read with the page, in one read of Redis: never kept locally.
    settings.LOCAL_CACHE_SECONDS = seconds
    Client().get("/posts/")
    assert Client().get("/posts/").headers.get("X-Page-Cache") == "hit"
    cache.set(STAMP_PREFIX + TIMELINE, "set by another process", None)

    assert Client().get("/posts/").headers.get("X-Page-Cache") == "miss"


def test_a_write_in_this_process_shows_at_once_with_the_tier_on(on_server, author, settings):
    settings.LOCAL_CACHE_SECONDS = 60
    Client().get("/posts/")
    assert Client().get("/posts/").headers.get("X-Page-Cache") == "hit"

    usecases.post_publish(member_id=author.pk, contents="second post")

    assert "second post" in Client().get("/posts/").text


@pytest.mark.parametrize("seconds", [0, 60])
def test_pull_authors_are_kept_locally_only_with_the_tier_on(
    on_server, settings, monkeypatch, seconds
):
    settings.LOCAL_CACHE_SECONDS = seconds
    counted = []
    monkeypatch.setattr(feeds, "pull_authors_now", lambda: counted.append(1) or {7})
    assert feeds.pull_authors() == {7}
    cache.delete(feeds.PULL_AUTHORS_KEY)  # gone from Redis

    assert feeds.pull_authors() == {7}
    assert len(counted) == (1 if seconds else 2)

    feeds.pull_authors_forget()
    feeds.pull_authors()
    assert len(counted) == (2 if seconds else 3)


# --- configuration ----------------------------------------------------------------------------


def test_redis_urls_are_django_redis_with_failures_as_short_misses():
    config = cache_from_url("redis://127.0.0.1:6380/0")
    assert config["BACKEND"] == "django_redis.cache.RedisCache"
    assert config["LOCATION"] == "redis://127.0.0.1:6380/0"
    assert config["OPTIONS"]["IGNORE_EXCEPTIONS"] is True
    assert config["OPTIONS"]["SOCKET_CONNECT_TIMEOUT"] == 0.25
    assert config["OPTIONS"]["SOCKET_TIMEOUT"] == 0.25
    assert config["OPTIONS"]["REDIS_CLIENT_CLASS"] == "core.cache.Redis"
    tuned = cache_from_url("redis://127.0.0.1:6380/0?socket_timeout=1")
    assert tuned["OPTIONS"]["SOCKET_TIMEOUT"] == 1


@pytest.mark.parametrize(
    ("url", "backend"),
    [
        ("locmemcache://", "django.core.cache.backends.locmem.LocMemCache"),
        ("filecache:///tmp/sns-cache", "django.core.cache.backends.filebased.FileBasedCache"),
    ],
)
def test_other_caches_keep_their_bound(url, backend):
    config = cache_from_url(url)
    assert config["BACKEND"] == backend
    assert config["OPTIONS"]["MAX_ENTRIES"] == 10_000


def test_cache_url_in_the_environment_reaches_the_settings():
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import config.settings as s; "
            "print(s.CACHES['default']['BACKEND'], s.SESSION_ENGINE, s.LOCAL_CACHE_SECONDS)",
        ],
        cwd=Path(__file__).resolve().parents[2],
        env={**env, "DEBUG": "true", "CACHE_URL": "redis://127.0.0.1:6380/0"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django_redis.cache.RedisCache", "core.web.sessions", "0.0"]


# --- memos, stamps, the writer's window ---------------------------------------------------------


def test_a_memo_keeps_each_value_its_seconds_and_at_most_its_size():
    seconds = [60.0]
    memo = shared.LocalMemo(size=2, seconds=lambda: seconds[0])
    reads = []

    def read(keys):
        reads.append(sorted(keys))
        return {k: f"value {k}" for k in keys if k != "gone"}

    assert memo.get_many(["a", "b"], read) == {"a": "value a", "b": "value b"}
    assert memo.get_many(["a", "b", "gone"], read) == {"a": "value a", "b": "value b"}
    assert reads == [["a", "b"], ["gone"]]  # what was not found is asked again, not kept
    memo.get_many(["c"], read)  # one over the size: the least recently used goes
    memo.get_many(["a", "b"], read)
    assert reads[-1] == ["a"]
    seconds[0] = 0
    memo.forget(["b", "c"])
    memo.get_many(["c"], read)
    memo.get_many(["c"], read)  # kept for 0 s: read every time
    assert reads[-2:] == [["c"], ["c"]]


def test_a_stamped_value_is_kept_until_a_stamp_of_its_scopes_changes():
    reads = []

    def read():
        reads.append(1)
        return len(reads)

    get = lambda: shared.stamped_get_or_set("k", ["s1", "s2"], read, timeout=60)  # noqa: E731
    assert get() == get() == 1
    shared.stamps_bump(["other"])
    assert get() == 1
    shared.stamps_bump(["s2"])
    assert get() == get() == 2
    cache.delete(STAMP_PREFIX + "s1")  # a stamp evicted: stale, never wrong
    assert get() == 3


def test_a_writer_reads_fresh_for_the_window_and_while_the_cache_fails(monkeypatch):
    assert not shared.reads_fresh(7)
    shared.writer_mark(7)
    assert shared.reads_fresh(7)
    assert not shared.reads_fresh(8)
    cache.delete(shared.writer_key(7))
    assert not shared.reads_fresh(7)
    monkeypatch.setattr(shared, "_down_until", {"redis:6379": time.monotonic() + 60})
    assert shared.reads_fresh(8)  # its mark could not be read


def test_a_member_whose_redis_was_killed_still_sees_their_writes(on_server, author):
    client = logged_in(a_member(nickname="reader"))
    client.post(f"/members/{author.pk}/follow/")
    for path in ("/home/", "/posts/", f"/members/{author.pk}/posts/", "/me/"):
        assert client.get(path).status_code == 200
    on_server.kill()

    client.post("/posts/new/", {"contents": "written without redis"})
    post_id = Post.objects.get(contents="first post").pk
    client.post(f"/posts/{post_id}/like/")
    client.post("/me/nickname/", {"nickname": "renamed"})

    for path in ("/home/", "/posts/", f"/members/{author.pk}/posts/"):
        page = client.get(path).text
        assert f'action="/posts/{post_id}/unlike/"' in page, path
        assert ">renamed</a>" in page
    assert "written without redis" in client.get("/home/").text
    assert "<td>renamed</td>" in client.get("/me/").text
    assert "written without redis" in Client().get("/posts/").text
