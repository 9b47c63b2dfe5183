"""Read/write routing to the replica: the rule, the pin, the fallback, the retry.

The tests of this module have a ``replica`` alias: a second connection to the
test database (what TEST MIRROR gives under REPLICA_URL), or, for a replica that
is down, a MariaDB client aimed at a closed port. Tests that read through it are
``replicated``: they commit their rows (a second connection does not see the
uncommitted rows of a test transaction, and inside any transaction the router
reads the primary anyway) and may open the replica's connection.
"""

from __future__ import annotations

import copy
import json
import logging
import os
import shutil
import subprocess
import sys
import threading
import time
from contextlib import contextmanager, suppress
from pathlib import Path

import MySQLdb
import pytest
from django.core.cache import cache
from django.core.exceptions import MiddlewareNotUsed
from django.db import OperationalError, connections, transaction
from django.http import HttpResponse
from django.template import engines
from django.template.response import TemplateResponse
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from core.testing.net import free_port
from core.web import dbrouter
from core.web.dbrouter import PRIMARY, REPLICA
from members.models import Member
from members.tests.mothers import a_member

ROUTER = "core.web.dbrouter.PrimaryReplicaRouter"
BASE_DIR = Path(__file__).resolve().parents[3]

replicated = pytest.mark.django_db(transaction=True, databases=[PRIMARY, REPLICA])


def _set_replica(settings_dict: dict) -> None:
    _drop_replica_connection()
    configured = connections.configure_settings(
        {PRIMARY: connections[PRIMARY].settings_dict, REPLICA: settings_dict}
    )
    connections.settings[REPLICA] = configured[REPLICA]


def _drop_replica_connection() -> None:
    if hasattr(connections._connections, REPLICA):
        with suppress(Exception):
            connections[REPLICA].close()
        delattr(connections._connections, REPLICA)


@pytest.fixture(scope="module", autouse=True)
def _replica_alias(django_db_setup):
    # Before any test case starts: a test case checks its databases exist.
    configured = connections.settings.get(REPLICA)  # REPLICA_URL set for the suite
    mirror = copy.deepcopy(connections[PRIMARY].settings_dict)
    mirror["TEST"] = {"MIRROR": PRIMARY}  # flushed and set up as the primary
    _set_replica(mirror)
    yield
    _drop_replica_connection()
    if configured:
        connections.settings[REPLICA] = configured
    else:
        del connections.settings[REPLICA]


@pytest.fixture
def routed(settings):
    """The router on, the replica's state forgotten before and after."""
    settings.DATABASE_ROUTERS = [ROUTER]
    dbrouter._health.forget()
    yield
    dbrouter._health.forget()


@pytest.fixture
def status(monkeypatch):
    """Stand-in for the replica's SHOW SLAVE STATUS row (SQLite has no such thing)."""
    row = {"Seconds_Behind_Master": 0, "Slave_IO_Running": "Yes", "Slave_SQL_Running": "Yes"}
    monkeypatch.setattr(dbrouter, "_slave_status", lambda: row)
    return row


@pytest.fixture
def dead_replica(routed):
    """A replica nobody answers for: a MariaDB client aimed at a closed port."""
    mirror = connections.settings[REPLICA]
    _set_replica(
        {
            "ENGINE": "django.db.backends.mysql",
            "NAME": "sns",
            "USER": "app",
            "HOST": "127.0.0.1",
            "PORT": free_port(),  # nothing listens there once the probe socket is closed
            "OPTIONS": {"connect_timeout": 1},
            "TEST": {"MIRROR": PRIMARY},
        }
    )
    yield
    _set_replica(mirror)


@pytest.fixture
def no_replica(monkeypatch):
    monkeypatch.delitem(connections.settings, REPLICA)


@contextmanager
def web_request(*, allowed: bool = True):
    token = dbrouter._request_state.set(dbrouter._RequestState(replica_allowed=allowed))
    try:
        yield dbrouter._request_state.get()
    finally:
        dbrouter._request_state.reset(token)


def reads_from(model=Member) -> str:
    return dbrouter.PrimaryReplicaRouter().db_for_read(model)


# --- the router's decisions --------------------------------------------------------------------


def test_a_safe_request_reads_the_replica_that_is_up(routed, status):
    with web_request() as state:
        assert reads_from() == REPLICA
        assert state.used_replica


