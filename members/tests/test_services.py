from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from members import services
from members.models import Member, NicknameHistory
from members.tests.mothers import PASSWORD, a_member

pytestmark = pytest.mark.django_db


def register(**overrides):
    fields = {
        "email": "Kim@Example.com",
        "nickname": " kim ",
        "birthdate": date(1990, 1, 2),
        "password": PASSWORD,
    }
    fields.update(overrides)
    return services.member_register(**fields)


class TestMemberRegister:
    def test_stores_normalised_values_and_the_first_history_row(self):
        member = register()

        member.refresh_from_db()
        assert (member.email, member.nickname) == ("kim@example.com", "kim")
        assert member.check_password(PASSWORD)
        history = services.member_nickname_history(member_id=member.pk)
        assert [(h.nickname, h.changed_at) for h in history] == [("kim", member.joined_at)]

    def test_without_password_the_member_cannot_log_in(self):
        member = register(password=None)
        assert not member.has_usable_password()

    def test_staff_flags(self):
        member = register(is_staff=True, is_superuser=True)
        assert member.is_staff
        assert member.is_superuser

    def test_email_taken_in_another_case_is_an_error_and_writes_nothing(self):
        a_member(email="kim@example.com")

        with pytest.raises(ValidationError) as exc:
            register(email="KIM@example.com")

        assert "email" in exc.value.message_dict
        assert Member.objects.count() == 1
        assert NicknameHistory.objects.count() == 1

    @pytest.mark.parametrize(
        ("field", "value"),
        [
            ("nickname", "열한글자닉네임입니다요"),
            ("nickname", "  "),
            ("birthdate", date(1899, 12, 31)),
            ("birthdate", timezone.localdate() + timedelta(days=1)),
            ("email", "nope"),
        ],
    )
    def test_bad_input_is_an_error_and_writes_nothing(self, field, value):
        with pytest.raises(ValidationError) as exc:
            register(**{field: value})

        assert field in exc.value.message_dict
        assert not Member.objects.exists()
        assert not NicknameHistory.objects.exists()

    @pytest.mark.parametrize("nickname", ["가나다라마바사아자차", "😀" * 10])
    def test_ten_korean_characters_or_emoji_fit(self, nickname):
        member = register(nickname=nickname)
        member.refresh_from_db()
        assert member.nickname == nickname

    def test_boundaries_1900_01_01_and_today_are_allowed(self):
        register(email="a@example.com", birthdate=date(1900, 1, 1))
        register(email="b@example.com", birthdate=timezone.localdate())
        assert Member.objects.count() == 2


class TestMemberChangeNickname:
    def test_changes_and_records_history_newest_first(self):
        member = a_member(nickname="first")

        services.member_change_nickname(member_id=member.pk, nickname="second")
        services.member_change_nickname(member_id=member.pk, nickname=" third ")

        member.refresh_from_db()
        assert member.nickname == "third"
        history = services.member_nickname_history(member_id=member.pk)
        assert [h.nickname for h in history] == ["third", "second", "first"]
        assert history[0].changed_at >= history[1].changed_at >= history[2].changed_at

    @pytest.mark.parametrize("nickname", ["same", " same ", "", "열한글자닉네임입니다요", "x" * 11])
    def test_bad_nickname_is_an_error_and_writes_nothing(self, nickname):
        member = a_member(nickname="same")

        with pytest.raises(ValidationError) as exc:
            services.member_change_nickname(member_id=member.pk, nickname=nickname)

        assert "nickname" in exc.value.message_dict
        member.refresh_from_db()
        assert member.nickname == "same"
        assert NicknameHistory.objects.filter(member=member).count() == 1

    def test_unknown_member(self):
        with pytest.raises(Member.DoesNotExist):
            services.member_change_nickname(member_id=999_999, nickname="ghost")

    def test_leaves_other_members_alone(self):
        member, other = a_member(nickname="mine"), a_member(nickname="theirs")
        services.member_change_nickname(member_id=member.pk, nickname="new")
        other.refresh_from_db()
        assert other.nickname == "theirs"
        assert [h.nickname for h in services.member_nickname_history(member_id=other.pk)] == [
            "theirs"
        ]


class TestReads:
    def test_member_get(self):
        member = a_member()
        assert services.member_get(member_id=member.pk) == member
        assert services.member_get(member_id=999_999) is None

    def test_public_member_has_no_email(self):
        member = a_member(nickname="kim")
        public = services.member_public(member_id=member.pk)
        assert public == services.PublicMember(id=member.pk, nickname="kim")
        assert not hasattr(public, "email")
        assert services.member_public(member_id=999_999) is None

    def test_public_by_email_ignores_case(self):
        member = a_member(email="lee@example.com", nickname="lee")
        assert services.member_public_by_email(email=" LEE@example.com") == services.PublicMember(
            member.pk, "lee"
        )
        assert services.member_public_by_email(email="nobody@example.com") is None

    def test_members_by_ids_in_one_query(self, django_assert_num_queries):
        members = [a_member() for _ in range(5)]
        ids = [m.pk for m in members] + [999_999]

        with django_assert_num_queries(1):
            found = services.members_public_by_ids(member_ids=ids)

        assert found == {m.pk: services.PublicMember(m.pk, m.nickname) for m in members}

    def test_members_by_no_ids_runs_no_query(self, django_assert_num_queries):
        with django_assert_num_queries(0):
            assert services.members_public_by_ids(member_ids=[]) == {}


class TestMembersDelete:
    def test_deletes_them_in_chunks_with_their_history_and_keeps_the_others(self):
        kept = a_member()
        gone = [a_member().pk for _ in range(7)]

        assert services.members_delete(member_ids=[*gone, gone[0]], chunk_size=3) == 7

        assert list(Member.objects.values_list("pk", flat=True)) == [kept.pk]
        assert not NicknameHistory.objects.exclude(member=kept).exists()

    def test_nothing_to_delete(self):
        assert services.members_delete(member_ids=[]) == 0
