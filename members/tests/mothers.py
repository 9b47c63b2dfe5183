"""Object Mother for the member domain: members as the tests need them."""

from datetime import date

from django.utils import timezone
from model_bakery import baker
from model_bakery.recipe import Recipe, seq

from members.models import Member, NicknameHistory

PASSWORD = "a-long-test-password"

_member = Recipe(
    Member,
    email=seq("member", suffix="@example.com"),
    nickname=seq("nick"),
    birthdate=date(1990, 5, 17),
    joined_at=timezone.now,
)


def a_member(*, password: str | None = PASSWORD, **fields) -> Member:
    """A member as sign-up leaves it: a usable password and one history row."""
    member = _member.prepare(**fields)
    if password is None:
        member.set_unusable_password()
    else:
        member.set_password(password)
    member.save()
    baker.make(
        NicknameHistory, member=member, nickname=member.nickname, changed_at=member.joined_at
    )
    return member


def a_staff_member(**fields) -> Member:
    return a_member(is_staff=True, is_superuser=True, **fields)


def signup_data(**overrides: str) -> dict[str, str]:
    """What a person types into /signup/."""
    data = {
        "email": "new.member@example.com",
        "nickname": "newbie",
        "birthdate": "1995-03-01",
        "password1": PASSWORD,
        "password2": PASSWORD,
    }
    data.update(overrides)
    return data
