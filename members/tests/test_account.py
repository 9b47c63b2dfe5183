"""The account a member manages: password change and reset, log out everywhere, leaving."""

import re

import pytest
from django.core import mail as outbox_mail
from django.core.cache import cache
from django.test import Client, override_settings

from members import mail
from members.models import Member, MemberRemoval, OutboundMail
from members.tests.mothers import PASSWORD, a_member

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "another-long-password"


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()  # the reset throttle counts in the cache
    yield
    cache.clear()


def can_log_in(email: str, password: str) -> Client | None:
    """A new client logged in on the login page (as a person does), or None."""
    client = Client()
    response = client.post("/login/", {"username": email, "password": password})
    return client if response.status_code == 302 else None


def logged_in(member) -> Client:
    client = can_log_in(member.email, PASSWORD)
    assert client is not None
    return client


def is_member(client: Client) -> bool:
    return client.get("/me/").status_code == 200


class TestPasswordChange:
    def data(self, old=PASSWORD, new=NEW_PASSWORD, again=None) -> dict:
        return {"old_password": old, "new_password1": new, "new_password2": again or new}

    def test_the_member_stays_logged_in_and_every_other_session_ends(self):
        member = a_member(email="kim@example.com")
        here, elsewhere = logged_in(member), logged_in(member)

        response = here.post("/me/password/", self.data())

        assert response.status_code == 302
        assert response.url == "/me/"
        assert is_member(here)
        assert not is_member(elsewhere)
        assert can_log_in("kim@example.com", NEW_PASSWORD)
        assert not can_log_in("kim@example.com", PASSWORD)

    @pytest.mark.parametrize(
        ("data", "error"),
        [
            ({"old": "wrong-password"}, "Your old password was entered incorrectly"),
            ({"again": "not-the-same-password"}, "didn’t match"),
            ({"new": "short", "again": "short"}, "too short"),
        ],
    )
    def test_a_failed_form_changes_nothing(self, data, error):
        member = a_member()
        client = logged_in(member)
        response = client.post("/me/password/", self.data(**data))
        assert response.status_code == 200
        assert error in response.text
        member.refresh_from_db()
        assert member.check_password(PASSWORD)

    def test_only_the_password_column_is_written(self):
        member = a_member(nickname="before")
        client = logged_in(member)
        Member.objects.filter(pk=member.pk).update(nickname="meanwhile")  # another tab
        client.post("/me/password/", self.data())
        member.refresh_from_db()
        assert member.nickname == "meanwhile"

    def test_anonymous_goes_to_login(self, client):
        assert client.get("/me/password/").url == "/login/?next=/me/password/"


class TestLogOutEverywhere:
    def test_every_session_ends_this_one_too(self):
        member = a_member()
        here, elsewhere = logged_in(member), logged_in(member)

        response = here.post("/me/logout-everywhere/")

        assert response.url == "/login/"
        assert not is_member(here)
        assert not is_member(elsewhere)
        assert is_member(logged_in(member))  # the password still works: a new session is fine

    def test_other_members_keep_their_sessions(self):
        mine, theirs = a_member(), a_member()
        other = logged_in(theirs)
        logged_in(mine).post("/me/logout-everywhere/")
        assert is_member(other)

    def test_is_a_post(self):
        client = logged_in(a_member())
        assert client.get("/me/logout-everywhere/").status_code == 405
        assert is_member(client)


def reset_link(message) -> str:
    found = re.search(r"http://testserver(/password-reset/[^/\s]+/[^/\s]+/)", message.body)
    assert found, message.body
    return found.group(1)


def ask_reset(client: Client, email: str):
    return client.post("/password-reset/", {"email": email})


