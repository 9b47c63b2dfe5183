"""The cluster on one machine: `make cluster`, `cluster-status`, `cluster-stop`, `cluster-pid`.

    python deploy/cluster.py up | status | stop | pid ROLE

Every part of the scaled-out site runs as a program of supervisord (Debian's
``supervisor``), which restarts a part that dies and stops them all; Prometheus
scrapes every part and evaluates the alert rules (deploy/alerts.yml):

    nginx 8080 -> app-1..app-N (gunicorn 8101..) -> primary 3310 (MariaDB)
                                                  -> replica 3311 (its GTID replica)
                                                  -> redis 6380 (the shared cache)
                                                  -> broker 5673 (RabbitMQ) -> worker-1..M
    worker-1..M (Celery) -> primary, smtp 2525 (the mail provider's stand-in)
    prometheus 9090 -> the app servers, primary-exporter 9204, replica-exporter 9205,
                       redis-exporter 9221, nginx-exporter 9213, the broker's own 15693

What is left here is what supervisord cannot do: write the programs' configuration
and the environment file, create MariaDB's data directories on the first start and
attach the replica, start the parts in order (each once the one before answers), and
read the parts' state for ``status``. ``up`` starts only what is down.
``.cluster/env`` holds the environment of the site's processes, so
``set -a; . .cluster/env; set +a; .venv/bin/python manage.py ...`` runs any command
against the cluster. Standard library only: it runs before anything is installed
and never imports Django.

Settings (environment): CLUSTER_APPS (3), CLUSTER_WORKERS (2), CLUSTER_DIR (.cluster),
CLUSTER_PORT_OFFSET (0; added to every port, for a second cluster beside the first),
CLUSTER_HOSTS (``local``: everything on 127.0.0.1; ``spread``: each tier on a loopback
address of its own, 127.0.2.x, as if on machines of its own).
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
import xmlrpc.client
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"
STATE = Path(os.environ.get("CLUSTER_DIR", ROOT / ".cluster")).resolve()
RUN, LOG, DATA = STATE / "run", STATE / "log", STATE / "data"
ENV_FILE = STATE / "env"
SUPERVISOR_CONF = STATE / "supervisord.conf"
SUPERVISOR_SOCKET = RUN / "supervisor.sock"


def _setting(name: str, default: int, least: int) -> int:
    value = os.environ.get(name, str(default))
    if not value.isdigit() or int(value) < least:
        raise SystemExit(f"{name} must be a whole number of at least {least}, not {value!r}")
    return int(value)


OFFSET = _setting("CLUSTER_PORT_OFFSET", 0, 0)
APPS = _setting("CLUSTER_APPS", 3, 1)
WORKERS = _setting("CLUSTER_WORKERS", 2, 1)


def _hosts_mode() -> str:
    """CLUSTER_HOSTS, else what the running cluster was started with, else ``local``."""
    mode = os.environ.get("CLUSTER_HOSTS", "")
    if not mode and ENV_FILE.exists() and SUPERVISOR_SOCKET.exists():
        for line in ENV_FILE.read_text().splitlines():
            if line.startswith("CLUSTER_HOSTS="):
                mode = line.split("=", 1)[1]
    mode = mode or "local"
    if mode not in ("local", "spread"):
        raise SystemExit(f"CLUSTER_HOSTS must be local or spread, not {mode!r}")
    return mode


HOSTS_MODE = _hosts_mode()
# The address of each tier. Spread, each has one of its own (on many machines these
# are the machines' addresses); the exporters run beside what they watch.
TIER_HOSTS = {
    "nginx": "127.0.2.1",
    "app": "127.0.2.2",
    "primary": "127.0.2.3",
    "replica": "127.0.2.4",
    "redis": "127.0.2.5",
    "broker": "127.0.2.6",
    "smtp": "127.0.2.7",
    "prometheus": "127.0.2.8",
}
# Where the exporters run: beside the part each watches.
EXPORTS = {
    "primary-exporter": "primary",
    "replica-exporter": "replica",
    "redis-exporter": "redis",
    "nginx-exporter": "nginx",
}

PORTS = {
    "nginx": 8080,
    "nginx-status": 8081,  # stub_status, for its exporter only
    "primary": 3310,
    "replica": 3311,
    "redis": 6380,
    "broker": 5673,
    "broker-metrics": 15693,  # RabbitMQ's own Prometheus endpoint
    "smtp": 2525,
    "prometheus": 9090,
    "primary-exporter": 9204,  # off the exporters' defaults, which the machine may run
    "replica-exporter": 9205,
    "redis-exporter": 9221,
    "nginx-exporter": 9213,
}
PORTS = {role: port + OFFSET for role, port in PORTS.items()}
APP_PORT = 8101 + OFFSET
# The stand-in provider refuses more than this many messages a second. All workers
# together send at most 80 % of it (MAIL_PROVIDER_RATE, paced in Redis at the moment
# of sending); each starts at most its share (MAIL_RATE: Celery's limit is per worker).
SMTP_MAX_PER_SECOND = 5
MAIL_PROVIDER_RATE = SMTP_MAX_PER_SECOND * 0.8
MAIL_RATE = max(1, int(MAIL_PROVIDER_RATE) // max(WORKERS, 1))
# Reads fall back to the primary when the replica is further behind than this.
REPLICA_MAX_LAG = 5


def host_of(role: str) -> str:
    """The address ``role`` listens on (and is reached at)."""
    if HOSTS_MODE == "local":
        return "127.0.0.1"
    tier = EXPORTS.get(role, role)
    if tier.startswith("app-"):
        tier = "app"
    return TIER_HOSTS.get(tier.removesuffix("-status").removesuffix("-metrics"), "127.0.0.1")


def app_roles() -> list[str]:
    return [f"app-{i}" for i in range(1, APPS + 1)]


def worker_roles() -> list[str]:
    return [f"worker-{i}" for i in range(1, WORKERS + 1)]


def app_port(role: str) -> int:
    return APP_PORT + int(role.split("-")[1]) - 1


def port_of(role: str) -> int | None:
    if role.startswith("app-"):
        return app_port(role)
    return PORTS.get(role)


def url_of(role: str) -> str:
    return f"http://{host_of(role)}:{port_of(role)}"


def roles() -> list[str]:
    """Every part, in the order they start (and the reverse of the order they stop)."""
    return [
        "primary",
        "replica",
        "redis",
        "broker",
        "smtp",
        *app_roles(),
        *worker_roles(),
        "nginx",
        *EXPORTS,
        "prometheus",
    ]


def log_file(role: str) -> Path:
    return LOG / f"{role}.log"


# --- supervisord ------------------------------------------------------------------


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: Path, timeout: float):
        super().__init__("localhost", timeout=timeout)
        self._socket_path = str(path)

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self._socket_path)


class _UnixTransport(xmlrpc.client.Transport):
    def __init__(self, path: Path):
        super().__init__()
        self._path = path

    def make_connection(self, host):
        return _UnixConnection(self._path, timeout=60)


def supervisor():
    """supervisord's XML-RPC interface (``supervisor.getAllProcessInfo()``, ...)."""
    proxy = xmlrpc.client.ServerProxy(
        "http://localhost", transport=_UnixTransport(SUPERVISOR_SOCKET)
    )
    return proxy.supervisor


