from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import DataError, IntegrityError, transaction
from django.utils import timezone

from members.models import Member, NicknameHistory, normalize_email
from members.tests.mothers import a_member

pytestmark = pytest.mark.django_db

# Writes that skip full_clean(): only the database stands in the way.
DB_REFUSES = (IntegrityError, DataError)


def test_normalize_email_lowercases_and_trims():
    assert normalize_email("  Kim.Min@Example.COM ") == "kim.min@example.com"


def test_change_nickname_returns_the_history_row_to_save():
    member = a_member(nickname="before")
    at = timezone.now()

    row = member.change_nickname("  after ", at=at)

    assert member.nickname == "after"
    assert (row.member, row.nickname, row.changed_at) == (member, "after", at)
    assert row.pk is None


def test_change_nickname_to_the_current_one_is_an_error():
    member = a_member(nickname="same")

    with pytest.raises(ValidationError) as exc:
        member.change_nickname(" same ", at=timezone.now())

    assert "nickname" in exc.value.message_dict
    assert member.nickname == "same"


def test_full_clean_normalises_email_and_nickname():
    member = Member(email="A@B.COM", nickname=" kim ", birthdate=date(2000, 1, 1), password="x")
    member.full_clean()
    assert (member.email, member.nickname) == ("a@b.com", "kim")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("birthdate", date(1899, 12, 31)),
        ("birthdate", timezone.localdate() + timedelta(days=1)),
        ("nickname", "x" * 11),
        ("nickname", "   "),
        ("email", "not-an-email"),
    ],
)
def test_full_clean_rejects(field, value):
    member = Member(email="a@b.com", nickname="kim", birthdate=date(2000, 1, 1), password="x")
    setattr(member, field, value)
    with pytest.raises(ValidationError) as exc:
        member.full_clean()
    assert field in exc.value.message_dict


def test_full_clean_rejects_an_email_taken_in_another_case():
    a_member(email="taken@example.com")
    member = Member(email="TAKEN@example.com", nickname="kim", birthdate=date(2000, 1, 1))
    member.set_password("x")
    with pytest.raises(ValidationError) as exc:
        member.full_clean()
    assert exc.value.message_dict["email"] == ["A member with this email already exists."]


class TestDatabaseConstraints:
    """The database refuses bad rows even when the model's checks are skipped."""

    def test_duplicate_email(self):
        a_member(email="dup@example.com")
        with pytest.raises(DB_REFUSES), transaction.atomic():
            Member.objects.create(email="dup@example.com", nickname="b", birthdate=date(2000, 1, 1))

    def test_same_email_in_another_case(self):
        # SQLite: refused by member_email_lowercase; MySQL: its case-insensitive
        # collation makes member_email_unique refuse it.
        a_member(email="dup@example.com")
        with pytest.raises(DB_REFUSES), transaction.atomic():
            Member.objects.create(email="DUP@example.com", nickname="b", birthdate=date(2000, 1, 1))

    @pytest.mark.parametrize("nickname", ["", "x" * 11, "가" * 11])
    def test_nickname_length(self, nickname):
        with pytest.raises(DB_REFUSES), transaction.atomic():
            Member.objects.create(
                email="n@example.com", nickname=nickname, birthdate=date(2000, 1, 1)
            )

    def test_birthdate_before_1900(self):
        with pytest.raises(DB_REFUSES), transaction.atomic():
            Member.objects.create(email="old@example.com", nickname="b", birthdate=date(1899, 1, 1))

    def test_history_nickname_length(self):
        member = a_member()
        with pytest.raises(DB_REFUSES), transaction.atomic():
            NicknameHistory.objects.create(member=member, nickname="", changed_at=timezone.now())

    def test_ten_korean_characters_fit(self):
        member = Member.objects.create(
            email="ko@example.com", nickname="가" * 10, birthdate=date(2000, 1, 1)
        )
        assert Member.objects.get(pk=member.pk).nickname == "가" * 10
