"""The cluster on one machine: `make cluster`, `make cluster-status`, `make cluster-stop`.

    python deploy/cluster.py up | status | stop

Starts, on loopback, every part of the scaled-out site, each as a process of its
own with its pid in ``.cluster/run/<role>.pid`` and its output in
``.cluster/log/<role>.log``:

    nginx 8080 -> app-1..app-N (gunicorn 8101..) -> primary 3310 (MariaDB)
                                                  -> replica 3311 (its GTID replica)
                                                  -> redis 6380 (the shared cache)
                                                  -> broker 5673 (RabbitMQ) -> worker-1..M
    worker-1..M (Celery) -> primary, smtp 2525 (the mail provider's stand-in)

``up`` starts only what is down, in order, waits until each part answers, and
returns. ``.cluster/env`` holds the environment of the site's processes, so
``set -a; . .cluster/env; set +a; .venv/bin/python manage.py ...`` runs any command
against the cluster. Standard library only: it runs before anything is installed
and never imports Django.

Settings (environment): CLUSTER_APPS (3), CLUSTER_WORKERS (2), CLUSTER_DIR (.cluster),
CLUSTER_PORT_OFFSET (0; added to every port, for a second cluster beside the first).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"
STATE = Path(os.environ.get("CLUSTER_DIR", ROOT / ".cluster")).resolve()
RUN, LOG, DATA = STATE / "run", STATE / "log", STATE / "data"
ENV_FILE = STATE / "env"


def _setting(name: str, default: int, least: int) -> int:
    value = os.environ.get(name, str(default))
    if not value.isdigit() or int(value) < least:
        raise SystemExit(f"{name} must be a whole number of at least {least}, not {value!r}")
    return int(value)


OFFSET = _setting("CLUSTER_PORT_OFFSET", 0, 0)
APPS = _setting("CLUSTER_APPS", 3, 1)
WORKERS = _setting("CLUSTER_WORKERS", 2, 1)
HOST = "127.0.0.1"

PORTS = {
    "nginx": 8080,
    "primary": 3310,
    "replica": 3311,
    "redis": 6380,
    "broker": 5673,
    "smtp": 2525,
}
PORTS = {role: port + OFFSET for role, port in PORTS.items()}
APP_PORT = 8101 + OFFSET
# The stand-in provider refuses more than this many messages a second; each
# worker sends at most MAIL_RATE (a Celery rate limit is per worker), with margin.
SMTP_MAX_PER_SECOND = 5
MAIL_RATE = max(1, int(SMTP_MAX_PER_SECOND * 0.8) // max(WORKERS, 1))
# Reads fall back to the primary when the replica is further behind than this.
REPLICA_MAX_LAG = 5


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


# --- processes --------------------------------------------------------------------


def pid_file(role: str) -> Path:
    return RUN / f"{role}.pid"


def log_file(role: str) -> Path:
    return LOG / f"{role}.log"


def read_pid(role: str) -> int | None:
    try:
        return int(pid_file(role).read_text().strip())
    except (OSError, ValueError):
        return None


def _stat(pid: int) -> list[str] | None:
    """/proc/<pid>/stat from the state field on (None if there is no such process)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def alive(pid: int | None) -> bool:
    """True if the process runs (a zombie, killed but not yet reaped, does not)."""
    stat = _stat(pid) if pid else None
    return stat is not None and stat[0] != "Z"


def running(role: str) -> bool:
    """The role's process runs, and it is the one its pid file was written for: a pid
    reused since (after a reboot, say) belongs to a process started after the file."""
    pid = read_pid(role)
    if not alive(pid):
        return False
    ticks = os.sysconf("SC_CLK_TCK")
    boot = time.time() - float(Path("/proc/uptime").read_text().split()[0])
    started = boot + int(_stat(pid)[19]) / ticks  # field 22 of stat: start time, in ticks
    return started <= pid_file(role).stat().st_mtime + 1


def answers(port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=timeout):
            return True
    except OSError:
        return False


