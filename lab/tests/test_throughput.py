"""make throughput's parts that run without a server: reading wrk, refusing bad arguments."""

import subprocess

import pytest
from django.core.management import CommandError, call_command

from follows import services as follows
from lab import throughput
from members.tests.mothers import a_member

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


def test_wrk_output_is_read(monkeypatch, tmp_path):
    script = tmp_path / "cookies.lua"

    def fake_run(command, **kwargs):
        assert command[:3] == ["wrk", "-s", str(script)]
        return subprocess.CompletedProcess(command, 0, stdout=WRK_OUTPUT)

    monkeypatch.setattr(throughput.subprocess, "run", fake_run)
    rate, p50, p99, errors = throughput.wrk(
        "http://x/", seconds=1, connections=1, threads=1, script=script
    )
    assert (rate, p50, p99, errors) == (2543.62, 4.88, pytest.approx(0.0349), 6)


def test_each_request_carries_the_next_members_cookie(tmp_path):
    script = throughput._cookie_script(["sessionid=a", "sessionid=b"], tmp_path).read_text()
    assert '"sessionid=a",\n  "sessionid=b"' in script
    assert "n = n % #cookies + 1" in script  # round robin, wrapping after the last


@pytest.mark.django_db
def test_the_runs_members_are_made_once_and_follow_the_author():
    author = a_member()
    first = throughput.run_members(3, author)
    again = throughput.run_members(3, author)
    assert [m.pk for m in first] == [m.pk for m in again]
    assert all(follows.is_following(follower_id=m.pk, followee_id=author.pk) for m in first)


@pytest.mark.parametrize("args", [["--seconds", "0"], ["--connections", "-1"], ["--members", "0"]])
def test_bad_arguments_are_refused(args):
    with pytest.raises(CommandError, match="must be positive"):
        call_command("throughput", *args)


@pytest.mark.django_db
def test_no_posts_is_said_plainly(monkeypatch):
    monkeypatch.setattr(throughput.shutil, "which", lambda name: "/usr/bin/wrk")
    with pytest.raises(CommandError, match="No posts to measure"):
        call_command("throughput", "--seconds", "1")
