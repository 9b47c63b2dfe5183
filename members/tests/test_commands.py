"""Django's createsuperuser, with our email / nickname / birthdate member."""

from datetime import date
from io import StringIO

import pytest
from django.core import mail as outbox
from django.core.management import CommandError, call_command
from django.utils import timezone

from members import services
from members.models import Member, NicknameHistory, WelcomeMail
from members.tests.mothers import PASSWORD, a_member

pytestmark = pytest.mark.django_db


class TTY:
    def isatty(self) -> bool:
        return True


def test_createsuperuser_noinput_from_the_environment(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_EMAIL", "Root@Example.com")
    monkeypatch.setenv("DJANGO_SUPERUSER_NICKNAME", "root")
    monkeypatch.setenv("DJANGO_SUPERUSER_BIRTHDATE", "1980-01-01")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", PASSWORD)

    call_command("createsuperuser", interactive=False, verbosity=0)

    member = Member.objects.get()
    assert (member.email, member.nickname, member.birthdate.isoformat()) == (
        "root@example.com",
        "root",
        "1980-01-01",
    )
    assert member.is_staff
    assert member.is_superuser
    assert member.check_password(PASSWORD)
    assert list(member.nickname_history.values_list("nickname", flat=True)) == ["root"]


def test_createsuperuser_interactive(monkeypatch):
    answers = iter(["admin@example.com", "boss", "1975-06-07"])
    monkeypatch.setattr("builtins.input", lambda prompt="": next(answers))
    monkeypatch.setattr("getpass.getpass", lambda prompt="": PASSWORD)

    call_command("createsuperuser", interactive=True, stdin=TTY(), verbosity=0)

    member = Member.objects.get()
    assert (member.email, member.nickname) == ("admin@example.com", "boss")
    assert member.is_superuser


def test_createsuperuser_refuses_a_taken_email():
    a_member(email="taken@example.com")
    with pytest.raises(CommandError, match="already"):
        call_command(
            "createsuperuser",
            interactive=False,
            email="TAKEN@example.com",
            nickname="x",
            birthdate="1980-01-01",
            verbosity=0,
        )
    assert Member.objects.count() == 1


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


def test_mail_sweep_sends_what_was_left():
    services.member_register(
        email="kim@example.com", nickname="kim", birthdate=date(1990, 1, 2), password=None
    )  # its send never ran
    WelcomeMail.objects.update(created_at=timezone.now() - timezone.timedelta(minutes=10))
    out = StringIO()
    call_command("mail_sweep", stdout=out)
    assert "Queued 1 pending" in out.getvalue()
    assert [m.to for m in outbox.outbox] == [["kim@example.com"]]
