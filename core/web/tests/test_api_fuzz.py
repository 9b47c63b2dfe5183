"""Schemathesis against the running app: every operation of /api/schema, fed what its
document allows and what it does not (examples, coverage and fuzzing phases), logged out
and logged in. Every answer must be no server error, a status, content type and body the
document names. Bounded: a fixed number of cases per operation, a seed, a time limit."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from likes import services as likes
from social.tests.mothers import a_member, follow, publish

pytestmark = pytest.mark.django_db(transaction=True)

SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
    ]
)
CASES = int(os.environ.get("API_FUZZ_CASES", "20"))  # per operation and phase
BOUND = 150  # seconds for one run; it takes a fraction of that


@pytest.fixture
def community():
    """A few members who follow, post and like, so that pages have something on them."""
    kim, lee, park = (a_member(nickname=n) for n in ("김", "lee", "park ✨"))
    follow(kim, lee)
    follow(park, kim)
    for i in range(5):
        for author in (kim, lee):
            post = publish(author, f"{author.nickname} {i}: 안녕하세요 <b>hi</b>")
            likes.like_add(member_id=park.pk, post_id=post.pk)
    return kim


def fuzz(url: str, *headers: str) -> subprocess.CompletedProcess:
    command = [
        str(SCHEMATHESIS),
        "run",
        f"{url}/api/schema",
        "--phases=examples,coverage,fuzzing",
        f"--checks={CHECKS}",
        f"--max-examples={CASES}",
        "--seed=20",
        "--workers=2",
        "--request-timeout=10",
        "--no-color",
        "--generation-database=none",  # nothing written into the work tree
        *(arg for header in headers for arg in ("-H", header)),
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=BOUND, check=False)


def passed(run: subprocess.CompletedProcess) -> int:
    """How many cases ran, all of them passing (the run's exit code is its verdict)."""
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    found = re.search(r"(\d+) generated, (\d+) passed", run.stdout)
    assert found, run.stdout[-3000:]
    assert found.group(1) == found.group(2), run.stdout[-3000:]
    return int(found.group(1))


def test_logged_out(live_server, community):
    run = fuzz(live_server.url)
    assert passed(run) > 8 * CASES
    # The member's own endpoints answer a visitor 401, as documented, and nothing else.
    assert "2 operations returned only 401/403 responses" in run.stdout


def test_logged_in(live_server, community, client):
    client.force_login(community)
    run = fuzz(live_server.url, f"Cookie: sessionid={client.cookies['sessionid'].value}")
    assert passed(run) > 8 * CASES
    assert "Authentication failed" not in run.stdout  # the session reached /api/me/...