def supervisor_running() -> bool:
    try:
        return supervisor().getState()["statename"] == "RUNNING"
    except (OSError, xmlrpc.client.Error):
        return False


def program(role: str) -> str:
    """The role's name in supervisord: the app servers and the workers are groups."""
    if role.startswith("app-"):
        return f"apps:{role}"
    if role.startswith("worker-"):
        return f"workers:{role}"
    return f"{role}:{role}"


def processes() -> dict[str, dict]:
    """supervisord's view of every program, by role ({} when it is not running)."""
    try:
        infos = supervisor().getAllProcessInfo()
    except (OSError, xmlrpc.client.Error):
        return {}
    return {info["name"]: info for info in infos}


def state_of(role: str) -> str:
    """RUNNING, STARTING, BACKOFF, STOPPED, EXITED, FATAL, ... or ABSENT."""
    return processes().get(role, {}).get("statename", "ABSENT")


def pid_of(role: str) -> int | None:
    pid = processes().get(role, {}).get("pid", 0)
    return pid or None


def running(role: str) -> bool:
    return state_of(role) == "RUNNING"


def signal_role(role: str, sig: int) -> bool:
    """Send ``sig`` to the role's whole process group (supervisord starts each program
    in a group of its own); False if it was not running."""
    pid = pid_of(role)
    if not pid:
        return False
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        return False
    return True


def kill_role(role: str) -> int | None:
    """What a crash looks like: SIGKILL to every process of the role, no clean-up.
    Returns the pid it killed; supervisord starts the role again by itself."""
    pid = pid_of(role)
    signal_role(role, signal.SIGKILL)
    return pid


def answers(role: str, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host_of(role), port_of(role)), timeout=timeout):
            return True
    except OSError:
        return False


def http_ok(url: str, timeout: float = 2) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status == 200
    except OSError:
        return False