def test_a_non_safe_request_reads_the_primary(routed, status):
    with web_request(allowed=False):
        assert reads_from() == PRIMARY


def test_outside_a_web_request_reads_the_primary(routed, status):
    # Management commands, Celery workers, the shell, migrations, seeds.
    assert reads_from() == PRIMARY


def test_reads_after_a_write_in_the_same_request_go_to_the_primary(routed, status):
    router = dbrouter.PrimaryReplicaRouter()
    with web_request():
        assert router.db_for_read(Member) == REPLICA
        assert router.db_for_write(Member) == PRIMARY
        assert router.db_for_read(Member) == PRIMARY


@replicated
def test_reads_inside_a_transaction_on_the_primary_go_to_the_primary(routed, status):
    with web_request():
        assert reads_from() == REPLICA
        with transaction.atomic():
            assert reads_from() == PRIMARY


def test_locking_and_write_querysets_use_the_primary(routed, status):
    with web_request():
        assert Member.objects.all().db == REPLICA
        assert Member.objects.select_for_update().db == PRIMARY


@pytest.mark.parametrize(
    ("behind", "expected"), [(5, REPLICA), (6, PRIMARY), (None, PRIMARY)], ids=str
)
def test_a_replica_behind_more_than_the_limit_gets_no_reads(
    routed, status, settings, behind, expected
):
    settings.REPLICA_MAX_LAG = 5
    status["Seconds_Behind_Master"] = behind
    with web_request():
        assert reads_from() == expected


def test_only_the_primary_is_migrated_and_relations_are_allowed():
    router = dbrouter.PrimaryReplicaRouter()
    assert router.allow_migrate(PRIMARY, "members") is True
    assert router.allow_migrate(REPLICA, "members") is False
    assert router.allow_relation(Member(), Member()) is True


# --- replica health ----------------------------------------------------------------------------