def spawn(role: str, argv: list[str], env: dict[str, str] | None = None) -> int:
    """Start ``argv`` in a session of its own (so one signal reaches all its processes)."""
    LOG.mkdir(parents=True, exist_ok=True)
    RUN.mkdir(parents=True, exist_ok=True)
    with open(log_file(role), "ab") as out:
        process = subprocess.Popen(
            argv,
            cwd=ROOT,
            env={**os.environ, **(env or {})},
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    pid_file(role).write_text(f"{process.pid}\n")
    return process.pid


def signal_role(role: str, sig: int) -> bool:
    """Send ``sig`` to the role's whole process group; False if it was not running."""
    pid = read_pid(role)
    if not alive(pid):
        return False
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        return False
    return True


def stop_role(role: str, timeout: float = 30) -> None:
    if signal_role(role, signal.SIGTERM):
        pid = read_pid(role)
        deadline = time.monotonic() + timeout
        while alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if alive(pid):
            signal_role(role, signal.SIGKILL)
    pid_file(role).unlink(missing_ok=True)


def kill_role(role: str) -> None:
    """What a crash looks like: SIGKILL to every process of the role, no clean-up."""
    pid = read_pid(role)
    signal_role(role, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)


def wait_for(what: str, check, timeout: float = 60, role: str | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        if role and not running(role):
            break
        time.sleep(0.2)
    hint = f"; see {log_file(role)}" if role else ""
    raise SystemExit(f"{what} did not come up{hint}")


# --- the environment of the site's processes ---------------------------------------


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
    db = f"mysql://sns:{password}@{HOST}"
    defaults = {
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "HTTPS": "0",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "CLIENT_IP_HEADER": "X-Real-IP",
        # The drill and the load test write from one address at machine speed.
        "RATE_LIMITS": "0",
        "DB_PASSWORD": password,
        "DATABASE_URL": f"{db}:{PORTS['primary']}/sns",
        "REPLICA_URL": f"{db}:{PORTS['replica']}/sns",
        "REPLICA_MAX_LAG": str(REPLICA_MAX_LAG),
        "REPLICATION_PASSWORD": secrets.token_hex(16),
        "CONN_MAX_AGE": "60",
        "CACHE_URL": f"redis://{HOST}:{PORTS['redis']}/0",
        "LOCAL_CACHE_SECONDS": "1",
        "CELERY_BROKER_URL": f"amqp://guest:guest@{HOST}:{PORTS['broker']}//",
        # A worker writes some 40 000 feed rows a second: audiences up to this size
        # are pushed (the default, 10 000, suits the single process of make run).
        "FEED_FANOUT_LIMIT": "50000",
        "EMAIL_URL": f"smtp://{HOST}:{PORTS['smtp']}",
        "MAIL_RATE_LIMIT": f"{MAIL_RATE}/s",
        "WEB_CONCURRENCY": "2",
        "THREADS": "8",
    }
    missing = {key: value for key, value in defaults.items() if key not in values}
    if missing:
        values.update(missing)
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


# --- MariaDB -----------------------------------------------------------------------

MARIADB_CNF = """\
[mariadbd]
user = root
bind-address = {host}
port = {port}
socket = {socket}
pid-file = {pid}
datadir = {datadir}
log-error = {log}
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


def socket_path(role: str) -> Path:
    return RUN / f"{role}.sock"


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


def start_mariadb(role: str, server_id: int) -> None:
    datadir = DATA / role
    cnf = STATE / f"{role}.cnf"
    cnf.write_text(
        MARIADB_CNF.format(
            host=HOST,
            port=PORTS[role],
            socket=socket_path(role),
            pid=RUN / f"{role}.mariadbd.pid",
            datadir=datadir,
            log=log_file(role),
            server_id=server_id,
            read_only=int(role == "replica"),
        )
    )
    fresh = not (datadir / "mysql").exists()
    if fresh:
        datadir.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                "mariadb-install-db",
                f"--defaults-file={cnf}",
                "--auth-root-authentication-method=socket",
                "--skip-test-db",
            ],
            check=True,
            capture_output=True,
        )
    spawn(role, [shutil.which("mariadbd") or "/usr/sbin/mariadbd", f"--defaults-file={cnf}"])
    wait_for(f"MariaDB {role}", lambda: mariadb_answers(role), role=role)
    if fresh:
        # The binary log starts empty: a new replica replays it from the first event.
        sql(role, "RESET MASTER")


def primary_bootstrap() -> None:
    env = environment()
    password, repl = env["DB_PASSWORD"], env["REPLICATION_PASSWORD"]
    sql(
        "primary",
        f"""
        CREATE DATABASE IF NOT EXISTS sns CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
        CREATE USER IF NOT EXISTS 'sns'@'{HOST}' IDENTIFIED BY '{password}';
        GRANT ALL ON sns.* TO 'sns'@'{HOST}';
        GRANT SLAVE MONITOR ON *.* TO 'sns'@'{HOST}';
        CREATE USER IF NOT EXISTS 'repl'@'{HOST}' IDENTIFIED BY '{repl}';
        GRANT REPLICATION SLAVE ON *.* TO 'repl'@'{HOST}';
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
    """Point the replica at the primary (first start), then make sure it replicates."""
    if not replica_status():
        repl = environment()["REPLICATION_PASSWORD"]
        sql(
            "replica",
            f"CHANGE MASTER TO MASTER_HOST='{HOST}', MASTER_PORT={PORTS['primary']}, "
            f"MASTER_USER='repl', MASTER_PASSWORD='{repl}', MASTER_USE_GTID=slave_pos, "
            "MASTER_CONNECT_RETRY=1",
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


# --- the other parts -----------------------------------------------------------------


def start_redis() -> None:
    (DATA / "redis").mkdir(parents=True, exist_ok=True)
    # No persistence: a cache that comes back after a crash comes back empty, never stale.
    spawn(
        "redis",
        [
            shutil.which("redis-server") or "/usr/bin/redis-server",
            "--bind",
            HOST,
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
    )
    wait_for("Redis", lambda: answers(PORTS["redis"]), role="redis")


def start_broker() -> None:
    """A RabbitMQ node of the cluster's own, so the drill can stop it without touching
    the machine's. Its own name, ports and data directory; no plugins."""
    base = DATA / "rabbitmq"
    base.mkdir(parents=True, exist_ok=True)
    plugins = STATE / "rabbitmq-plugins"
    plugins.write_text("[].\n")
    env = {
        "RABBITMQ_NODENAME": f"sns-cluster-{PORTS['broker']}@localhost",
        "RABBITMQ_NODE_IP_ADDRESS": HOST,
        "RABBITMQ_NODE_PORT": str(PORTS["broker"]),
        "RABBITMQ_DIST_PORT": str(PORTS["broker"] + 20000),
        "RABBITMQ_MNESIA_BASE": str(base / "mnesia"),
        "RABBITMQ_LOG_BASE": str(LOG / "rabbitmq"),
        "RABBITMQ_PID_FILE": str(RUN / "broker.rabbitmq.pid"),
        "RABBITMQ_ENABLED_PLUGINS_FILE": str(plugins),
        "RABBITMQ_CONFIG_FILE": str(STATE / "rabbitmq-none"),
        "HOME": str(base),  # the Erlang cookie lives here
    }
    server = Path("/usr/lib/rabbitmq/bin/rabbitmq-server")
    spawn("broker", [str(server if server.exists() else shutil.which("rabbitmq-server"))], env)
    wait_for("RabbitMQ", lambda: answers(PORTS["broker"]), timeout=90, role="broker")


def start_smtp() -> None:
    (DATA / "mail").mkdir(parents=True, exist_ok=True)
    spawn(
        "smtp",
        [
            str(VENV_BIN / "python"),
            "deploy/smtp_standin.py",
            "--host",
            HOST,
            "--port",
            str(PORTS["smtp"]),
            "--max-per-second",
            str(SMTP_MAX_PER_SECOND),
            "--mailbox",
            str(mailbox_path()),
        ],
    )
    wait_for("SMTP stand-in", lambda: answers(PORTS["smtp"]), role="smtp")


def mailbox_path() -> Path:
    return DATA / "mail" / "mailbox.jsonl"


def http_ok(url: str, timeout: float = 2) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status == 200
    except OSError:
        return False


def start_app(role: str) -> None:
    port = app_port(role)
    metrics = STATE / "metrics" / role
    metrics.mkdir(parents=True, exist_ok=True)
    spawn(
        role,
        [str(VENV_BIN / "gunicorn"), "-c", "config/gunicorn.py", "config.wsgi"],
        {
            **environment(),
            "BIND": f"{HOST}:{port}",
            "PROMETHEUS_MULTIPROC_DIR": str(metrics),
            "APP_SERVER": role,
        },
    )
    wait_for(role, lambda: http_ok(f"http://{HOST}:{port}/healthz"), role=role)


def start_worker(role: str) -> None:
    argv = [
        str(VENV_BIN / "celery"),
        "-A",
        "config",
        "worker",
        "--loglevel",
        "INFO",
        "--hostname",
        f"{role}@%h",
        "--concurrency",
        "2",
    ]
    if role == "worker-1":
        # One scheduler for the cluster (the outbox sweepers); it restarts with worker-1.
        argv += ["--beat", "--schedule", str(DATA / "celerybeat-schedule")]
    log = log_file(role)
    start = log.stat().st_size if log.exists() else 0
    spawn(role, argv, environment())

    def ready() -> bool:
        with open(log, "rb") as f:
            f.seek(start)
            return b" ready." in f.read()

    wait_for(role, ready, timeout=60, role=role)


def start_nginx() -> None:
    (STATE / "nginx").mkdir(parents=True, exist_ok=True)
    upstreams = "".join(
        f"        server {HOST}:{app_port(role)} max_fails=1 fail_timeout=2s;\n"
        for role in app_roles()
    )
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    for name, value in {
        "STATE": str(STATE),
        "ROOT": str(ROOT),
        "LISTEN": f"{HOST}:{PORTS['nginx']}",
        "UPSTREAMS": upstreams.rstrip("\n").lstrip(),
    }.items():
        conf = conf.replace("{{" + name + "}}", value)
    path = STATE / "nginx.conf"
    path.write_text(conf)
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    subprocess.run([nginx, "-t", "-q", "-c", str(path), "-p", str(STATE)], check=True)
    spawn("nginx", [nginx, "-c", str(path), "-p", str(STATE), "-g", "daemon off;"])
    wait_for("nginx", lambda: http_ok(f"http://{HOST}:{PORTS['nginx']}/healthz"), role="nginx")


# --- the commands ------------------------------------------------------------------


def roles() -> list[str]:
    return [
        "primary",
        "replica",
        "redis",
        "broker",
        "smtp",
        *app_roles(),
        *worker_roles(),
        "nginx",
    ]


def ensure(role: str) -> bool:
    """Start ``role`` unless it runs; True if it had to be started."""
    if running(role):
        return False
    if role == "primary":
        start_mariadb("primary", 1)
        primary_bootstrap()
    elif role == "replica":
        start_mariadb("replica", 2)
        replica_attach()
    elif role == "redis":
        start_redis()
    elif role == "broker":
        start_broker()
    elif role == "smtp":
        start_smtp()
    elif role.startswith("app-"):
        start_app(role)
    elif role.startswith("worker-"):
        start_worker(role)
    elif role == "nginx":
        start_nginx()
    return True


def prepare_site() -> None:
    """Migrations and the demo on the primary; static files for nginx."""
    for args in (("migrate", "-v0"), ("seed_demo",), ("collectstatic", "--noinput", "-v0")):
        result = manage(*args, check=False)
        if result.returncode:
            sys.stderr.write(result.stdout + result.stderr)
            raise SystemExit(f"manage.py {args[0]} failed against the cluster")


def up() -> None:
    environment()
    started = []
    for role in roles():
        # Migrate before an app server starts (cheap when nothing is new).
        if role == "app-1" and any(not running(app) for app in app_roles()):
            prepare_site()
        if ensure(role):
            started.append(role)
            print(f"started {role}", flush=True)
    if not started:
        print("Everything was running already.")
    print(
        f"\nThe cluster answers at http://{HOST}:{PORTS['nginx']}/ — log in as "
        "demo@example.com / demo-password (make cluster-status, make drill, make cluster-stop)"
    )


def status_rows() -> list[dict]:
    rows = []
    for role in roles():
        pid = read_pid(role)
        port = port_of(role)
        up_ = alive(pid) and (port is None or answers(port))
        row = {
            "role": role,
            "state": "up" if up_ else "down",
            "pid": pid if alive(pid) else None,
            "port": port,
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
    rows = status_rows()
    if as_json:
        print(json.dumps(rows, indent=2))
    else:
        print(f"{'part':<10} {'state':<6} {'pid':>8} {'port':>6}  detail")
        for row in rows:
            detail = ""
            if "lag" in row:
                detail = (
                    f"replica lag {row['lag']} s (io {row['io']}, sql {row['sql']}, "
                    f"gtid {row['gtid']})"
                )
            pid = row["pid"] or "-"
            print(f"{row['role']:<10} {row['state']:<6} {pid:>8} {row['port'] or '-':>6}  {detail}")
    return 0 if all(row["state"] == "up" for row in rows) else 1


def stop() -> None:
    for role in reversed(roles()):
        if running(role):
            stop_role(role)
            print(f"stopped {role}", flush=True)
    # Roles of a larger cluster started earlier (CLUSTER_APPS was higher then).
    for path in RUN.glob("*.pid") if RUN.exists() else []:
        role = path.stem
        if role.startswith(("app-", "worker-")) and running(role):
            stop_role(role)
            print(f"stopped {role}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["up", "status", "stop", "env"])
    parser.add_argument("--json", action="store_true", help="status as JSON")
    args = parser.parse_args(argv)
    if args.command == "up":
        up()
    elif args.command == "status":
        return status(args.json)
    elif args.command == "stop":
        stop()
    elif args.command == "env":
        print(ENV_FILE)
    return 0


if __name__ == "__main__":
    sys.exit(main())