def wait_for(what: str, check, timeout: float = 60, role: str | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        if role and state_of(role) in ("FATAL", "EXITED", "STOPPED", "ABSENT"):
            break
        time.sleep(0.2)
    hint = f"; see {log_file(role)}" if role else ""
    raise SystemExit(f"{what} did not come up{hint}")


# --- the environment of the site's processes ---------------------------------------

# Made from the addresses each time (they change with CLUSTER_HOSTS); the rest of the
# file (secrets, settings) is written once and kept.
ADDRESSES = (
    "CLUSTER_HOSTS",
    "ALLOWED_HOSTS",
    "DATABASE_URL",
    "REPLICA_URL",
    "CACHE_URL",
    "CELERY_BROKER_URL",
    "EMAIL_URL",
)


def environment() -> dict[str, str]:
    """``.cluster/env`` as a dict. Secrets are made once; a setting added to the
    defaults since the file was written is added to it."""
    values = {}
    if ENV_FILE.exists():
        for line in ENV_FILE.read_text().splitlines():
            if "=" in line and not line.startswith("#"):
                key, value = line.split("=", 1)
                values[key] = value
    password = values.get("DB_PASSWORD") or secrets.token_hex(16)
    db = f"mysql://sns:{password}@"
    addresses = {
        "CLUSTER_HOSTS": HOSTS_MODE,
        # nginx's address (the site's) and the app servers' (Prometheus and make load
        # reach them directly).
        "ALLOWED_HOSTS": ",".join(
            dict.fromkeys(["127.0.0.1", "localhost", host_of("nginx"), host_of("app-1")])
        ),
        "DATABASE_URL": f"{db}{host_of('primary')}:{PORTS['primary']}/sns",
        "REPLICA_URL": f"{db}{host_of('replica')}:{PORTS['replica']}/sns",
        "CACHE_URL": f"redis://{host_of('redis')}:{PORTS['redis']}/0",
        "CELERY_BROKER_URL": f"amqp://guest:guest@{host_of('broker')}:{PORTS['broker']}//",
        "EMAIL_URL": f"smtp://{host_of('smtp')}:{PORTS['smtp']}",
    }
    defaults = {
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "HTTPS": "0",
        "CLIENT_IP_HEADER": "X-Real-IP",
        # The drill and the load test write from one address at machine speed.
        "RATE_LIMITS": "0",
        "DB_PASSWORD": password,
        "REPLICA_MAX_LAG": str(REPLICA_MAX_LAG),
        "REPLICATION_PASSWORD": secrets.token_hex(16),
        "EXPORTER_PASSWORD": secrets.token_hex(16),
        "CONN_MAX_AGE": "60",
        "LOCAL_CACHE_SECONDS": "1",
        # A worker writes some 40 000 feed rows a second: audiences up to this size
        # are pushed (the default, 10 000, suits the single process of make run).
        "FEED_FANOUT_LIMIT": "50000",
        "MAIL_RATE_LIMIT": f"{MAIL_RATE}/s",
        "MAIL_PROVIDER_RATE": f"{MAIL_PROVIDER_RATE:g}",
        "WEB_CONCURRENCY": "2",
        "THREADS": "8",
    }
    wanted = {**{k: v for k, v in defaults.items() if k not in values}, **addresses}
    if any(values.get(key) != value for key, value in wanted.items()):
        values.update(wanted)
        STATE.mkdir(parents=True, exist_ok=True)
        ENV_FILE.write_text("".join(f"{k}={v}\n" for k, v in values.items()))
        ENV_FILE.chmod(0o600)
    return values


def manage(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(VENV_BIN / "python"), "manage.py", *args],
        cwd=ROOT,
        env={**os.environ, **environment()},
        check=check,
        capture_output=True,
        text=True,
    )


# --- MariaDB: what only we can do (its first start, replication) -------------------

MARIADB_CNF = """\
[mariadbd]
user = root
bind-address = {host}
port = {port}
socket = {socket}
pid-file = {pid}
datadir = {datadir}
server-id = {server_id}
log-bin = binlog
log-slave-updates = 1
binlog-format = ROW
gtid-strict-mode = 1
relay-log = relay
relay-log-recovery = 1
read-only = {read_only}
skip-name-resolve = 1
local-infile = 1
character-set-server = utf8mb4
collation-server = utf8mb4_unicode_ci
innodb-buffer-pool-size = 256M
max-connections = 300
"""

# The exporter reads its database through the socket: it runs beside it.
EXPORTER_CNF = """\
[client]
user = exporter
password = {password}
socket = {socket}
"""


def socket_path(role: str) -> Path:
    return RUN / f"{role}.sock"


def mariadb_cnf(role: str) -> Path:
    return STATE / f"{role}.cnf"


def sql(role: str, statement: str, timeout: float = 30) -> str:
    """Run SQL as root through the role's socket; tab-separated output without headers."""
    result = subprocess.run(
        ["mariadb", f"--socket={socket_path(role)}", "--user=root", "-N", "-B", "-e", statement],
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if result.returncode:
        raise RuntimeError(f"{role}: {result.stderr.strip()}")
    return result.stdout


def mariadb_answers(role: str) -> bool:
    try:
        sql(role, "SELECT 1", timeout=5)
        return True
    except (RuntimeError, subprocess.TimeoutExpired):
        return False


def write_mariadb_config(role: str, server_id: int) -> None:
    mariadb_cnf(role).write_text(
        MARIADB_CNF.format(
            host=host_of(role),
            port=PORTS[role],
            socket=socket_path(role),
            pid=RUN / f"{role}.mariadbd.pid",
            datadir=DATA / role,
            server_id=server_id,
            read_only=int(role == "replica"),
        )
    )
    exporter = STATE / f"{role}-exporter.cnf"
    password = environment()["EXPORTER_PASSWORD"]
    exporter.write_text(EXPORTER_CNF.format(password=password, socket=socket_path(role)))
    exporter.chmod(0o600)


def start_mariadb(role: str) -> None:
    datadir = DATA / role
    fresh = not (datadir / "mysql").exists()
    if fresh:
        datadir.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                "mariadb-install-db",
                f"--defaults-file={mariadb_cnf(role)}",
                "--auth-root-authentication-method=socket",
                "--skip-test-db",
            ],
            check=True,
            capture_output=True,
        )
    start_program(role)
    wait_for(f"MariaDB {role}", lambda: mariadb_answers(role), role=role)
    if fresh:
        # The binary log starts empty: a new replica replays it from the first event.
        sql(role, "RESET MASTER")


