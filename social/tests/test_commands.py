"""seed_demo: the demo community, consistent in every derived table, made once."""

from io import StringIO

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_seed_demo_builds_consistent_follows_likes_and_feeds():
    run("seed_demo")
    assert "All 7 feeds match" in run("rebuild_feeds", "--check")
    assert "equal GROUP BY" in run("rebuild_like_counts", "--check")
    assert "equal GROUP BY" in run("rebuild_follow_counts", "--check")
    assert "already there" in run("seed_demo")
