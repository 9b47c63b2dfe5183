"""The cluster's own settings fail fast with a message, before anything starts."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("CLUSTER_APPS", "0"),
        ("CLUSTER_APPS", "three"),
        ("CLUSTER_WORKERS", "-1"),
        ("CLUSTER_PORT_OFFSET", "1.5"),
    ],
)
def test_a_bad_count_or_offset_is_refused_with_its_name(name, value, tmp_path):
    result = subprocess.run(
        [sys.executable, "deploy/cluster.py", "status"],
        cwd=ROOT,
        env={**os.environ, "CLUSTER_DIR": str(tmp_path), name: value},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 1
    assert f"{name} must be a whole number" in result.stderr
    assert "Traceback" not in result.stderr
    assert not list(tmp_path.iterdir())  # nothing written


@pytest.mark.parametrize(("workers", "each"), [("1", "4/s"), ("2", "2/s"), ("5", "1/s")])
def test_the_workers_together_send_under_the_providers_limit(workers, each, tmp_path):
    show = (
        "import sys; sys.path.insert(0, 'deploy'); import cluster; e = cluster.environment(); "
        "print(e['MAIL_PROVIDER_RATE'], e['MAIL_RATE_LIMIT'], cluster.SMTP_MAX_PER_SECOND)"
    )
    result = subprocess.run(
        [sys.executable, "-c", show],
        cwd=ROOT,
        env={**os.environ, "CLUSTER_DIR": str(tmp_path), "CLUSTER_WORKERS": workers},
        capture_output=True,
        text=True,
        timeout=30,
    )
    paced, per_worker, provider = result.stdout.split()
    assert float(paced) < int(provider)  # the shared pace, with a margin, whatever the workers
    assert per_worker == each  # each worker's share of it (Celery's limit is per worker)