def primary_bootstrap() -> None:
    env = environment()
    password, repl, exporter = (
        env["DB_PASSWORD"],
        env["REPLICATION_PASSWORD"],
        env["EXPORTER_PASSWORD"],
    )
    # The site connects from 127.0.0.1 whichever loopback address it connects to; on
    # machines of their own, the app servers' and the replica's network goes here.
    client = "127.0.0.1"
    sql(
        "primary",
        f"""
        CREATE DATABASE IF NOT EXISTS sns CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
        CREATE USER IF NOT EXISTS 'sns'@'{client}' IDENTIFIED BY '{password}';
        GRANT ALL ON sns.* TO 'sns'@'{client}';
        GRANT SLAVE MONITOR ON *.* TO 'sns'@'{client}';
        CREATE USER IF NOT EXISTS 'repl'@'{client}' IDENTIFIED BY '{repl}';
        GRANT REPLICATION SLAVE ON *.* TO 'repl'@'{client}';
        CREATE USER IF NOT EXISTS 'exporter'@'localhost' IDENTIFIED BY '{exporter}';
        GRANT PROCESS, SLAVE MONITOR, BINLOG MONITOR ON *.* TO 'exporter'@'localhost';
        """,
    )


def replica_status() -> dict[str, str]:
    """SHOW SLAVE STATUS of the replica as a dict ({} when it is down or not a replica)."""
    try:
        out = subprocess.run(
            [
                "mariadb",
                f"--socket={socket_path('replica')}",
                "--user=root",
                "-E",
                "-e",
                "SHOW SLAVE STATUS",
            ],
            capture_output=True,
            text=True,
            timeout=5,
        ).stdout
    except subprocess.TimeoutExpired:
        return {}
    status = {}
    for line in out.splitlines():
        if ":" in line and not line.startswith("*"):
            key, value = line.split(":", 1)
            status[key.strip()] = value.strip()
    return status


def replica_attach() -> None:
    """Point the replica at the primary (first start), then make sure it replicates.
    After that the replica starts replicating by itself whenever it restarts."""
    status = replica_status()
    if status.get("Master_Host") != host_of("primary"):
        repl = environment()["REPLICATION_PASSWORD"]
        sql("replica", "STOP SLAVE")
        sql(
            "replica",
            f"CHANGE MASTER TO MASTER_HOST='{host_of('primary')}', "
            f"MASTER_PORT={PORTS['primary']}, MASTER_USER='repl', MASTER_PASSWORD='{repl}', "
            "MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=1",
        )
    sql("replica", "START SLAVE")
    wait_for("replication", replicating, role="replica")


def replicating() -> bool:
    """The replica's IO and SQL threads both run."""
    status = replica_status()
    return status.get("Slave_IO_Running") == status.get("Slave_SQL_Running") == "Yes"


def caught_up() -> bool:
    """The replica replicates and has applied everything the primary wrote."""
    primary = sql("primary", "SELECT @@gtid_binlog_pos").strip()
    return replicating() and sql("replica", "SELECT @@gtid_slave_pos").strip() == primary


# --- the programs ------------------------------------------------------------------


def mailbox_path() -> Path:
    return DATA / "mail" / "mailbox.jsonl"


def _binary(name: str, fallback: str) -> str:
    return shutil.which(name) or fallback


