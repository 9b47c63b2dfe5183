"""`make cluster` decides what runs from its pid files: a stale one must not fool it."""

import os
import subprocess
import time

import pytest

from deploy import cluster


@pytest.fixture
def run_dir(tmp_path, monkeypatch):
    monkeypatch.setattr(cluster, "RUN", tmp_path)
    return tmp_path


def test_a_process_started_before_its_pid_file_is_the_role_s(run_dir):
    process = subprocess.Popen(["sleep", "30"])
    try:
        cluster.pid_file("smtp").write_text(f"{process.pid}\n")
        assert cluster.running("smtp")
    finally:
        process.kill()
        process.wait()
    assert not cluster.running("smtp")


def test_a_pid_reused_after_the_file_was_written_is_not(run_dir):
    process = subprocess.Popen(["sleep", "30"])
    try:
        cluster.pid_file("smtp").write_text(f"{process.pid}\n")
        long_ago = time.time() - 3600  # as after a reboot: the file is older than the process
        os.utime(cluster.pid_file("smtp"), (long_ago, long_ago))
        assert not cluster.running("smtp")
    finally:
        process.kill()
        process.wait()


def test_a_zombie_is_not_running(run_dir):
    process = subprocess.Popen(["true"])
    time.sleep(0.5)  # exited, not yet reaped: a zombie
    cluster.pid_file("smtp").write_text(f"{process.pid}\n")
    assert not cluster.running("smtp")
    process.wait()
