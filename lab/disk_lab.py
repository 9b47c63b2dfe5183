"""The study notes' first chapter, measured: disks, memory and the buffer pool.

Three experiments, on a scratch database the lab makes for the run and removes
afterwards, never on the database the project points at (a lesson that needs a
small buffer pool or the flush mode must not change the user's server):

1. **Insert order into the clustered index.** InnoDB stores a table in primary
   key order (the clustered index). Keys that grow (auto-increment, or a
   time-ordered UUID) append to the last page, which stays in memory; random
   UUIDs land on any page, so once the table outgrows the buffer pool nearly
   every insert reads a page from disk and splits pages. Rows/s is measured as
   the table grows, step by step.
2. **One commit per row vs batched commits.** A commit waits until the redo log
   (the write-ahead log) is on disk (``innodb_flush_log_at_trx_commit=1``); a
   batch pays that once for many rows.
3. **The same reads from the buffer pool and from disk.** Point reads by
   primary key of rows the pool holds, then of rows spread over a table many
   times its size, with the pool's own counters: read requests, reads that
   went to disk, hit ratio.

On MySQL/MariaDB (``DATABASE_URL=mysql://...``) the scratch database is a
throwaway MariaDB server the lab starts itself (``mariadbd`` from the machine's
``mariadb-server``; a data directory in a temporary folder, a socket and no TCP
port, a small buffer pool, ``O_DIRECT`` so the operating system's cache does
not stand in for the pool) and stops afterwards. On SQLite it is a scratch
file: SQLite has a clustered table too (``WITHOUT ROWID`` keeps a table in
primary key order) and a commit that waits for the disk, but no buffer pool of
its own (its small page cache sits on the operating system's, which keeps the
whole file) and no counters Python can read, so experiment 3 is MySQL-only and
the first shows less there.
"""

from __future__ import annotations

import getpass
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from django.db import connection

FILLER = 200  # bytes of payload a row: about 40 rows a 16 KB page
KEYS = ("auto-increment", "random UUID (v4)", "time-ordered UUID (v7)")
STEPS = 10  # rows/s is measured over each tenth of the rows


class ScratchUnavailable(RuntimeError):
    """The scratch database cannot be started (say, no mariadbd on this machine)."""


# --- the scratch databases -------------------------------------------------------------


@dataclass
class Scratch:
    """A DB-API connection to the scratch database, and what it is."""

    engine: str  # "mysql" or "sqlite"
    conn: object
    description: str
    placeholder: str = "%s"

    def execute(self, sql: str, params=()) -> list[tuple]:
        cursor = self.conn.cursor()
        cursor.execute(sql, params)
        rows = cursor.fetchall() if cursor.description else []
        cursor.close()
        return rows

    def executemany(self, sql: str, rows: list[tuple]) -> None:
        cursor = self.conn.cursor()
        cursor.executemany(sql, rows)
        cursor.close()

    def commit(self) -> None:
        self.conn.commit()

    def status(self) -> dict[str, int]:
        """The server's counters (MySQL/MariaDB); empty on SQLite."""
        if self.engine != "mysql":
            return {}
        return {
            name: int(value)
            for name, value in self.execute("SHOW GLOBAL STATUS")
            if str(value).isdigit()
        }


MARIADB_CNF = """\
[mariadbd]
user = {user}
datadir = {datadir}
socket = {socket}
pid-file = {pid}
log-error = {log}
skip-networking = 1
skip-log-bin = 1
innodb-buffer-pool-size = {buffer_pool}
innodb-buffer-pool-load-at-startup = 0
innodb-buffer-pool-dump-at-shutdown = 0
innodb-flush-method = O_DIRECT
innodb-flush-log-at-trx-commit = 1
innodb-log-file-size = 96M
character-set-server = utf8mb4
"""