def commands() -> dict[str, tuple[list[str], dict[str, str]]]:
    """Each role's command line and environment (added to supervisord's own)."""
    site = environment()
    broker_base = DATA / "rabbitmq"
    out: dict[str, tuple[list[str], dict[str, str]]] = {
        "primary": (
            [
                _binary("mariadbd", "/usr/sbin/mariadbd"),
                f"--defaults-file={mariadb_cnf('primary')}",
            ],
            {},
        ),
        "replica": (
            [
                _binary("mariadbd", "/usr/sbin/mariadbd"),
                f"--defaults-file={mariadb_cnf('replica')}",
            ],
            {},
        ),
        # No persistence: a cache that comes back after a crash comes back empty, never stale.
        "redis": (
            [
                _binary("redis-server", "/usr/bin/redis-server"),
                "--bind",
                host_of("redis"),
                "--port",
                str(PORTS["redis"]),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(DATA / "redis"),
                "--daemonize",
                "no",
                "--maxmemory",
                "256mb",
                "--maxmemory-policy",
                "allkeys-lru",
            ],
            {},
        ),  # fmt: skip
        # A RabbitMQ node of the cluster's own, so the drill can break it without
        # touching the machine's: its own name, ports, data and its Prometheus plugin.
        "broker": (
            [str(Path("/usr/lib/rabbitmq/bin/rabbitmq-server"))],
            {
                "RABBITMQ_NODENAME": f"sns-cluster-{PORTS['broker']}@localhost",
                "RABBITMQ_NODE_IP_ADDRESS": host_of("broker"),
                "RABBITMQ_NODE_PORT": str(PORTS["broker"]),
                "RABBITMQ_DIST_PORT": str(PORTS["broker"] + 20000),
                "RABBITMQ_MNESIA_BASE": str(broker_base / "mnesia"),
                "RABBITMQ_LOG_BASE": str(LOG / "rabbitmq"),
                "RABBITMQ_PID_FILE": str(RUN / "broker.rabbitmq.pid"),
                "RABBITMQ_ENABLED_PLUGINS_FILE": str(STATE / "rabbitmq-plugins"),
                "RABBITMQ_CONFIG_FILE": str(STATE / "rabbitmq.conf"),
                "HOME": str(broker_base),  # the Erlang cookie lives here
            },
        ),
        "smtp": (
            [
                str(VENV_BIN / "python"),
                "deploy/smtp_standin.py",
                "--host",
                host_of("smtp"),
                "--port",
                str(PORTS["smtp"]),
                "--max-per-second",
                str(SMTP_MAX_PER_SECOND),
                "--mailbox",
                str(mailbox_path()),
            ],
            {},
        ),  # fmt: skip
        "nginx": (
            [
                _binary("nginx", "/usr/sbin/nginx"),
                "-c",
                str(STATE / "nginx.conf"),
                "-p",
                str(STATE),
                "-g",
                "daemon off;",
            ],
            {},
        ),
        "primary-exporter": (_mysqld_exporter("primary"), {}),
        "replica-exporter": (_mysqld_exporter("replica"), {}),
        "redis-exporter": (
            [
                _binary("prometheus-redis-exporter", "/usr/bin/prometheus-redis-exporter"),
                f"-redis.addr=redis://{host_of('redis')}:{PORTS['redis']}",
                f"-web.listen-address={host_of('redis-exporter')}:{PORTS['redis-exporter']}",
            ],
            {},
        ),
        "nginx-exporter": (
            [
                _binary("prometheus-nginx-exporter", "/usr/bin/prometheus-nginx-exporter"),
                f"-nginx.scrape-uri=http://{host_of('nginx')}:{PORTS['nginx-status']}/stub_status",
                f"-web.listen-address={host_of('nginx-exporter')}:{PORTS['nginx-exporter']}",
            ],
            {},
        ),
        "prometheus": (
            [
                _binary("prometheus", "/usr/bin/prometheus"),
                f"--config.file={STATE / 'prometheus.yml'}",
                f"--storage.tsdb.path={DATA / 'prometheus'}",
                "--storage.tsdb.retention.time=2d",
                f"--web.listen-address={host_of('prometheus')}:{PORTS['prometheus']}",
            ],
            {},
        ),
    }
    for role in app_roles():
        out[role] = (
            [str(VENV_BIN / "gunicorn"), "-c", "config/gunicorn.py", "config.wsgi"],
            {
                **site,
                "BIND": f"{host_of(role)}:{app_port(role)}",
                "PROMETHEUS_MULTIPROC_DIR": str(STATE / "metrics" / role),
                "APP_SERVER": role,
            },
        )
    for role in worker_roles():
        argv = [
            str(VENV_BIN / "celery"), "-A", "config", "worker", "--loglevel", "INFO",
            "--hostname", f"{role}@%h", "--concurrency", "2",
        ]  # fmt: skip
        if role == "worker-1":
            # One scheduler for the cluster (the outbox sweepers); it restarts with worker-1.
            argv += ["--beat", "--schedule", str(DATA / "celerybeat-schedule")]
        out[role] = (argv, site)
    return out


def _mysqld_exporter(role: str) -> list[str]:
    return [
        _binary("prometheus-mysqld-exporter", "/usr/bin/prometheus-mysqld-exporter"),
        f"--config.my-cnf={STATE / f'{role}-exporter.cnf'}",
        f"--web.listen-address={host_of(role)}:{PORTS[f'{role}-exporter']}",
        "--collect.slave_status",
    ]


def _ini_value(value: str) -> str:
    """A value for supervisord's ini file: quoted, and % doubled (it interpolates)."""
    return '"' + value.replace("%", "%%").replace('"', '\\"') + '"'


def _ini_command(argv: list[str]) -> str:
    return " ".join(
        _ini_value(arg) if not arg or any(c in arg for c in " ;'\"") else arg.replace("%", "%%")
        for arg in argv
    )


# How long each part gets to stop cleanly before SIGKILL (a database flushes).
STOP_SECONDS = {"primary": 60, "replica": 60, "broker": 60}


def supervisor_config() -> str:
    """supervisord.conf: one program per part, the app servers and workers as groups.
    ``autostart`` is off: ``up`` starts them in order, each once the one before it
    answers; from then on supervisord restarts any that dies (``autorestart``)."""
    lines = [
        "[unix_http_server]",
        f"file = {SUPERVISOR_SOCKET}",
        "chmod = 0700",
        "",
        "[supervisord]",
        f"logfile = {LOG / 'supervisord.log'}",
        f"pidfile = {RUN / 'supervisord.pid'}",
        f"childlogdir = {LOG}",
        f"directory = {ROOT}",
        "minfds = 4096",
        "",
        "[rpcinterface:supervisor]",
        "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface",
        "",
        "[supervisorctl]",
        f"serverurl = unix://{SUPERVISOR_SOCKET}",
        "",
    ]
    for priority, (role, (argv, env)) in enumerate(
        sorted(commands().items(), key=lambda item: roles().index(item[0])), start=1
    ):
        lines += [
            f"[program:{role}]",
            f"command = {_ini_command(argv)}",
            f"directory = {ROOT}",
            # Shut down in the reverse order of the start: nginx before the app
            # servers, the databases last.
            f"priority = {priority * 10}",
            "autostart = false",
            "autorestart = true",
            "startsecs = 1",
            "startretries = 5",
            # Every process of the part, as one: gunicorn's and Celery's children,
            # RabbitMQ's Erlang VM under its start script.
            "stopasgroup = true",
            "killasgroup = true",
            f"stopwaitsecs = {STOP_SECONDS.get(role, 15)}",
            "redirect_stderr = true",
            f"stdout_logfile = {log_file(role)}",
            "stdout_logfile_maxbytes = 50MB",
            "stdout_logfile_backups = 1",
        ]
        if env:
            lines.append(
                "environment = " + ",".join(f"{k}={_ini_value(v)}" for k, v in env.items())
            )
        lines.append("")
    lines += [
        "[group:apps]",
        f"programs = {','.join(app_roles())}",
        "",
        "[group:workers]",
        f"programs = {','.join(worker_roles())}",
        "",
    ]
    return "\n".join(lines)


