"""The new labs on small data: every path agrees, the JSON has its rows, the chart is an SVG."""

import json
from datetime import date

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import connection

from lab import charts, disk_lab, index_lab, paging_lab, pitfalls, seeding
from lab.management.commands import lab_report
from lab.tests.svg import assert_svg
from posts.models import Post
from posts.tests.mothers import a_member, posts_on_days

# CREATE/DROP INDEX commits on MySQL, and the likers' threads see committed rows only.
pytestmark = pytest.mark.django_db(transaction=True)


def read(path):
    return json.loads(path.read_text())


class TestCharts:
    def test_bars_and_lines_are_svg_with_their_labels_and_the_same_bytes_each_time(self, tmp_path):
        def draw(n):
            charts.bars(
                tmp_path / f"b{n}.svg",
                title="paths",
                labels=["no index", "composite"],
                series={"before": [120.0, 3.0], "after": [1.5, None]},
                unit="ms",
                log=True,
            )
            charts.lines(
                tmp_path / f"l{n}.svg",
                title="depth",
                series={"OFFSET": [(1_000, 1.0), (100_000, 90.0)], "keyset": [(1_000, 0.1)]},
                xlabel="depth",
                ylabel="ms",
                logx=True,
                logy=True,
            )

        draw(1)
        draw(2)
        assert_svg(tmp_path / "b1.svg", contains=("no index", "composite", "before", "after"))
        assert_svg(tmp_path / "l1.svg", contains=("OFFSET", "keyset", "depth"))
        assert (tmp_path / "b1.svg").read_bytes() == (tmp_path / "b2.svg").read_bytes()
        assert (tmp_path / "l1.svg").read_bytes() == (tmp_path / "l2.svg").read_bytes()


def notes_shape() -> tuple[int, int]:
    """A member with posts over 1900..2025 beside another's, and one with a few."""
    big, other, few = (a_member().pk for _ in range(3))
    for member, count in ((big, 3_000), (other, 1_000), (few, 5)):
        seeding.posts_seed(
            member_id=member, count=count, start=date(1900, 1, 1), end=date(2025, 3, 1)
        )
    return big, few


class TestIndexLab:
    def test_the_paths_write_their_rows_and_a_chart(self, tmp_path, capsys):
        member = a_member()
        posts_on_days(member, {date(2025, 1, d): d for d in range(1, 5)})
        call_command(
            "index_lab",
            "--member",
            str(member.pk),
            "--start",
            "2025-01-01",
            "--end",
            "2025-01-31",
            "--repeat",
            "1",
            "--json",
            str(tmp_path / "i.json"),
            "--chart",
            str(tmp_path / "i.svg"),
        )
        rows = read(tmp_path / "i.json")["rows"]
        assert [r["path"] for r in rows] == [p.name for p in index_lab.PATHS]
        assert {(r["posts"], r["days"]) for r in rows} == {(10, 4)}
        assert_svg(tmp_path / "i.svg", contains=("DailyPostCount",))
        if connection.vendor == "sqlite":
            assert "On SQLite the ranking differs" in capsys.readouterr().out

    def test_the_pitfalls_agree_before_and_after_and_leave_nothing_behind(self, tmp_path):
        big, few = notes_shape()
        posts_before = Post.objects.count()

        call_command(
            "index_lab",
            "--pitfalls",
            "--member",
            str(big),
            "--repeat",
            "1",
            "--json",
            str(tmp_path / "p.json"),
            "--chart",
            str(tmp_path / "p.svg"),
        )

        document = read(tmp_path / "p.json")
        assert document["params"]["or_member"] == few
        by_pitfall = {}
        for row in document["rows"]:
            by_pitfall.setdefault(row["pitfall"], []).append(row)
            assert row["plan"]
        assert list(by_pitfall) == ["function", "type", "leading", "or"]
        for rows in by_pitfall.values():
            assert len({r["posts"] for r in rows}) == 1, rows  # every variant counts the same
            assert rows[0]["fixed"] is False
            assert rows[-1]["fixed"] is True
        assert by_pitfall["type"][0]["posts"] == pitfalls.NUMBER_POSTS
        assert by_pitfall["or"][0]["posts"] >= 5  # at least the few member's posts
        assert_svg(tmp_path / "p.svg", contains=("index merge",))
        for name, _ in pitfalls.lab_indexes():
            assert not index_lab.index_exists(name)
        assert Post.objects.count() == posts_before  # the numeric posts went again

    @pytest.mark.mysql
    def test_on_mariadb_the_before_plans_scan_and_the_after_plans_seek(self, tmp_path):
        big, _ = notes_shape()
        call_command(
            "index_lab",
            "--pitfalls",
            "--member",
            str(big),
            "--repeat",
            "1",
            "--json",
            str(tmp_path / "p.json"),
        )
        plans = {(r["pitfall"], r["variant"]): r["plan"] for r in read(tmp_path / "p.json")["rows"]}
        assert plans[("type", f"contents = {pitfalls.NUMBER} (a number)")].startswith("ALL")
        assert plans[("type", f"contents = '{pitfalls.NUMBER}' (a string)")].startswith("ref")
        assert "index_merge" in plans[("or", "index merge")]