class TestPasswordReset:
    def test_the_mail_goes_through_the_outbox_and_its_link_sets_a_password(
        self, client, django_capture_on_commit_callbacks
    ):
        member = a_member(email="kim@example.com", nickname="kim")
        with django_capture_on_commit_callbacks(execute=False) as queued:
            response = ask_reset(client, "KIM@example.com")
        assert response.url == "/password-reset/sent/"
        row = OutboundMail.objects.get(kind=OutboundMail.Kind.PASSWORD_RESET)
        assert (row.to, row.site, row.done_at) == ("kim@example.com", "http://testserver", None)
        assert outbox_mail.outbox == []  # nothing is sent by the request itself

        for callback in queued:
            callback()  # the worker's turn
        (message,) = outbox_mail.outbox
        assert message.to == ["kim@example.com"]
        assert message.extra_headers["Message-ID"] == mail.message_id(row)
        link = reset_link(message)

        form = client.get(link, follow=True)  # Django moves the token into the session
        assert "new_password1" in form.text
        done = client.post(
            form.redirect_chain[-1][0],
            {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        )
        assert done.url == "/login/"
        member.refresh_from_db()
        assert member.check_password(NEW_PASSWORD)
        # The link works once.
        assert "does not work any more" in Client().get(link, follow=True).text

    def test_a_reset_ends_every_session(self, django_capture_on_commit_callbacks):
        member = a_member()
        elsewhere = logged_in(member)
        with django_capture_on_commit_callbacks(execute=True):
            ask_reset(Client(), member.email)
        client = Client()
        form = client.get(reset_link(outbox_mail.outbox[0]), follow=True)
        client.post(
            form.redirect_chain[-1][0],
            {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        )
        assert not is_member(elsewhere)

    @pytest.mark.parametrize(
        "email", ["nobody@example.com", "closed@example.com", "nopw@example.com"]
    )
    def test_the_same_answer_whether_or_not_the_address_may_reset(
        self, client, django_capture_on_commit_callbacks, email
    ):
        a_member(email="closed@example.com", is_active=False)
        a_member(email="nopw@example.com", password=None)
        real = a_member(email="real@example.com")
        with django_capture_on_commit_callbacks(execute=True):
            answer = ask_reset(client, email)
            known = ask_reset(Client(), real.email)

        assert (answer.status_code, answer.url) == (known.status_code, known.url)
        assert answer.headers.keys() == known.headers.keys()
        assert [m.to for m in outbox_mail.outbox] == [["real@example.com"]]

    def test_a_member_closed_before_the_mail_went_gets_none(
        self, client, django_capture_on_commit_callbacks
    ):
        member = a_member()
        with django_capture_on_commit_callbacks(execute=False) as queued:
            ask_reset(client, member.email)
        Member.objects.filter(pk=member.pk).update(is_active=False)
        for callback in queued:
            callback()
        assert outbox_mail.outbox == []
        assert OutboundMail.objects.get(kind="reset").done_at is not None

    @override_settings(
        RATELIMIT_ENABLE=True,
        PASSWORD_RESET_RATE_PER_EMAIL="3/h",
        PASSWORD_RESET_RATE_PER_ADDRESS="100/h",
    )
    def test_throttled_per_email_whoever_asks(self, django_capture_on_commit_callbacks):
        member = a_member()
        with django_capture_on_commit_callbacks(execute=True):
            answers = [
                ask_reset(Client(REMOTE_ADDR=f"10.0.0.{i}"), member.email).status_code
                for i in range(4)
            ]
        assert answers == [302, 302, 302, 429]
        assert len(outbox_mail.outbox) == 3

    @override_settings(
        RATELIMIT_ENABLE=True,
        PASSWORD_RESET_RATE_PER_EMAIL="100/h",
        PASSWORD_RESET_RATE_PER_ADDRESS="3/h",
    )
    def test_throttled_per_address_whichever_email(self, client):
        answers = [ask_reset(client, f"someone{i}@example.com") for i in range(4)]
        assert [a.status_code for a in answers] == [302, 302, 302, 429]
        assert "Try again in" in answers[-1].text
        # Another address is not held back.
        assert ask_reset(Client(REMOTE_ADDR="10.9.9.9"), "x@example.com").status_code == 302

    def test_a_member_is_sent_to_the_password_change_page(self):
        assert logged_in(a_member()).get("/password-reset/").url == "/me/password/"

    def test_a_forged_link_is_refused(self, client):
        member = a_member()
        response = client.get(f"/password-reset/{member.pk}/not-a-token/", follow=True)
        assert "does not work any more" in response.text


class TestDeleteAccount:
    def test_the_page_asks_for_the_password(self):
        response = logged_in(a_member()).get("/me/delete/")
        assert response.status_code == 200
        assert 'name="password"' in response.text

    def test_a_wrong_password_deletes_nothing(self):
        member = a_member()
        client = logged_in(member)
        response = client.post("/me/delete/", {"password": "wrong-password"})
        assert response.status_code == 200
        assert "That is not your password." in response.text
        assert Member.objects.get(pk=member.pk).is_active
        assert not MemberRemoval.objects.exists()
        assert is_member(client)

    def test_the_password_closes_and_removes_the_account(self, django_capture_on_commit_callbacks):
        member = a_member()
        client, elsewhere = logged_in(member), logged_in(member)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post("/me/delete/", {"password": PASSWORD})
        assert response.url == "/posts/"
        assert not Member.objects.filter(pk=member.pk).exists()
        assert not is_member(client)
        assert not is_member(elsewhere)

    def test_password_guesses_here_count_towards_the_login_throttle(self, settings):
        settings.AXES_FAILURE_LIMIT = 2
        member = a_member()
        client = logged_in(member)
        for _ in range(2):
            client.post("/me/delete/", {"password": "wrong-password"})
        locked = client.post("/me/delete/", {"password": PASSWORD})
        assert locked.status_code == 429
        assert Member.objects.get(pk=member.pk).is_active

    def test_anonymous_goes_to_login(self, client):
        assert client.get("/me/delete/").url == "/login/?next=/me/delete/"


class TestSessionHash:
    def test_generation_zero_is_djangos_own_hash(self):
        """No session ended when the generation came in."""
        from django.contrib.auth.base_user import AbstractBaseUser

        member = a_member()
        assert member.get_session_auth_hash() == AbstractBaseUser.get_session_auth_hash(member)
        member.end_sessions()
        assert member.get_session_auth_hash() != AbstractBaseUser.get_session_auth_hash(member)