def write_configs() -> None:
    for directory in (
        RUN,
        LOG,
        DATA,
        DATA / "redis",
        DATA / "mail",
        DATA / "rabbitmq",
        STATE / "nginx",
    ):
        directory.mkdir(parents=True, exist_ok=True)
    write_mariadb_config("primary", 1)
    write_mariadb_config("replica", 2)
    (STATE / "rabbitmq-plugins").write_text("[rabbitmq_prometheus].\n")
    (STATE / "rabbitmq.conf").write_text(
        f"prometheus.tcp.ip = {host_of('broker')}\n"
        f"prometheus.tcp.port = {PORTS['broker-metrics']}\n"
    )
    write_nginx_config()
    write_prometheus_config()
    SUPERVISOR_CONF.write_text(supervisor_config())
    SUPERVISOR_CONF.chmod(0o600)  # it holds the site's environment, secrets included


def write_nginx_config() -> None:
    upstreams = "".join(
        f"        server {host_of(role)}:{app_port(role)} max_fails=1 fail_timeout=2s;\n"
        for role in app_roles()
    )
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    for name, value in {
        "STATE": str(STATE),
        "ROOT": str(ROOT),
        "LISTEN": f"{host_of('nginx')}:{PORTS['nginx']}",
        "STATUS_LISTEN": f"{host_of('nginx')}:{PORTS['nginx-status']}",
        "UPSTREAMS": upstreams.rstrip("\n").lstrip(),
    }.items():
        conf = conf.replace("{{" + name + "}}", value)
    path = STATE / "nginx.conf"
    path.write_text(conf)
    nginx = _binary("nginx", "/usr/sbin/nginx")
    subprocess.run([nginx, "-t", "-q", "-c", str(path), "-p", str(STATE)], check=True)


# --- Prometheus ----------------------------------------------------------------------

# Every part is scraped every 2 s and the rules are evaluated each second: on this
# machine the drill's outages last seconds. On real machines 15 s is usual.
SCRAPE_SECONDS = 2


def scrape_targets() -> dict[str, list[tuple[str, str]]]:
    """Prometheus' jobs: ``{job: [(instance, address)]}``. Each app server is scraped
    on its own port (through nginx, /metrics would answer for whichever server)."""
    apps = [(role, f"{host_of(role)}:{app_port(role)}") for role in app_roles()]
    return {
        "app": apps,
        "backlog": apps,
        "mysql": [
            (role, f"{host_of(f'{role}-exporter')}:{PORTS[f'{role}-exporter']}")
            for role in ("primary", "replica")
        ],
        "redis": [("redis", f"{host_of('redis-exporter')}:{PORTS['redis-exporter']}")],
        "nginx": [("nginx", f"{host_of('nginx-exporter')}:{PORTS['nginx-exporter']}")],
        "broker": [("broker", f"{host_of('broker')}:{PORTS['broker-metrics']}")],
        "prometheus": [("prometheus", f"{host_of('prometheus')}:{PORTS['prometheus']}")],
    }


def alert_rules() -> str:
    """deploy/alerts.yml with this cluster's thresholds filled in."""
    rules = (ROOT / "deploy" / "alerts.yml").read_text()
    for name, value in {
        "REPLICA_MAX_LAG": str(REPLICA_MAX_LAG),
        "WORKERS": str(WORKERS),
    }.items():
        rules = rules.replace("{{" + name + "}}", value)
    return rules


def write_prometheus_config() -> None:
    (DATA / "prometheus").mkdir(parents=True, exist_ok=True)
    (STATE / "alerts.yml").write_text(alert_rules())
    # JSON is YAML: the configuration is written with the standard library.
    jobs = []
    for job, targets in scrape_targets().items():
        entry = {
            "job_name": job,
            "static_configs": [
                {"targets": [address], "labels": {"instance": instance}}
                for instance, address in targets
            ],
        }
        if job == "backlog":
            # The outboxes and the queues, from any app server (each asks the
            # primary and the broker); a slow answer here never marks the app down.
            entry.update(metrics_path="/metrics", params={"collect": ["backlog"]})
        jobs.append(entry)
    config = {
        "global": {
            "scrape_interval": f"{SCRAPE_SECONDS}s",
            "scrape_timeout": f"{SCRAPE_SECONDS}s",
            "evaluation_interval": "1s",
        },
        "rule_files": [str(STATE / "alerts.yml")],
        "scrape_configs": jobs,
    }
    (STATE / "prometheus.yml").write_text(json.dumps(config, indent=2) + "\n")