def test_the_state_is_checked_at_most_every_check_interval_by_one_thread(
    routed, monkeypatch, settings
):
    settings.REPLICA_CHECK_SECONDS = 60
    calls = []

    def slow_status():
        calls.append(1)
        time.sleep(0.05)
        return {"Seconds_Behind_Master": 0}

    monkeypatch.setattr(dbrouter, "_slave_status", slow_status)
    threads = [threading.Thread(target=dbrouter._health.current) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert dbrouter._health.current() == "up"
    assert len(calls) == 1


def test_one_warning_per_state_change_not_per_request(routed, status, settings, caplog):
    settings.REPLICA_CHECK_SECONDS = 0
    caplog.set_level(logging.INFO, logger="core.web.dbrouter")
    for behind in (0, 0, 9, 9, 9, None, 0, 0):
        status["Seconds_Behind_Master"] = behind
        dbrouter._health.current()
    dbrouter._health.mark_down("gone")
    dbrouter._health.mark_down("gone")
    changes = [(r.levelname, r.getMessage().split(":")[0]) for r in caplog.records]
    assert changes == [
        ("INFO", "replica None -> up (lag 0s)"),
        ("WARNING", "replica up -> lagging"),
        ("WARNING", "replica lagging -> up (lag 0s)"),
        ("WARNING", "replica up -> down"),
    ]


def test_replica_status_without_a_replica(no_replica):
    assert dbrouter.replica_status() == {"configured": False}


def test_replica_status_of_a_replica_that_is_up(routed, status):
    assert dbrouter.replica_status() == {"configured": True, "state": "up", "lag": 0}


@replicated
def test_replica_status_of_a_replica_that_is_down(dead_replica):
    status = dbrouter.replica_status()
    assert status["state"] == "down"
    assert "OperationalError" in status["detail"]


@replicated
@pytest.mark.mysql
def test_a_server_that_replicates_nothing_is_lagging(routed):
    # The real SHOW SLAVE STATUS on the test server, which is no replica: no row.
    assert dbrouter._slave_status() is None
    status = dbrouter.replica_status()
    assert status["state"] == "lagging"
    assert status["lag"] is None
    assert "not a replica" in status["detail"]
    with web_request():
        assert reads_from() == PRIMARY


# --- the middleware, through the test client ---------------------------------------------------


def replica_queries(client, *args, **kwargs):
    with CaptureQueriesContext(connections[REPLICA]) as replica:
        response = client.get(*args, **kwargs)
    return response, len(replica.captured_queries)


@replicated
def test_a_get_reads_the_replica(routed, status, client):
    member = a_member(nickname="mirrored")
    response, queries = replica_queries(client, f"/api/members/{member.pk}")
    assert response.status_code == 200
    assert response.json()["nickname"] == "mirrored"
    assert queries > 0


@replicated
def test_a_members_session_and_pages_read_the_replica(routed, status, client):
    member = a_member()
    client.force_login(member)
    cache.clear()  # the session's copy: without it, the session is read from the database
    with CaptureQueriesContext(connections[REPLICA]) as replica:
        response = client.get("/me/")
    assert response.status_code == 200
    tables = " ".join(q["sql"] for q in replica.captured_queries)
    assert "django_session" in tables
    # The member's row and their history are read from the primary: their copies are
    # kept in the cache for the next requests (members.services.member_for_session,
    # member_nickname_history_shown), and a replica behind would keep an old one.
    assert Member._meta.db_table not in tables
    assert "members_nicknamehistory" not in tables


@replicated
def test_a_post_reads_the_primary_and_pins_the_client(routed, status, client, settings):
    settings.SESSION_COOKIE_SECURE = True
    with CaptureQueriesContext(connections[REPLICA]) as replica:
        response = client.post("/login/", {"username": "nobody@example.com", "password": "x"})
    assert response.status_code == 200  # the form again, with its error
    assert replica.captured_queries == []
    pin = response.cookies[dbrouter.PIN_COOKIE]
    assert float(pin.value) > time.time()
    assert pin["max-age"] == settings.REPLICA_PIN_SECONDS
    assert pin["httponly"]
    assert pin["samesite"] == "Lax"
    assert pin["secure"]


@replicated
def test_a_pinned_client_reads_the_primary_until_the_pin_expires(routed, status, client):
    member = a_member()
    client.cookies[dbrouter.PIN_COOKIE] = str(time.time() + 60)
    response, queries = replica_queries(client, f"/api/members/{member.pk}")
    assert response.status_code == 200
    assert dbrouter.PIN_COOKIE not in response.cookies  # a GET does not renew it
    assert queries == 0
    client.cookies[dbrouter.PIN_COOKIE] = str(time.time() - 1)
    _, queries = replica_queries(client, f"/api/members/{member.pk}")
    assert queries > 0


@replicated
def test_a_page_the_page_cache_may_keep_is_rendered_from_the_primary(
    routed, status, client, settings
):
    settings.PAGE_CACHE = True
    member = a_member()
    response, queries = replica_queries(client, f"/api/members/{member.pk}")
    assert response.status_code == 200
    assert response["X-Page-Cache"] == "miss"
    assert queries == 0


@replicated
def test_a_members_page_that_may_be_kept_is_rendered_from_the_primary(
    routed, status, client, settings
):
    """A home rendered from a replica a moment behind would be kept under its feed's new
    stamp; a page with a query is never kept, and may read the replica."""
    settings.PAGE_CACHE = True
    client.force_login(a_member())  # no writer window, no pin: as a while after the login
    client.cookies[settings.CSRF_COOKIE_NAME] = "c" * 32
    kept, kept_queries = replica_queries(client, "/home/")
    paged, paged_queries = replica_queries(client, "/home/?size=20")
    assert kept.status_code == paged.status_code == 200
    assert kept["X-Page-Cache"] == "miss"
    assert kept_queries == 0
    assert paged_queries > 0


def pin_after(method: str, status_code: int) -> bool:
    request = getattr(RequestFactory(), method)("/")
    middleware = dbrouter.ReplicaMiddleware(lambda request: HttpResponse(status=status_code))
    return dbrouter.PIN_COOKIE in middleware(request).cookies


@pytest.mark.parametrize(
    ("method", "status_code", "pinned"),
    [("post", 200, True), ("post", 302, True), ("post", 400, True), ("delete", 204, True),
     ("post", 500, False), ("post", 503, False), ("get", 200, False), ("head", 200, False)],
)  # fmt: skip
def test_the_pin_is_set_after_a_non_safe_request_below_500(routed, method, status_code, pinned):
    assert pin_after(method, status_code) is pinned


def test_without_a_replica_the_middleware_is_not_used(no_replica):
    with pytest.raises(MiddlewareNotUsed):
        dbrouter.ReplicaMiddleware(lambda request: HttpResponse())
    with pytest.raises(MiddlewareNotUsed):
        dbrouter.ReplicaRetryMiddleware(lambda request: HttpResponse())


# --- the replica fails -------------------------------------------------------------------------


@replicated
def test_a_replica_that_is_down_leaves_the_page_to_the_primary(dead_replica, client):
    member = a_member(nickname="primary")
    response = client.get(f"/api/members/{member.pk}")
    assert response.status_code == 200
    assert response.json()["nickname"] == "primary"
    assert dbrouter._health.state == "down"


@replicated
def test_a_replica_that_dies_after_the_check_costs_one_retry_on_the_primary(
    dead_replica, status, client, caplog
):
    # The check (stubbed) says up; the real connection then finds the port closed.
    member = a_member(nickname="retried")
    with caplog.at_level(logging.WARNING, logger="core.web.dbrouter"):
        response = client.get(f"/api/members/{member.pk}")
    assert response.status_code == 200
    assert response.json()["nickname"] == "retried"
    assert dbrouter._health.state == "down"
    assert [r.getMessage().split(":")[0] for r in caplog.records] == ["replica up -> down"]


class FlakyView:
    """A view whose first ``failures`` calls fail as a lost replica would."""

    def __init__(self, failures: int, *, template: bool = False):
        self.failures = failures
        self.template = template
        self.calls = 0

    def query(self) -> str:
        self.calls += 1
        state = dbrouter._request_state.get()
        state.used_replica = state.replica_allowed
        if self.calls <= self.failures:
            raise OperationalError(2013, "Lost connection to server during query")
        return "primary" if not state.replica_allowed else "replica"

    def __call__(self, request):
        if self.template:
            template = engines["django"].from_string("{{ query }}")
            return TemplateResponse(request, template, {"query": self.query})
        return HttpResponse(self.query())


def retried(view: FlakyView) -> HttpResponse:
    request = RequestFactory().get("/api/x")
    middleware = dbrouter.ReplicaRetryMiddleware(lambda request: HttpResponse())
    with web_request():
        return middleware.process_view(request, view, (), {})


@pytest.mark.parametrize("template", [False, True], ids=["response", "template_response"])
def test_a_view_that_failed_on_the_replica_runs_again_on_the_primary(routed, status, template):
    view = FlakyView(failures=1, template=template)
    response = retried(view)
    assert response.status_code == 200
    assert response.content.decode() == "primary"
    assert view.calls == 2
    assert dbrouter._health.state == "down"


def test_a_second_failure_is_the_usual_503(routed, status):
    view = FlakyView(failures=2)
    response = retried(view)
    assert response.status_code == 503
    assert "error" in json.loads(response.content)
    assert response["Retry-After"] == "10"
    assert view.calls == 2


def test_a_failure_that_did_not_touch_the_replica_is_not_retried(routed, status):
    assert dbrouter._health.current() == "up"

    def view(request):
        raise OperationalError(2006, "MySQL server has gone away")

    response = retried(view)
    assert response.status_code == 503
    assert dbrouter._health.state == "up"


# --- settings ----------------------------------------------------------------------------------


def settings_of(**env: str) -> subprocess.CompletedProcess:
    code = (
        "import config.settings as s; r = s.DATABASES.get('replica');"
        "print(getattr(s, 'DATABASE_ROUTERS', []), r and r['OPTIONS'].get('connect_timeout'),"
        " r and r['TEST'], r and r['OPTIONS'].get('charset'))"
    )
    base = {"PATH": "/usr/bin:/bin", "DEBUG": "true", "SECRET_KEY": "x"}
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=BASE_DIR,
        env={**base, **env},
        capture_output=True,
        text=True,
        check=False,
    )


