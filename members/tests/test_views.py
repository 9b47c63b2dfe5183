import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from members.models import Member, NicknameHistory
from members.tests.mothers import PASSWORD, a_member, signup_data

pytestmark = pytest.mark.django_db


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


class TestSignup:
    def test_form_has_the_contract_fields(self, client):
        response = client.get("/signup/")
        assert response.status_code == 200
        for name in ("email", "nickname", "birthdate", "password1", "password2"):
            assert f'name="{name}"' in response.text

    def test_success_logs_in_and_goes_to_me(self, client):
        response = client.post("/signup/", signup_data(email="New@Example.com"))

        assert response.status_code == 302
        assert response.url == "/me/"
        member = Member.objects.get()
        assert member.email == "new@example.com"
        assert client.session["_auth_user_id"] == str(member.pk)
        assert NicknameHistory.objects.filter(member=member).count() == 1
        assert client.get("/me/").status_code == 200

    @pytest.mark.parametrize(
        ("field", "value", "message"),
        [
            ("nickname", "열한글자닉네임입니다요", "at most 10 characters"),
            ("nickname", "   ", "This field is required."),
            ("email", "not-an-email", "valid email"),
            ("birthdate", "1899-12-31", "1900-01-01"),
            ("birthdate", "3000-01-01", "future"),
            ("birthdate", "01/02/1990", "valid date"),
            ("password2", "something-else", "didn’t match"),
        ],
    )
    def test_bad_input_re_renders_with_the_error_and_writes_nothing(
        self, client, field, value, message
    ):
        response = client.post("/signup/", signup_data(**{field: value}))

        assert response.status_code == 200
        assert message in response.text
        errors = response.context["form"].errors
        assert list(errors) == [field]
        assert not Member.objects.exists()
        assert "_auth_user_id" not in client.session

    def test_email_taken_in_another_case(self, client):
        a_member(email="taken@example.com")
        response = client.post("/signup/", signup_data(email="TAKEN@example.com"))
        assert response.status_code == 200
        assert "A member with this email already exists." in response.text
        assert Member.objects.count() == 1

    def test_the_birthdate_help_names_no_format(self, client):
        # The date picker shows the browser's own format, so the help names none.
        page = client.get("/signup/").text
        assert 'type="date"' in page
        assert "From 1900 to today." in page
        assert "YYYY-MM-DD" not in page

    def test_a_member_is_sent_to_me(self, client):
        client.force_login(a_member())
        assert client.get("/signup/").url == "/me/"


class TestLoginLogout:
    def test_login_with_email_in_any_case(self, client):
        a_member(email="kim@example.com")
        response = client.post("/login/", {"username": "KIM@example.com", "password": PASSWORD})
        assert response.status_code == 302
        assert response.url == "/home/"

    def test_wrong_password(self, client):
        a_member(email="kim@example.com")
        response = client.post("/login/", {"username": "kim@example.com", "password": "wrong"})
        assert response.status_code == 200
        assert (
            "That email and password do not match a member. "
            "The password is case-sensitive; the email is not."
        ) in response.text
        assert "may be case-sensitive" not in response.text

    def test_member_without_usable_password_cannot_log_in(self, client):
        a_member(email="seeded@example.com", password=None)
        response = client.post("/login/", {"username": "seeded@example.com", "password": ""})
        assert response.status_code == 200
        assert "_auth_user_id" not in client.session

    def test_logout_is_a_post(self, client):
        client.force_login(a_member())
        assert client.get("/logout/").status_code == 405
        response = client.post("/logout/")
        assert response.status_code == 302
        assert "_auth_user_id" not in client.session


class TestMe:
    @pytest.mark.parametrize(("method", "url"), [("get", "/me/"), ("post", "/me/nickname/")])
    def test_needs_login(self, client, method, url):
        response = getattr(client, method)(url)
        assert response.status_code == 302
        assert response.url == f"/login/?next={url}"

    def test_shows_profile_form_and_history_newest_first(self, client):
        member = a_member(nickname="one", email="me@example.com")
        client.force_login(member)
        client.post("/me/nickname/", {"nickname": "two"})
        client.post("/me/nickname/", {"nickname": "three"})

        response = client.get("/me/")

        assert response.status_code == 200
        assert 'name="nickname"' in response.text
        assert "me@example.com" in response.text
        assert [h.nickname for h in response.context["history"]] == ["three", "two", "one"]
        text = response.text
        assert (
            text.index("<td>three</td>") < text.index("<td>two</td>") < text.index("<td>one</td>")
        )

    def test_change_nickname_redirects_with_a_message(self, client):
        member = a_member(nickname="old")
        client.force_login(member)

        response = client.post("/me/nickname/", {"nickname": " new "})

        assert response.status_code == 302
        assert response.url == reverse("me")
        assert messages_of(response) == ["Your nickname is now new."]
        member.refresh_from_db()
        assert member.nickname == "new"

    @pytest.mark.parametrize(
        ("nickname", "message"),
        [
            ("old", "That is already your nickname."),
            ("열한글자닉네임입니다요", "at most 10 characters"),
            ("", "This field is required."),
        ],
    )
    def test_bad_nickname_re_renders_and_writes_nothing(self, client, nickname, message):
        member = a_member(nickname="old")
        client.force_login(member)

        response = client.post("/me/nickname/", {"nickname": nickname})

        assert response.status_code == 200
        assert message in response.text
        member.refresh_from_db()
        assert member.nickname == "old"
        assert NicknameHistory.objects.filter(member=member).count() == 1

    def test_nickname_page_is_post_only(self, client):
        client.force_login(a_member())
        assert client.get("/me/nickname/").status_code == 405

    def test_nickname_is_escaped(self, client):
        member = a_member(nickname="<b>x</b>")
        client.force_login(member)
        response = client.get("/me/")
        assert "<b>x</b>" not in response.text
        assert "&lt;b&gt;x&lt;/b&gt;" in response.text


class TestNicknameText:
    """Unicode tricks: invisible, direction-changing or decomposed nicknames."""

    @pytest.mark.parametrize(
        "nickname", ["\u200b", "\u200d\u200d", "\u3164", "\u2800", "a\tb", "a\nb", "ab\u202ecd"]
    )
    def test_signup_refuses_it_and_writes_nothing(self, client, nickname):
        response = client.post("/signup/", signup_data(nickname=nickname))

        assert response.status_code == 200
        assert response.context["form"].errors["nickname"]
        assert not Member.objects.exists()

    def test_ten_syllables_typed_as_decomposed_jamo_fit(self, client):
        import unicodedata

        typed = unicodedata.normalize("NFD", "열글자한국어닉네임이")
        response = client.post("/signup/", signup_data(nickname=typed))

        assert response.status_code == 302
        assert Member.objects.get().nickname == "열글자한국어닉네임이"

    def test_the_nickname_form_refuses_an_invisible_one(self, client):
        member = a_member(nickname="kim")
        client.force_login(member)

        response = client.post("/me/nickname/", {"nickname": "\u3164"})

        assert response.status_code == 200
        member.refresh_from_db()
        assert member.nickname == "kim"
