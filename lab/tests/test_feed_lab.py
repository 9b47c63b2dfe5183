"""The feed lab: its tables' shapes and correctness columns (figures belong to the runs)."""

import json

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from feeds.models import FanoutJob, FeedEntry
from follows.models import Follow
from lab import feed_lab
from lab.tests.svg import assert_svg
from posts.models import Post

# Transactions commit for real: post_publish hands its job over after the commit.
pytestmark = pytest.mark.django_db(transaction=True)


def nothing_left() -> bool:
    return not (
        get_user_model().objects.exists()
        or Post.objects.exists()
        or Follow.objects.exists()
        or FeedEntry.objects.exists()
        or FanoutJob.objects.exists()
    )


def test_reads_every_strategy_at_every_size_and_all_find_the_same_posts():
    made = feed_lab.Made()
    readers = feed_lab.readers_build(followings=[2, 5], made=made, crowd_posts=50)

    reads = feed_lab.measure_reads(readers=readers, repeat=1)

    assert [(r.followings, r.strategy) for r in reads] == [
        (size, name) for size in (2, 5) for name, _ in feed_lab.STRATEGIES
    ]
    assert all(r.same for r in reads), reads
    for r in reads:
        assert len(r.post_ids) == min(feed_lab.PAGE_SIZE, r.followings * feed_lab.POSTS_PER_AUTHOR)
        assert r.median_ms > 0
        assert r.queries >= 1
        assert r.plans, r  # each reads the posts or the feed table
        tables = {p.table for p in r.plans}
        if r.strategy.startswith("pull"):
            assert tables == {Post._meta.db_table}
            assert r.pulled == r.followings
        else:
            assert FeedEntry._meta.db_table in tables
    hybrid = [r for r in reads if r.strategy.startswith("hybrid")]
    assert [r.pulled for r in hybrid] == [1, 1]  # one in a hundred, at least one

    feed_lab.clean_up(made)
    assert nothing_left()


def test_writes_reach_every_follower_once_and_the_write_stays_constant_work():
    made = feed_lab.Made()

    writes = feed_lab.measure_writes(followers=[3, 10], repeat=2, made=made)

    assert [w.followers for w in writes] == [0, 3, 10]
    assert writes[0].fanout_s is None
    assert writes[0].reached is None
    for w in writes[1:]:
        assert w.reached is True, w
        assert w.fanout_s > 0
        assert w.rows_per_s > 0
        assert w.pulled_by_default is False
    assert all(w.write_ms > 0 for w in writes)
    assert not FanoutJob.objects.filter(done_at__isnull=True).exists()

    feed_lab.clean_up(made)
    assert nothing_left()


def test_an_audience_over_the_limit_is_fanned_out_with_the_limit_raised(settings):
    settings.FEED_FANOUT_LIMIT = 5
    made = feed_lab.Made()

    [_, w] = feed_lab.measure_writes(followers=[8], repeat=1, made=made)

    assert (w.followers, w.limit, w.pulled_by_default, w.reached) == (8, 8, True, True)
    feed_lab.clean_up(made)


def test_the_command_prints_both_tables_and_removes_its_members(capsys, tmp_path):
    call_command(
        "feed_lab",
        "--json",
        str(tmp_path / "feed.json"),
        "--chart",
        str(tmp_path / "feed.svg"),
        "--followings",
        "2,5",
        "--followers",
        "3,10",
        "--crowd-posts",
        "50",
        "--repeat",
        "1",
    )

    out = capsys.readouterr().out
    assert "each followed author with 5 posts among 50 by others" in out
    for name, _ in feed_lab.STRATEGIES:
        assert name in out
    assert "Their reads of the posts and feed tables:" in out
    assert "in every feed once" in out
    assert " NO" not in out
    assert "no followers, same round ms" in out
    assert nothing_left()
    document = json.loads((tmp_path / "feed.json").read_text())
    assert {(r["followings"], r["same"]) for r in document["rows"]} == {(2, True), (5, True)}
    assert [w["followers"] for w in document["writes"]] == [0, 3, 10]
    assert_svg(tmp_path / "feed.svg")


def test_max_followers_caps_the_audiences(capsys):
    call_command(
        "feed_lab",
        "--followings",
        "2",
        "--followers",
        "3,10",
        "--max-followers",
        "5",
        "--repeat",
        "1",
    )
    writes = capsys.readouterr().out.split("in every feed once")[1]
    assert "\n3 " in writes
    assert "\n10 " not in writes


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--followings", "a,b"], "not a comma-separated list"),
        (["--followers", "0"], "at least 1"),
        (["--repeat", "0"], "at least 1"),
        (["--crowd-posts", "-1"], "0 or more"),
    ],
)
def test_bad_arguments(args, message):
    with pytest.raises(CommandError, match=message):
        call_command("feed_lab", *args)
    assert nothing_left()


@pytest.mark.mysql
def test_the_plans_on_mariadb():
    """The feed is read by its primary key; the pull by whatever MariaDB picks, recorded."""
    made = feed_lab.Made()
    readers = feed_lab.readers_build(followings=[5, 30], made=made, crowd_posts=2_000)
    reads = feed_lab.measure_reads(readers=readers, repeat=1)
    feed_lab.clean_up(made)

    for r in reads:
        for p in r.plans:
            if p.table == FeedEntry._meta.db_table:
                assert p.plan.key == "PRIMARY", r
                assert "filesort" not in p.plan.extra.lower(), r
    pulls = [p.plan for r in reads if r.strategy.startswith("pull") for p in r.plans]
    # A posts index or worse (a scan of the table): either way, the plan is what the lab shows.
    assert len(pulls) == 2
    assert all(p.access in {"range", "ref", "index", "ALL"} for p in pulls), pulls
    print("pull plans:", pulls)