def prometheus_get(path: str, **params: str) -> dict:
    """GET Prometheus' HTTP API; the ``data`` of its answer."""
    query = f"?{urllib.parse.urlencode(params)}" if params else ""
    with urllib.request.urlopen(url_of("prometheus") + path + query, timeout=3) as response:
        return json.load(response)["data"]


def firing_alerts() -> list[dict]:
    """The alerts that fire now: ``[{"alertname", "instance", "since", ...}]``."""
    found = []
    for alert in prometheus_get("/api/v1/alerts")["alerts"]:
        if alert["state"] == "firing":
            found.append({**alert["labels"], "since": alert.get("activeAt", "")})
    return found


def targets_health() -> list[dict]:
    """Each scrape target: job, instance, health (up, down, unknown) and last error."""
    return [
        {
            "job": target["labels"]["job"],
            "instance": target["labels"]["instance"],
            "health": target["health"],
            "error": target.get("lastError", ""),
        }
        for target in prometheus_get("/api/v1/targets", state="active")["activeTargets"]
    ]


def prometheus_green() -> bool:
    try:
        targets = targets_health()
    except (OSError, ValueError, KeyError):
        return False
    expected = sum(len(t) for t in scrape_targets().values())
    return len(targets) == expected and all(t["health"] == "up" for t in targets)


# --- starting --------------------------------------------------------------------------


def start_supervisord() -> None:
    subprocess.run(
        [_binary("supervisord", "/usr/bin/supervisord"), "-c", str(SUPERVISOR_CONF)],
        cwd=ROOT,
        check=True,
    )
    wait_for("supervisord", supervisor_running, timeout=30)


def update_supervisord() -> None:
    """Load a changed configuration (``supervisorctl update``): a group whose programs
    changed (CLUSTER_APPS, say) is stopped and added again."""
    rpc = supervisor()
    [[added, changed, removed]] = rpc.reloadConfig()
    for group in changed + removed:
        rpc.stopProcessGroup(group)
        rpc.removeProcessGroup(group)
    for group in added + changed:
        rpc.addProcessGroup(group)


def start_program(role: str) -> None:
    """Ask supervisord to start the role (if it is starting already, let it)."""
    try:
        supervisor().startProcess(program(role), False)
    except xmlrpc.client.Fault as fault:
        if "ALREADY_STARTED" not in fault.faultString:
            raise


def worker_ready(role: str, since: int) -> bool:
    """The worker's log says ``ready.`` after byte ``since``."""
    log = log_file(role)
    if not log.exists():
        return False
    with open(log, "rb") as f:
        f.seek(since)
        return b" ready." in f.read()


def part_answers(role: str) -> bool:
    """The role does its job: its health check, its protocol's answer, or its port."""
    if role in ("primary", "replica"):
        return mariadb_answers(role)
    if role.startswith("app-") or role == "nginx":
        return http_ok(url_of(role) + "/healthz")
    if role == "prometheus":
        return http_ok(url_of(role) + "/-/ready")
    if role in EXPORTS:
        return http_ok(url_of(role) + "/metrics")
    if role.startswith("worker-"):
        return running(role)
    return answers(role)


def ensure(role: str) -> bool:
    """Start ``role`` unless it runs and answers; True if it had to be started."""
    if running(role) and part_answers(role):
        return False
    if role in ("primary", "replica"):
        start_mariadb(role)
        if role == "replica":
            replica_attach()
        return True
    since = log_file(role).stat().st_size if log_file(role).exists() else 0
    start_program(role)
    timeout = 90 if role == "broker" else 60
    if role.startswith("worker-"):
        wait_for(role, lambda: worker_ready(role, since), timeout=timeout, role=role)
    else:
        wait_for(role, lambda: part_answers(role), timeout=timeout, role=role)
    return True


def prepare_site() -> None:
    """Migrations and the demo on the primary; static files for nginx."""
    for args in (("migrate", "-v0"), ("seed_demo",), ("collectstatic", "--noinput", "-v0")):
        result = manage(*args, check=False)
        if result.returncode:
            sys.stderr.write(result.stdout + result.stderr)
            raise SystemExit(f"manage.py {args[0]} failed against the cluster")


def up() -> None:
    started_mode = _running_mode()
    if started_mode and started_mode != HOSTS_MODE:
        raise SystemExit(
            f"The cluster runs with CLUSTER_HOSTS={started_mode}: make cluster-stop first."
        )
    environment()
    write_configs()
    if supervisor_running():
        update_supervisord()
    else:
        start_supervisord()
    started = []
    for role in roles():
        if role == "replica":
            primary_bootstrap()  # its users, made once (the replica copies them)
        # Migrate before an app server starts (cheap when nothing is new).
        if role == "app-1" and any(not running(app) for app in app_roles()):
            prepare_site()
        if ensure(role):
            started.append(role)
            print(f"started {role}", flush=True)
    if not started:
        print("Everything was running already.")
    wait_for("Prometheus' scrape of every part", prometheus_green, timeout=60)
    print(
        f"\nThe cluster answers at {url_of('nginx')}/ — log in as demo@example.com / "
        f"demo-password. Prometheus: {url_of('prometheus')}/alerts "
        "(make cluster-status, make drill, make cluster-stop)"
    )