class TestPagingLab:
    def test_every_method_finds_the_same_page_and_the_counts_are_exact(self, tmp_path, capsys):
        member = a_member()
        seeding.posts_seed(
            member_id=member.pk, count=400, start=date(2024, 1, 1), end=date(2024, 12, 31)
        )
        call_command(
            "paging_lab",
            "--member",
            str(member.pk),
            "--depths",
            "1,50,380,1000",
            "--repeat",
            "1",
            "--json",
            str(tmp_path / "g.json"),
            "--chart",
            str(tmp_path / "g.svg"),
        )
        document = read(tmp_path / "g.json")
        rows = document["rows"]
        assert sorted({r["depth"] for r in rows}) == [1, 50, 380]  # 1000 is past the posts
        assert all(r["same"] for r in rows)
        assert {r["method"] for r in rows} == set(paging_lab.METHODS)
        exact, table, estimate = document["counts"]
        assert exact["value"] == table["value"] == 400
        assert exact["error"] == table["error"] == 0
        if connection.vendor == "mysql":
            assert estimate["value"] > 0
        else:
            assert estimate["value"] is None
            assert "ANALYZE" in estimate["note"]
        assert "depths 1,000 skipped" in capsys.readouterr().out
        assert_svg(tmp_path / "g.svg", contains=("keyset", "OFFSET"))

    def test_the_keyset_page_is_the_one_after_the_last_seen(self):
        member = a_member()
        seeding.posts_seed(
            member_id=member.pk, count=60, start=date(2024, 1, 1), end=date(2024, 1, 9)
        )
        [offset, deferred, keyset] = paging_lab.measure_pages(
            member_id=member.pk, depths=[25], repeat=1
        )
        newest_first = list(
            Post.objects.filter(member_id=member.pk).order_by("-id").values_list("id", flat=True)
        )
        assert offset.ids == deferred.ids == keyset.ids == newest_first[25:45]

    @pytest.mark.parametrize(
        ("args", "message"),
        [
            (["--depths", "0"], "at least 1"),
            (["--depths", "x"], "not a comma-separated"),
            (["--repeat", "0"], "at least 1"),
            (["--member", "999999"], "No member"),
        ],
    )
    def test_bad_arguments(self, args, message):
        member = a_member()
        with pytest.raises(CommandError, match=message):
            call_command("paging_lab", "--member", str(member.pk), *args)


class TestDiskLab:
    def test_every_key_grows_the_table_and_batches_beat_single_commits(self, tmp_path):
        call_command(
            "disk_lab",
            "--rows",
            "3000",
            "--batch",
            "100",
            "--commit-rows",
            "60",
            "--commit-sizes",
            "1,30",
            "--reads",
            "200",
            "--buffer-pool",
            "8M",
            "--dir",
            str(tmp_path),
            "--json",
            str(tmp_path / "d.json"),
            "--chart",
            str(tmp_path / "d.svg"),
        )
        document = read(tmp_path / "d.json")
        for key in disk_lab.KEYS:
            steps = [r for r in document["rows"] if r["key"] == key]
            assert [s["rows"] for s in steps] == list(range(300, 3001, 300))
            assert all(s["rows_per_s"] > 0 for s in steps)
        assert [c["rows_per_commit"] for c in document["commits"]] == [1, 30]
        if connection.vendor == "mysql":
            assert "throwaway MariaDB" in document["scratch"]
            one, batched = document["commits"]
            assert one["log_syncs"] > batched["log_syncs"]  # one log write per commit
            hot, spread = document["reads"]
            assert hot["requests"] > 0
            assert hot["hit_ratio"] >= spread["hit_ratio"]
        else:
            assert document["reads"] == []
        assert_svg(tmp_path / "d.svg", contains=("random UUID (v4)",))
        assert [p.name for p in tmp_path.iterdir() if p.name.startswith("disk-lab-")] == []

    @pytest.mark.mysql
    def test_a_server_that_cannot_start_says_why(self, tmp_path):
        with pytest.raises(CommandError, match="innodb_buffer_pool_size >= 6 MiB"):
            call_command("disk_lab", "--rows", "10", "--buffer-pool", "5M", "--dir", str(tmp_path))
        assert list(tmp_path.iterdir()) == []

    def test_time_ordered_uuids_sort_in_the_order_they_were_made(self):
        import random

        make = disk_lab.Uuid7(random.Random(1))
        made = [make() for _ in range(2_000)]
        assert made == sorted(made)
        assert len(set(made)) == len(made)


def test_the_report_runs_each_lab_and_removes_its_members(tmp_path, monkeypatch):
    tiny = lab_report.Size(
        big=600,
        other=200,
        small=5,
        repeat=1,
        depths="10,100",
        disk_rows=500,
        like=(2, 2),
        feed=[],
    )
    monkeypatch.setitem(lab_report.SIZES, "small", tiny)
    members_before = get_user_model().objects.count()

    call_command(
        "lab_report",
        "--out",
        str(tmp_path),
        "--only",
        "index_lab,paging_lab,like_lab",
        stdout=open("/dev/null", "w"),  # noqa: SIM115
    )

    readme = (tmp_path / "README.md").read_text()
    for name in ("index_lab", "paging_lab", "like_lab"):
        assert f"]({name}.svg)" in readme
        assert_svg(tmp_path / f"{name}.svg")
    assert "manage.py paging_lab --member" in readme
    assert "The lab stopped" not in readme
    assert get_user_model().objects.count() == members_before
    assert not Post.objects.exists()
