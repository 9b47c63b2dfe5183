import json
from datetime import date

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from members import services as members
from posts import lab, seeding, services
from posts.models import DailyPostCount, Post, local_date
from posts.tests.mothers import a_member, posts_on_days

pytestmark = pytest.mark.django_db


def test_seed_demo_creates_a_small_community_once(capsys):
    call_command("seed_demo")
    call_command("seed_demo")

    out = capsys.readouterr().out
    assert out.count("Created the demo community: 7 members,") == 1
    assert out.count("The demo community is already there.") == 1
    demo = members.member_public_by_email(email="demo@example.com")
    assert demo is not None
    assert members.member_get(member_id=demo.id).check_password("demo-password")
    assert len(members.member_nickname_history(member_id=demo.id)) == 3
    contents = set(Post.objects.values_list("contents", flat=True))
    # Believable, not a fixture: varied sentences in both languages, by several authors.
    assert len(contents) > 15
    assert any("오늘" in c for c in contents)
    assert any("The" in c or "the" in c for c in contents)
    assert Post.objects.values("member_id").distinct().count() == 7
    assert sum(DailyPostCount.objects.values_list("count", flat=True)) == Post.objects.count()
    # Timelines are ordered by id: ids must follow time across all members.
    times = list(Post.objects.order_by("id").values_list("created_at", flat=True))
    assert times == sorted(times)


def test_rebuild_daily_counts(capsys):
    kim, lee = a_member(), a_member()
    posts_on_days(kim, {date(2025, 1, 1): 2, date(2025, 1, 2): 1})
    posts_on_days(lee, {date(2025, 1, 1): 3})
    DailyPostCount.objects.update(count=50)

    call_command("rebuild_daily_counts", "--member", str(kim.pk))

    assert "Rebuilt 2 daily counts for member" in capsys.readouterr().out
    assert list(DailyPostCount.objects.filter(member=lee).values_list("count", flat=True)) == [50]

    call_command("rebuild_daily_counts")

    assert "Rebuilt 3 daily counts for all members." in capsys.readouterr().out
    assert sorted(DailyPostCount.objects.values_list("member_id", "date", "count")) == sorted(
        [
            (kim.pk, date(2025, 1, 1), 2),
            (kim.pk, date(2025, 1, 2), 1),
            (lee.pk, date(2025, 1, 1), 3),
        ]
    )


def test_rebuild_daily_counts_check(capsys):
    kim = a_member()
    posts_on_days(kim, {date(2025, 1, 1): 2, date(2025, 1, 2): 1})

    call_command("rebuild_daily_counts", "--check")
    assert "Daily counts equal GROUP BY over posts (all members)." in capsys.readouterr().out

    DailyPostCount.objects.filter(date=date(2025, 1, 1)).update(count=5)
    DailyPostCount.objects.filter(date=date(2025, 1, 2)).delete()
    with pytest.raises(CommandError, match="2 daily counts differ"):
        call_command("rebuild_daily_counts", "--check", "--member", str(kim.pk))
    out = capsys.readouterr().out
    assert f"member {kim.pk} on 2025-01-01: stored 5, posts 2" in out
    assert f"member {kim.pk} on 2025-01-02: stored 0, posts 1" in out
    assert DailyPostCount.objects.get(date=date(2025, 1, 1)).count == 5  # changed nothing


def test_rebuild_daily_counts_for_an_unknown_member():
    with pytest.raises(CommandError, match="No member with id 999999"):
        call_command("rebuild_daily_counts", "--member", "999999")


