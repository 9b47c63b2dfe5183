"""make throughput's parts that run without a server: reading wrk, refusing bad arguments."""

import subprocess

import pytest
from django.core.management import CommandError, call_command

from lab import throughput

WRK_OUTPUT = """Running 10s test @ http://127.0.0.1:8000/posts/
  2 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     6.20ms    5.01ms  79.97ms   88.02%
    Req/Sec     1.29k   140.51     1.62k    72.00%
  Latency Distribution
     50%    4.88ms
     75%    7.01ms
     90%   11.33ms
     99%   34.90us
  25634 requests in 10.08s, 254.79MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 3
Requests/sec:   2543.62
Transfer/sec:     25.28MB
"""


def test_wrk_output_is_read(monkeypatch):
    def fake_run(command, **kwargs):
        assert command[:2] == ["wrk", "-H"]
        assert "Cookie: sessionid=abc" in command
        return subprocess.CompletedProcess(command, 0, stdout=WRK_OUTPUT)

    monkeypatch.setattr(throughput.subprocess, "run", fake_run)
    rate, p50, p99, errors = throughput.wrk(
        "http://x/", seconds=1, connections=1, threads=1, cookie="sessionid=abc"
    )
    assert (rate, p50, p99, errors) == (2543.62, 4.88, pytest.approx(0.0349), 6)


@pytest.mark.parametrize("args", [["--seconds", "0"], ["--connections", "-1"]])
def test_bad_arguments_are_refused(args):
    with pytest.raises(CommandError, match="must be positive"):
        call_command("throughput", *args)


@pytest.mark.django_db
def test_no_posts_is_said_plainly(monkeypatch):
    monkeypatch.setattr(throughput.shutil, "which", lambda name: "/usr/bin/wrk")
    with pytest.raises(CommandError, match="No posts to measure"):
        call_command("throughput", "--seconds", "1")
