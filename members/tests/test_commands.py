"""Django's createsuperuser, with our email / nickname / birthdate member."""

import pytest
from django.core.management import CommandError, call_command

from members.models import Member
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