def test_settings_without_replica_url_add_nothing():
    result = settings_of(DATABASE_URL="mysql://app@127.0.0.1:3310/sns")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["[]", "None", "None", "None"]


def test_settings_with_replica_url_add_the_alias_and_the_router():
    result = settings_of(
        DATABASE_URL="mysql://app@127.0.0.1:3310/sns", REPLICA_URL="mysql://app@127.0.0.1:3311/sns"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        "['core.web.dbrouter.PrimaryReplicaRouter'] 1 {'MIRROR': 'default'} utf8mb4"
    )


def test_a_replica_of_another_kind_is_refused():
    result = settings_of(DATABASE_URL="sqlite:///:memory:", REPLICA_URL="mysql://app@127.0.0.1/x")
    assert result.returncode != 0
    assert "REPLICA_URL" in result.stderr


# --- a real primary and replica ----------------------------------------------------------------


def _binary(name: str) -> str:
    found = shutil.which(name, path=f"{os.environ.get('PATH', '')}:/usr/sbin:/usr/bin")
    assert found, f"{name} is not installed (the MariaDB server package has it)"
    return found


def _mariadb(datadir: Path, port: int, server_id: int) -> subprocess.Popen:
    subprocess.run(
        [_binary("mariadb-install-db"), "--no-defaults", f"--datadir={datadir}", "--user=root",
         "--auth-root-authentication-method=normal", "--skip-test-db"],
        check=True, capture_output=True,
    )  # fmt: skip
    server = subprocess.Popen(
        [_binary("mariadbd"), "--no-defaults", "--user=root", f"--datadir={datadir}",
         f"--port={port}", "--bind-address=127.0.0.1", f"--socket={datadir}.sock",
         f"--server-id={server_id}", "--log-bin=bin", "--innodb-buffer-pool-size=16M",
         "--skip-name-resolve"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    for _ in range(100):
        with suppress(MySQLdb.OperationalError):
            MySQLdb.connect(host="127.0.0.1", port=port, user="root").close()
            return server
        time.sleep(0.1)
    server.kill()
    raise RuntimeError(f"mariadbd on port {port} did not start")


def _sql(port: int, *statements: str) -> None:
    db = MySQLdb.connect(host="127.0.0.1", port=port, user="root")
    try:
        for statement in statements:
            db.cursor().execute(statement)
    finally:
        db.close()


@pytest.fixture(scope="module")
def real_replica(tmp_path_factory):
    """A throwaway MariaDB primary and GTID replica of it, as `make cluster` runs them."""
    root = tmp_path_factory.mktemp("mariadb")
    primary_port, replica_port = free_port(), free_port()
    primary = _mariadb(root / "primary", primary_port, 1)
    replica = _mariadb(root / "replica", replica_port, 2)
    try:
        _sql(
            primary_port,
            "CREATE USER repl@'%' IDENTIFIED BY 'repl'",
            "GRANT REPLICATION SLAVE ON *.* TO repl@'%'",
        )
        _sql(
            replica_port,
            f"CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT={primary_port}, "
            "MASTER_USER='repl', MASTER_PASSWORD='repl', MASTER_USE_GTID=slave_pos",
            "START SLAVE",
        )
        yield primary_port, replica_port, replica
    finally:
        for server in (replica, primary):
            server.kill()
            server.wait()


def _wait_for(state: str) -> dict:
    for _ in range(50):
        dbrouter._health.forget()
        status = dbrouter.replica_status()
        if status["state"] == state:
            return status
        time.sleep(0.1)
    return status


@replicated
@pytest.mark.mysql
def test_a_real_replica_up_stopped_and_killed(real_replica, routed, settings):
    _, replica_port, replica_server = real_replica
    mirror = connections.settings[REPLICA]
    _set_replica(
        {
            "ENGINE": "django.db.backends.mysql",
            "NAME": "mysql",
            "USER": "root",
            "HOST": "127.0.0.1",
            "PORT": replica_port,
            "OPTIONS": {"connect_timeout": 1},
            "TEST": {"MIRROR": PRIMARY},
        }
    )
    try:
        up = _wait_for("up")
        # Seconds_Behind_Master reads 1 for a moment while the replica applies the primary's
        # first events on a busy machine; "up" means within REPLICA_MAX_LAG, not exactly zero.
        assert up["configured"] is True
        assert up["state"] == "up"
        assert isinstance(up["lag"], int)
        assert 0 <= up["lag"] <= settings.REPLICA_MAX_LAG
        _sql(replica_port, "STOP SLAVE SQL_THREAD")
        stopped = _wait_for("lagging")
        assert stopped["lag"] is None
        assert "SQL thread No" in stopped["detail"]
        _sql(replica_port, "START SLAVE SQL_THREAD")
        assert _wait_for("up")["state"] == "up"
        replica_server.kill()
        replica_server.wait()
        assert _wait_for("down")["state"] == "down"
    finally:
        _set_replica(mirror)