@contextmanager
def throwaway_mariadb(*, buffer_pool: str, directory: str | None = None) -> Iterator[Scratch]:
    """A MariaDB server of the lab's own: fresh data directory, socket only, stopped after."""
    mariadbd = shutil.which("mariadbd") or "/usr/sbin/mariadbd"
    install = shutil.which("mariadb-install-db")
    if not os.path.exists(mariadbd) or not install:
        raise ScratchUnavailable(
            "disk_lab on MySQL/MariaDB starts a throwaway MariaDB server and needs mariadbd and "
            "mariadb-install-db (Debian's mariadb-server; make cluster-deps installs it)."
        )
    import MySQLdb  # the driver Django's MySQL backend uses

    root = Path(tempfile.mkdtemp(prefix="disk-lab-", dir=directory))
    cnf = root / "my.cnf"
    paths = {
        "datadir": root / "data",
        "socket": root / "mariadb.sock",
        "pid": root / "mariadbd.pid",
        "log": root / "error.log",
    }
    cnf.write_text(MARIADB_CNF.format(user=getpass.getuser(), buffer_pool=buffer_pool, **paths))
    server = None
    try:
        installed = subprocess.run(  # noqa: S603 - the machine's own installer, our arguments
            [
                install,
                f"--defaults-file={cnf}",
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
            ],
            capture_output=True,
            timeout=120,
        )
        if installed.returncode:
            raise ScratchUnavailable(
                f"mariadb-install-db failed: {_tail(paths['log']) or installed.stderr[-800:]}"
            )
        server = subprocess.Popen(  # noqa: S603 - the machine's mariadbd, our config
            [mariadbd, f"--defaults-file={cnf}"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        conn = None
        deadline = time.monotonic() + 60
        while conn is None:
            try:
                conn = MySQLdb.connect(unix_socket=str(paths["socket"]), user="root")
            except MySQLdb.OperationalError:
                if server.poll() is not None or time.monotonic() > deadline:
                    log = (
                        paths["log"].read_text(errors="replace")[-800:]
                        if paths["log"].exists()
                        else ""
                    )
                    raise ScratchUnavailable(
                        f"the throwaway MariaDB did not start: {log}"
                    ) from None
                time.sleep(0.2)
        conn.autocommit(False)
        scratch = Scratch("mysql", conn, "")
        scratch.execute("CREATE DATABASE lab")
        scratch.execute("USE lab")
        (version,) = scratch.execute("SELECT VERSION()")[0]
        scratch.description = (
            f"a throwaway MariaDB {version} (innodb_buffer_pool_size={buffer_pool}, "
            "innodb_flush_method=O_DIRECT, innodb_flush_log_at_trx_commit=1)"
        )
        try:
            yield scratch
        finally:
            conn.close()
    finally:
        if server is not None:
            server.send_signal(signal.SIGTERM)  # a clean shutdown of the server we started
            try:
                server.wait(timeout=60)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        shutil.rmtree(root, ignore_errors=True)


def _tail(log: Path) -> str:
    """The server's last error lines (say, a buffer pool under InnoDB's 6 MiB minimum)."""
    if not log.exists():
        return ""
    errors = [line for line in log.read_text(errors="replace").splitlines() if "ERROR" in line]
    return " ".join(errors[-4:])


@contextmanager
def scratch_sqlite(*, cache_kib: int, directory: str | None = None) -> Iterator[Scratch]:
    """A scratch SQLite file with a small page cache, full sync on commit; removed after."""
    root = Path(tempfile.mkdtemp(prefix="disk-lab-", dir=directory))
    try:
        conn = sqlite3.connect(root / "lab-db.sqlite3", isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute(f"PRAGMA cache_size=-{cache_kib}")
        scratch = Scratch("sqlite", _SqliteTransactions(conn), "", placeholder="?")
        scratch.description = (
            f"a scratch SQLite {sqlite3.sqlite_version} file (cache_size {cache_kib} KiB, "
            "journal_mode=WAL, synchronous=FULL)"
        )
        try:
            yield scratch
        finally:
            conn.close()
    finally:
        shutil.rmtree(root, ignore_errors=True)


class _SqliteTransactions:
    """sqlite3 in autocommit mode, with an explicit BEGIN before the first write."""

    def __init__(self, conn):
        self.raw, self.open = conn, False

    def cursor(self):
        if not self.open:
            self.raw.execute("BEGIN")
            self.open = True
        return self.raw.cursor()

    def commit(self):
        if self.open:
            self.raw.execute("COMMIT")
            self.open = False


@contextmanager
def scratch(*, buffer_pool: str = "16M", directory: str | None = None) -> Iterator[Scratch]:
    """The scratch database for the project's engine."""
    if connection.vendor == "mysql":
        with throwaway_mariadb(buffer_pool=buffer_pool, directory=directory) as db:
            yield db
    else:
        with scratch_sqlite(cache_kib=_kib(buffer_pool), directory=directory) as db:
            yield db


def _kib(size: str) -> int:
    units = {"K": 1, "M": 1024, "G": 1024 * 1024}
    size = size.strip().upper()
    if size[-1] in units:
        return int(size[:-1]) * units[size[-1]]
    return max(1, int(size) // 1024)


# --- 1. insert order -----------------------------------------------------------------------


def uuid4_bytes(rng: random.Random) -> bytes:
    return rng.getrandbits(128).to_bytes(16, "big")


class Uuid7:
    """Time-ordered UUIDs (RFC 9562 version 7): 48 bits of milliseconds, then a counter
    and random bits, so ids made later sort later."""

    def __init__(self, rng: random.Random):
        self.rng, self.last_ms, self.seq = rng, 0, 0

    def __call__(self) -> bytes:
        ms = time.time_ns() // 1_000_000
        self.seq = self.seq + 1 if ms == self.last_ms else 0
        self.last_ms = ms
        value = (ms << 80) | (0x7 << 76) | ((self.seq & 0xFFF) << 64) | self.rng.getrandbits(62)
        return value.to_bytes(16, "big")


def _create(db: Scratch, table: str, key: str) -> None:
    db.execute(f"DROP TABLE IF EXISTS {table}")
    if db.engine == "mysql":
        pk = (
            "id BIGINT AUTO_INCREMENT PRIMARY KEY"
            if key == KEYS[0]
            else "id BINARY(16) PRIMARY KEY"
        )
        db.execute(f"CREATE TABLE {table} ({pk}, filler CHAR({FILLER}) NOT NULL) ENGINE=InnoDB")
    elif key == KEYS[0]:
        db.execute(f"CREATE TABLE {table} (id INTEGER PRIMARY KEY, filler CHAR({FILLER}) NOT NULL)")
    else:
        db.execute(
            f"CREATE TABLE {table} (id BLOB PRIMARY KEY, filler CHAR({FILLER}) NOT NULL) "
            "WITHOUT ROWID"  # clustered on the key, as InnoDB is
        )
    db.commit()


@dataclass(frozen=True)
class Step:
    key: str
    rows: int  # rows in the table after the step
    rows_per_s: float
    disk_reads: int | None  # buffer pool reads from disk during the step (MySQL)
    size_mb: float  # rows x their size, as the table grows past the pool


def insert_order(
    db: Scratch, *, rows: int, batch: int, on_step: Callable[[str], None] | None = None
) -> list[Step]:
    """Each key kind: ``rows`` rows in batches of ``batch`` a commit, timed a tenth at a time."""
    results = []
    filler = "x" * FILLER
    step_rows = max(batch, rows // STEPS)
    for n, key in enumerate(KEYS):
        rng = random.Random(n)
        table = f"order_{n}"
        _create(db, table, key)
        make = None if n == 0 else (lambda r=rng: uuid4_bytes(r)) if n == 1 else Uuid7(rng)
        p = db.placeholder
        sql = (
            f"INSERT INTO {table} (filler) VALUES ({p})"  # noqa: S608 - the lab's own table
            if make is None
            else f"INSERT INTO {table} (id, filler) VALUES ({p}, {p})"  # noqa: S608
        )
        done = 0
        while done < rows:
            if on_step:
                on_step(f"insert order, {key}: {done:,} of {rows:,} rows ...")
            before, began, first = db.status(), time.perf_counter(), done
            target = min(rows, done + step_rows)
            while done < target:
                size = min(batch, target - done)
                db.executemany(
                    sql, [(filler,) if make is None else (make(), filler) for _ in range(size)]
                )
                db.commit()
                done += size
            seconds = time.perf_counter() - began
            results.append(
                Step(
                    key,
                    done,
                    (done - first) / seconds if seconds else 0.0,
                    _delta(before, db.status(), "Innodb_buffer_pool_reads"),
                    done * (FILLER + 24) / 1e6,
                )
            )
        if n:  # the auto-increment table stays for the reads
            db.execute(f"DROP TABLE {table}")
            db.commit()
    return results


def _delta(before: dict[str, int], after: dict[str, int], name: str) -> int | None:
    if name not in before or name not in after:
        return None
    return after[name] - before[name]


# --- 2. commits ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Commits:
    rows_per_commit: int
    rows: int
    rows_per_s: float
    log_syncs: int | None  # redo log fsyncs during the run (MySQL)


LOG_SYNCS = ("Innodb_os_log_fsyncs", "Innodb_data_fsyncs")


def commits(db: Scratch, *, rows: int, sizes: list[int]) -> list[Commits]:
    """The same ``rows`` rows with a commit every 1, 10, 100 ... rows."""
    results = []
    filler = "x" * FILLER
    p = db.placeholder
    for size in sizes:
        _create(db, "commits", KEYS[0])
        before = db.status()
        began = time.perf_counter()
        done = 0
        while done < rows:
            n = min(size, rows - done)
            insert = f"INSERT INTO commits (filler) VALUES ({p})"  # noqa: S608
            if n == 1:
                db.execute(insert, (filler,))
            else:
                db.executemany(insert, [(filler,)] * n)
            db.commit()
            done += n
        seconds = time.perf_counter() - began
        after = db.status()
        syncs = next((_delta(before, after, name) for name in LOG_SYNCS if name in after), None)
        results.append(Commits(size, rows, rows / seconds if seconds else 0.0, syncs))
    db.execute("DROP TABLE commits")
    db.commit()
    return results


# --- 3. reads: the buffer pool and the disk ----------------------------------------------------


@dataclass(frozen=True)
class Reads:
    name: str
    reads: int
    reads_per_s: float
    requests: int  # Innodb_buffer_pool_read_requests: pages asked of the pool
    from_disk: int  # Innodb_buffer_pool_reads: pages the pool had to read from disk

    @property
    def hit_ratio(self) -> float:
        return 1 - self.from_disk / self.requests if self.requests else 0.0


def reads(db: Scratch, *, table_rows: int, hot_rows: int, count: int) -> list[Reads]:
    """Point reads by primary key: within the newest ``hot_rows`` (in the pool), then anywhere.

    Reads the table ``order_0`` that ``insert_order`` left (auto-increment ids
    1..table_rows), newest rows last written, so they are the ones the pool holds.
    """
    rng = random.Random(7)
    select = f"SELECT filler FROM order_0 WHERE id = {db.placeholder}"  # noqa: S608
    hot = [rng.randint(table_rows - hot_rows + 1, table_rows) for _ in range(count)]
    spread = [rng.randint(1, table_rows) for _ in range(count)]
    results = []
    for name, ids in [
        (f"the newest {hot_rows:,} rows (in the buffer pool)", hot),
        (f"anywhere in {table_rows:,} rows (mostly on disk)", spread),
    ]:
        if name.startswith("the newest"):
            for row_id in ids:  # warm: bring the hot pages in first
                db.execute(select, (row_id,))
        before = db.status()
        began = time.perf_counter()
        for row_id in ids:
            db.execute(select, (row_id,))
        seconds = time.perf_counter() - began
        after = db.status()
        db.commit()
        results.append(
            Reads(
                name,
                count,
                count / seconds if seconds else 0.0,
                _delta(before, after, "Innodb_buffer_pool_read_requests") or 0,
                _delta(before, after, "Innodb_buffer_pool_reads") or 0,
            )
        )
    return results


@dataclass
class Report:
    description: str
    steps: list[Step] = field(default_factory=list)
    commits: list[Commits] = field(default_factory=list)
    reads: list[Reads] = field(default_factory=list)


def run(
    *,
    rows: int,
    batch: int,
    commit_rows: int,
    commit_sizes: list[int],
    point_reads: int,
    buffer_pool: str,
    directory: str | None = None,
    on_step: Callable[[str], None] | None = None,
) -> Report:
    with scratch(buffer_pool=buffer_pool, directory=directory) as db:
        report = Report(db.description)
        report.steps = insert_order(db, rows=rows, batch=batch, on_step=on_step)
        if on_step:
            on_step("one commit per row, then batched ...")
        report.commits = commits(db, rows=commit_rows, sizes=commit_sizes)
        if db.engine == "mysql":
            if on_step:
                on_step("point reads from the buffer pool, then from disk ...")
            hot = max(1, min(rows // 20, _pool_rows(buffer_pool) // 4))
            report.reads = reads(db, table_rows=rows, hot_rows=hot, count=point_reads)
    return report


def _pool_rows(buffer_pool: str) -> int:
    return _kib(buffer_pool) * 1024 // (FILLER + 24)