class TestSeedPosts:
    def test_loads_posts_in_time_order_with_right_days_and_counts(self, capsys):
        member = a_member()

        call_command(
            "seed_posts",
            "--member",
            str(member.pk),
            "--count",
            "500",
            "--start",
            "2025-01-01",
            "--end",
            "2025-01-31",
        )

        posts = list(Post.objects.filter(member=member).order_by("id"))
        assert len(posts) == 500
        assert [p.created_at for p in posts] == sorted(p.created_at for p in posts)
        assert all(local_date(p.created_at) == p.created_date for p in posts)
        assert {p.created_date for p in posts} <= {date(2025, 1, d) for d in range(1, 32)}
        assert services.daily_counts_differences(member_id=member.pk) == []
        out = capsys.readouterr().out
        assert "Seeded 500 posts for member" in out
        assert "rows/s" in out

    def test_many_chunks_keep_counts_right(self):
        member = a_member()
        posts_on_days(member, {date(2025, 1, 10): 3})  # counts already there are added to
        seeding.posts_seed(
            member_id=member.pk,
            count=700,
            start=date(2025, 1, 1),
            end=date(2025, 1, 20),
            chunk_size=64,
        )
        assert Post.objects.filter(member=member).count() == 703
        assert services.daily_counts_differences(member_id=member.pk) == []

    def test_same_seed_same_posts(self):
        kim, lee = a_member(), a_member()
        for member in (kim, lee):
            seeding.posts_seed(
                member_id=member.pk,
                count=50,
                start=date(2024, 1, 1),
                end=date(2024, 12, 31),
                seed=9,
            )
        rows = [
            list(Post.objects.filter(member=m).order_by("id").values_list("created_at", "contents"))
            for m in (kim, lee)
        ]
        assert rows[0] == rows[1]

    @pytest.mark.parametrize(
        ("args", "message"),
        [
            (["--member", "999999", "--count", "5"], "No member with id 999999"),
            (["--count", "0"], "positive"),
            (["--count", "5", "--start", "2025-02-01", "--end", "2025-01-01"], "is after"),
            (["--count", "5", "--start", "2025-02-30"], "not a date"),
            (["--count", "5", "--end", "yesterday"], "not a date"),
        ],
    )
    def test_bad_arguments_write_nothing(self, args, message):
        member = a_member()
        if "--member" not in args:
            args = ["--member", str(member.pk), *args]
        with pytest.raises(CommandError, match=message):
            call_command("seed_posts", *args)
        assert not Post.objects.exists()
        assert not DailyPostCount.objects.exists()


@pytest.mark.django_db(transaction=True)  # CREATE/DROP INDEX commits on MySQL
class TestIndexLab:
    def test_prints_all_five_paths_that_agree_and_drops_its_index(self, capsys):
        member = a_member()
        posts_on_days(member, {date(2025, 1, d): d for d in range(1, 8)})
        posts_on_days(a_member(), {date(2025, 1, 3): 5})

        call_command(
            "index_lab",
            "--member",
            str(member.pk),
            "--start",
            "2025-01-01",
            "--end",
            "2025-01-31",
            "--repeat",
            "2",
        )

        out = capsys.readouterr().out
        assert "Created the missing index post_lab_created_date" in out
        for path in lab.PATHS:
            assert path.name in out
        assert "All paths agree: 28 posts on 7 days." in out
        assert not lab.index_exists(lab.LAB_INDEX)

    def test_keep_indexes(self, capsys):
        member = a_member()
        posts_on_days(member, {date(2025, 1, 1): 1})
        try:
            call_command("index_lab", "--member", str(member.pk), "--repeat", "1", "--keep-indexes")
            assert lab.index_exists(lab.LAB_INDEX)
            call_command("index_lab", "--member", str(member.pk), "--repeat", "1")
            assert "Created the missing index" not in capsys.readouterr().out.split("agree")[-1]
            assert lab.index_exists(lab.LAB_INDEX)  # not ours to drop: it was there
        finally:
            if lab.index_exists(lab.LAB_INDEX):
                lab.drop_lab_index()

    @pytest.mark.parametrize(
        ("args", "message"),
        [
            (["--member", "999999"], "No member with id 999999"),
            (["--start", "2025-02-01", "--end", "2025-01-01"], "is after"),
            (["--start", "01/01/2025"], "not a date"),
            (["--repeat", "0"], "at least 1"),
        ],
    )
    def test_bad_arguments(self, args, message):
        member = a_member()
        if "--member" not in args:
            args = ["--member", str(member.pk), *args]
        with pytest.raises(CommandError, match=message):
            call_command("index_lab", *args)
        assert not lab.index_exists(lab.LAB_INDEX)


class TestBench:
    def test_runs_end_to_end_and_cleans_up(self, tmp_path, capsys):
        report_path = tmp_path / "bench.json"

        call_command("bench", "--posts", "300", "--repeat", "1", "--json", str(report_path))

        report = json.loads(report_path.read_text())
        assert report["posts"] == 300
        figures = report["figures"]
        for key in (
            "seed_rows_per_s",
            "calendar_year_daily_ms",
            "calendar_year_group_by_ms",
            "calendar_year_speedup",
            "calendar_all_time_speedup",
            "http_calendar_month_ms",
            "http_calendar_year_ms",
            "http_calendar_json_ms",
            "timeline_member_page1_ms",
            "timeline_all_page1_ms",
            "admin_member_ms",
            "admin_nicknamehistory_ms",
            "admin_post_ms",
            "admin_dailypostcount_ms",
        ):
            assert figures[key]["value"] > 0, key
        assert "seed posts" in capsys.readouterr().out
        assert not Post.objects.exists()
        assert not get_user_model().objects.filter(email__endswith="@bench.example").exists()

    def test_refuses_debug_mode(self, settings):
        settings.DEBUG = True
        with pytest.raises(CommandError, match="DEBUG off"):
            call_command("bench", "--posts", "10")
