"""The seeding commands (seed_members, seed_follows) and the member and follow loaders."""

from io import StringIO

import pytest
from django.core import mail as sent_mail
from django.core.management import CommandError, call_command
from django.db.models import F

from follows import services as follows
from follows.models import Follow, FollowCount
from lab import seeding
from members import services as members
from members.models import Member, NicknameHistory, OutboundMail
from members.tests.mothers import a_member

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_bulk_seeded_members_get_no_welcome_mail(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        seeding.members_seed(count=5, seed=7)
    assert OutboundMail.objects.count() == 0
    assert sent_mail.outbox == []


def test_seeded_members_are_deleted_in_chunks_with_their_history():
    kept = a_member()
    gone = seeding.members_seed(count=7, seed=3)
    assert members.members_delete(member_ids=[*gone, gone[0]], chunk_size=3) == 7
    assert list(Member.objects.values_list("pk", flat=True)) == [kept.pk]
    assert not NicknameHistory.objects.exclude(member=kept).exists()


class TestSeedMembers:
    def seeded(self, seed: int) -> list[tuple]:
        return list(
            Member.objects.filter(email__endswith=f".s{seed}@seed.example")
            .order_by("id")
            .values_list("email", "nickname", "birthdate")
        )

    def test_loads_members_with_history_and_unusable_passwords(self, capsys):
        call_command("seed_members", "--count", "25", "--seed", "3")

        rows = self.seeded(3)
        assert len(rows) == 25
        assert rows[0][0] == "member1.s3@seed.example"
        members = Member.objects.filter(email__endswith=".s3@seed.example")
        assert not any(m.has_usable_password() for m in members)
        assert all(1 <= len(m.nickname) <= 10 for m in members)
        histories = NicknameHistory.objects.filter(member__in=members)
        assert sorted(histories.values_list("member_id", "nickname")) == sorted(
            members.values_list("id", "nickname")
        )
        out = capsys.readouterr().out
        assert "Seeded 25 members" in out
        assert "rows/s" in out

    def test_same_seed_same_data_and_a_second_run_continues(self):
        call_command("seed_members", "--count", "5", "--seed", "7")
        first = self.seeded(7)
        Member.objects.filter(email__endswith=".s7@seed.example").delete()

        call_command("seed_members", "--count", "5", "--seed", "7")
        assert self.seeded(7) == first

        call_command("seed_members", "--count", "2", "--seed", "7")
        assert [row[0] for row in self.seeded(7)][-2:] == [
            "member6.s7@seed.example",
            "member7.s7@seed.example",
        ]

    @pytest.mark.parametrize("count", ["0", "-3"])
    def test_bad_count_writes_nothing(self, count):
        with pytest.raises(CommandError, match="positive"):
            call_command("seed_members", "--count", count)
        assert not Member.objects.exists()

    def test_count_is_required(self):
        with pytest.raises(CommandError, match="--count"):
            call_command("seed_members")


class TestSeedFollows:
    def test_a_crowd(self):
        star = a_member()
        out = run("seed_follows", "--member", str(star.pk), "--followers", "25")
        assert "Seeded 25 follows" in out
        assert follows.follow_counts(member_id=star.pk).followers == 25

    def test_a_graph(self):
        for _ in range(30):
            a_member()
        assert "Seeded" in run(
            "seed_follows", "--graph", "--members", "30", "--mean-following", "3"
        )
        assert follows.follow_counts_differences() == []

    @pytest.mark.parametrize(
        ("args", "message"),
        [
            ([], "Give --member ID --followers N"),
            (["--member", "999999", "--followers", "3"], "No member with id 999999"),
            (["--member", "1", "--followers", "0"], "--followers must be a positive number"),
            (["--graph"], "--graph needs --members N"),
            (["--graph", "--members", "500"], "Only"),
        ],
    )
    def test_bad_arguments_write_nothing(self, args, message):
        a_member()
        with pytest.raises(CommandError, match=message):
            run("seed_follows", *args)
        assert not FollowCount.objects.exists()


class TestFollowLoaders:
    def test_a_crowd_of_new_followers(self):
        star = a_member()
        made = seeding.follows_seed_followers(member_id=star.pk, count=30, seed=3)
        assert made == 30
        assert follows.follow_counts(member_id=star.pk).followers == 30
        assert follows.follow_counts_differences() == []

    def test_a_graph_is_skewed_and_counted(self):
        ids = [a_member().pk for _ in range(60)]
        made = seeding.follows_seed_graph(member_ids=ids, seed=1, mean_following=5)
        assert made > 0
        assert follows.follow_counts_differences() == []
        followers = sorted(
            (follows.follow_counts(member_id=m).followers for m in ids), reverse=True
        )
        # A few are followed by many, most by few.
        assert followers[0] >= 4 * max(1, followers[len(ids) // 2])
        assert not Follow.objects.filter(follower_id=F("followee_id")).exists()

    def test_the_same_seed_gives_the_same_graph(self):
        ids = [a_member().pk for _ in range(20)]
        seeding.follows_seed_graph(member_ids=ids, seed=5, mean_following=3)
        first = set(Follow.objects.values_list("follower_id", "followee_id"))
        Follow.objects.all().delete()
        seeding.follows_seed_graph(member_ids=ids, seed=5, mean_following=3)
        assert set(Follow.objects.values_list("follower_id", "followee_id")) == first