def _running_mode() -> str | None:
    """The CLUSTER_HOSTS the running cluster was started with (None: not running)."""
    if not supervisor_running():
        return None
    for line in ENV_FILE.read_text().splitlines() if ENV_FILE.exists() else []:
        if line.startswith("CLUSTER_HOSTS="):
            return line.split("=", 1)[1]
    return "local"


# --- status, stop ---------------------------------------------------------------------


def status_rows() -> list[dict]:
    infos = processes()
    rows = []
    for role in roles():
        info = infos.get(role, {})
        state = info.get("statename", "ABSENT")
        up_ = state == "RUNNING" and part_answers(role)
        row = {
            "role": role,
            "state": "up" if up_ else ("hung" if state == "RUNNING" else state.lower()),
            "pid": info.get("pid") or None,
            "address": f"{host_of(role)}:{port_of(role)}" if port_of(role) else None,
            "uptime": (info["now"] - info["start"]) if state == "RUNNING" else None,
        }
        if role == "replica" and up_:
            status = replica_status()
            row["lag"] = status.get("Seconds_Behind_Master")
            row["io"] = status.get("Slave_IO_Running")
            row["sql"] = status.get("Slave_SQL_Running")
            row["gtid"] = status.get("Gtid_IO_Pos")
        rows.append(row)
    return rows


def status(as_json: bool = False) -> int:
    if not supervisor_running():
        print("The cluster is not running (make cluster).")
        return 1
    rows = status_rows()
    try:
        targets, alerts = targets_health(), firing_alerts()
    except (OSError, ValueError, KeyError) as exc:
        targets, alerts = [], [{"alertname": "PrometheusUnreachable", "instance": str(exc)}]
    if as_json:
        print(json.dumps({"parts": rows, "targets": targets, "alerts": alerts}, indent=2))
    else:
        print(f"{'part':<17} {'state':<8} {'pid':>8} {'uptime':>8}  {'address':<16}  detail")
        for row in rows:
            detail = ""
            if "lag" in row:
                detail = (
                    f"replica lag {row['lag']} s (io {row['io']}, sql {row['sql']}, "
                    f"gtid {row['gtid']})"
                )
            uptime = f"{row['uptime']} s" if row["uptime"] is not None else "-"
            print(
                f"{row['role']:<17} {row['state']:<8} {row['pid'] or '-':>8} {uptime:>8}  "
                f"{row['address'] or '-':<16}  {detail}"
            )
        healthy = sum(t["health"] == "up" for t in targets)
        print(f"\nPrometheus ({url_of('prometheus')}): {healthy} of {len(targets)} targets up")
        for target in targets:
            if target["health"] != "up":
                print(
                    f"  {target['job']}/{target['instance']}: {target['health']} {target['error']}"
                )
        if alerts:
            print(f"alerts firing ({len(alerts)}):")
            for alert in alerts:
                name, instance = alert["alertname"], alert.get("instance", "")
                print(f"  {name:<22} {instance:<10} since {alert['since']}")
        else:
            print("alerts firing: none")
    ok = all(row["state"] == "up" for row in rows)
    return 0 if ok and not alerts and targets else 1


def stop() -> None:
    if not supervisor_running():
        print("The cluster is not running.")
        return
    rpc = supervisor()
    infos = processes()
    # Every program supervisord knows, the last started first (a larger cluster's
    # app servers too, started when CLUSTER_APPS was higher).
    order = {role: i for i, role in enumerate(roles())}
    for role in sorted(infos, key=lambda r: order.get(r, len(order)), reverse=True):
        info = infos[role]
        if info["statename"] in ("RUNNING", "STARTING", "BACKOFF"):
            # A part the drill left hanging (SIGSTOP) would never see its SIGTERM.
            signal_role(role, signal.SIGCONT)
            with contextlib.suppress(xmlrpc.client.Fault):
                rpc.stopProcess(f"{info['group']}:{role}", True)
            print(f"stopped {role}", flush=True)
    pid = int((RUN / "supervisord.pid").read_text())
    rpc.shutdown()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and Path(f"/proc/{pid}").exists():
        time.sleep(0.1)
    print("stopped supervisord")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["up", "status", "stop", "pid", "env"])
    parser.add_argument("role", nargs="?", help="pid: the part whose pid to print")
    parser.add_argument("--json", action="store_true", help="status as JSON")
    args = parser.parse_args(argv)
    if args.command == "up":
        up()
    elif args.command == "status":
        return status(args.json)
    elif args.command == "stop":
        stop()
    elif args.command == "pid":
        if args.role not in roles():
            raise SystemExit(f"ROLE must be one of: {', '.join(roles())}")
        pid = pid_of(args.role)
        if not pid:
            raise SystemExit(f"{args.role} is not running")
        print(pid)
    elif args.command == "env":
        print(ENV_FILE)
    return 0


if __name__ == "__main__":
    sys.exit(main())
