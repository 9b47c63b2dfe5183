"""`make load`: the same load against one server and against the cluster, in one run.

    python loadtest/compare.py [--seconds 60] [--users 20]

One server is what `make serve` starts: gunicorn (config/gunicorn.py, its three
worker processes, the page cache in a shared directory) on 127.0.0.1:8000, over the
cluster's primary database, with no replica and no Redis. The cluster is nginx on
127.0.0.1:8080 in front of its app servers, with the replica and Redis. Locust
(loadtest/locustfile.py) runs the same mix against each in turn; the table gives
requests/s, p50, p95, p99, the failures and the page cache's hit ratio.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from deploy import cluster  # noqa: E402

SERVE_PORT = 8000 + cluster.OFFSET
SERVE_HOST = cluster.host_of("app-1")  # one server stands where the app servers do
# What the cluster has and one server does not.
CLUSTER_ONLY = ("REPLICA_URL", "CACHE_URL", "LOCAL_CACHE_SECONDS", "PROMETHEUS_MULTIPROC_DIR")


def serve_env() -> dict[str, str]:
    env = {**os.environ, **cluster.environment()}
    for name in CLUSTER_ONLY:
        env.pop(name, None)
    env.update({"BIND": f"{SERVE_HOST}:{SERVE_PORT}", "WEB_CONCURRENCY": "3"})
    return env


def locust(host: str, *, seconds: int, users: int, workdir: Path) -> dict:
    prefix = workdir / host.rsplit(":", 1)[1]
    stats_file = workdir / "page-cache.json"
    subprocess.run(
        [
            str(cluster.VENV_BIN / "locust"),
            "-f",
            str(ROOT / "loadtest" / "locustfile.py"),
            "--headless",
            "--host",
            host,
            "--users",
            str(users),
            "--spawn-rate",
            str(users),
            "--run-time",
            f"{seconds}s",
            "--only-summary",
            "--csv",
            str(prefix),
            "--loglevel",
            "ERROR",
        ],
        env={**os.environ, "PAGE_CACHE_STATS": str(stats_file)},
        check=False,
        capture_output=True,
    )
    with open(f"{prefix}_stats.csv") as f:
        rows = list(csv.DictReader(f))
    total = next(row for row in rows if row["Name"] == "Aggregated")
    pages = {
        f"{row['Type']} {row['Name']}": float(row["50%"])
        for row in rows
        if row["Name"] != "Aggregated"
    }
    cache = json.loads(stats_file.read_text()) if stats_file.exists() else {}
    cacheable = cache.get("hit", 0) + cache.get("miss", 0)
    return {
        "requests": int(total["Request Count"]),
        "rps": float(total["Requests/s"]),
        "p50": float(total["50%"]),
        "p95": float(total["95%"]),
        "p99": float(total["99%"]),
        "failures": int(total["Failure Count"]),
        "hit_ratio": cache.get("hit", 0) / cacheable if cacheable else 0.0,
        "pages": pages,  # each page's p50, ms
    }


def wait_ok(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not answer")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=60, help="per target")
    parser.add_argument("--users", type=int, default=20, help="locust users (no think time)")
    parser.add_argument("--json", type=Path, help="also write the rows here")
    args = parser.parse_args(argv)
    if args.seconds < 1 or args.users < 1:
        parser.error("--seconds and --users must be at least 1")
    nginx = cluster.url_of("nginx")
    if not cluster.running("nginx"):
        raise SystemExit("The cluster is not running: make cluster")
    server = subprocess.Popen(
        [str(cluster.VENV_BIN / "gunicorn"), "-c", "config/gunicorn.py", "config.wsgi"],
        cwd=ROOT,
        env=serve_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    rows = {}
    try:
        wait_ok(f"http://{SERVE_HOST}:{SERVE_PORT}/healthz")
        with tempfile.TemporaryDirectory() as workdir:
            for label, host in (
                ("make serve", f"http://{SERVE_HOST}:{SERVE_PORT}"),
                ("make cluster", nginx),
            ):
                print(f"{label}: {args.users} users for {args.seconds} s ...", flush=True)
                rows[label] = locust(
                    host, seconds=args.seconds, users=args.users, workdir=Path(workdir)
                )
    finally:
        server.terminate()
        server.wait(timeout=30)
    heads = ("requests", "req/s", "p50 ms", "p95 ms", "p99 ms", "failures", "cache hits")
    print(f"\n{'target':<14}" + "".join(f"{h:>11}" for h in heads))
    for label, r in rows.items():
        print(
            f"{label:<14}{r['requests']:>11,}{r['rps']:>11.1f}{r['p50']:>11.0f}{r['p95']:>11.0f}"
            f"{r['p99']:>11.0f}{r['failures']:>11}{r['hit_ratio']:>11.0%}"
        )
    print(f"\n{'page (p50 ms)':<36}" + "".join(f"{label:>14}" for label in rows))
    for page in sorted(rows["make cluster"]["pages"]):
        p50s = [r["pages"].get(page) for r in rows.values()]
        print(f"{page:<36}" + "".join(f"{p:>14.0f}" if p else f"{'-':>14}" for p in p50s))
    ratio = rows["make cluster"]["rps"] / rows["make serve"]["rps"]
    print(f"\nthe cluster: {ratio:.2f}x the requests/s of one server")
    if args.json:
        args.json.write_text(json.dumps({**rows, "ratio": ratio}, indent=2))
    return 1 if any(r["failures"] for r in rows.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
