from datetime import date

import pytest
from django.core.management import CommandError, call_command

from members import services as members
from posts.models import DailyPostCount, Post
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
