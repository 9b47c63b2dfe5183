from datetime import date
from io import StringIO

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from likes import services as likes
from members import services
from members.admin import MemberPasswordChangeForm
from members.models import Member, NicknameHistory, OutboundMail
from members.tests.mothers import PASSWORD, a_member, a_staff_member
from social.tests.mothers import follow, publish

pytestmark = pytest.mark.django_db

CHECKS = ["rebuild_follow_counts", "rebuild_like_counts", "rebuild_daily_counts", "rebuild_feeds"]


@pytest.fixture
def staff_client(client):
    client.force_login(a_staff_member(email="admin@example.com", nickname="admin"))
    return client


def change_data(member: Member, **overrides) -> dict:
    data = {
        "email": member.email,
        "nickname": member.nickname,
        "birthdate": member.birthdate.isoformat(),
        "is_active": "on",
        "nickname_history-TOTAL_FORMS": "0",
        "nickname_history-INITIAL_FORMS": "0",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def test_non_staff_is_refused(client):
    client.force_login(a_member())
    response = client.get("/admin/members/member/")
    assert response.status_code == 302
    assert response.url.startswith("/admin/login/")


class TestMemberAdmin:
    def test_changelist_searches_email_and_nickname(self, staff_client):
        a_member(email="findme@example.com", nickname="alpha")
        a_member(email="other@example.com", nickname="beta")

        by_email = staff_client.get("/admin/members/member/", {"q": "findme"})
        by_nickname = staff_client.get("/admin/members/member/", {"q": "beta"})

        assert [m.email for m in by_email.context["cl"].result_list] == ["findme@example.com"]
        assert [m.nickname for m in by_nickname.context["cl"].result_list] == ["beta"]

    def test_change_page_shows_history_inline_read_only(self, staff_client):
        member = a_member(nickname="first")
        services.member_change_nickname(member_id=member.pk, nickname="second")

        response = staff_client.get(f"/admin/members/member/{member.pk}/change/")

        assert response.status_code == 200
        inline = response.context["inline_admin_formsets"][0]
        assert not inline.has_add_permission
        assert not inline.has_change_permission
        assert not inline.has_delete_permission
        shown = [form.original.nickname for form in inline]
        assert shown == ["second", "first"]
        assert "<p>second</p>" in response.text

    def test_nickname_changed_in_the_admin_writes_history(self, staff_client):
        member = a_member(nickname="before")

        response = staff_client.post(
            f"/admin/members/member/{member.pk}/change/", change_data(member, nickname="after")
        )

        assert response.status_code == 302
        member.refresh_from_db()
        assert member.nickname == "after"
        assert list(
            NicknameHistory.objects.filter(member=member).values_list("nickname", flat=True)
        ) == ["after", "before"]

    def test_other_fields_change_without_history(self, staff_client):
        member = a_member(nickname="same")
        group = Group.objects.create(name="editors")

        response = staff_client.post(
            f"/admin/members/member/{member.pk}/change/",
            change_data(member, birthdate="1980-02-03", groups=[group.pk]),
        )

        assert response.status_code == 302
        member.refresh_from_db()
        assert member.birthdate.isoformat() == "1980-02-03"
        assert list(member.groups.all()) == [group]
        assert NicknameHistory.objects.filter(member=member).count() == 1

    def test_bad_nickname_re_renders_and_writes_nothing(self, staff_client):
        member = a_member(nickname="before")

        response = staff_client.post(
            f"/admin/members/member/{member.pk}/change/",
            change_data(member, nickname="x" * 11),
        )

        assert response.status_code == 200
        assert "nickname" in response.context["adminform"].form.errors
        member.refresh_from_db()
        assert member.nickname == "before"
        assert NicknameHistory.objects.filter(member=member).count() == 1

    def test_add_member_goes_through_the_service(self, staff_client):
        response = staff_client.post(
            "/admin/members/member/add/",
            {
                "email": "Added@Example.com",
                "nickname": "added",
                "birthdate": "2001-02-03",
                "usable_password": "true",
                "password1": PASSWORD,
                "password2": PASSWORD,
            },
        )

        assert response.status_code == 302
        member = Member.objects.get(email="added@example.com")
        assert member.check_password(PASSWORD)
        assert response.url == f"/admin/members/member/{member.pk}/change/"
        assert list(member.nickname_history.values_list("nickname", flat=True)) == ["added"]

    def test_add_member_without_password(self, staff_client):
        response = staff_client.post(
            "/admin/members/member/add/",
            {
                "email": "nopass@example.com",
                "nickname": "nopass",
                "birthdate": "2001-02-03",
                "usable_password": "false",
            },
        )
        assert response.status_code == 302
        assert not Member.objects.get(email="nopass@example.com").has_usable_password()


class TestNicknameHistoryAdmin:
    def test_searchable_by_member_email(self, staff_client):
        a_member(email="wanted@example.com", nickname="wanted")
        a_member(email="else@example.com", nickname="else")

        response = staff_client.get("/admin/members/nicknamehistory/", {"q": "wanted@"})

        assert response.status_code == 200
        assert [h.nickname for h in response.context["cl"].result_list] == ["wanted"]

    def test_read_only(self, staff_client):
        member = a_member()
        row = member.nickname_history.get()
        assert staff_client.get("/admin/members/nicknamehistory/add/").status_code == 403
        response = staff_client.post(
            f"/admin/members/nicknamehistory/{row.pk}/change/", {"nickname": "hacked"}
        )
        assert response.status_code == 403
        row.refresh_from_db()
        assert row.nickname == member.nickname


def test_the_admin_password_change_writes_only_the_password(staff_client):
    member = a_member(nickname="before")
    stale = Member.objects.get(pk=member.pk)  # what the admin's page loaded
    services.member_change_nickname(member_id=member.pk, nickname="after")
    new_password = "another-long-password-42"
    form = MemberPasswordChangeForm(
        stale,
        {"set_usable_password": "true", "password1": new_password, "password2": new_password},
    )
    assert form.is_valid(), form.errors

    form.save()

    member.refresh_from_db()
    assert member.nickname == "after"
    assert member.check_password(new_password)


def test_the_admin_password_page_saves(staff_client):
    member = a_member(nickname="kept")
    new_password = "another-long-password-42"
    response = staff_client.post(
        f"/admin/members/member/{member.pk}/password/",
        {"usable_password": "true", "password1": new_password, "password2": new_password},
    )
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.check_password(new_password)
    assert member.nickname == "kept"


class TestOutboundMailAdmin:
    def test_lists_the_mails_pending_and_sent_read_only(self, staff_client):
        for email in ("pending@example.com", "sent@example.com"):
            services.member_register(
                email=email, nickname="m", birthdate=date(1990, 1, 2), password=PASSWORD
            )
        OutboundMail.objects.filter(to="sent@example.com").update(done_at=timezone.now())

        everything = staff_client.get("/admin/members/outboundmail/").content.decode()
        pending = staff_client.get("/admin/members/outboundmail/?state=pending")

        assert "pending@example.com" in everything
        assert "sent@example.com" in everything
        assert "pending@example.com" in pending.content.decode()
        assert "sent@example.com" not in pending.content.decode()
        mail = OutboundMail.objects.get(to="pending@example.com")
        change = staff_client.get(f"/admin/members/outboundmail/{mail.pk}/change/")
        assert change.status_code == 200
        assert b'name="_save"' not in change.content  # view only


class TestDeletingMembers:
    """The admin deletes through the service a member uses, on a page that reads little."""

    def confirmation_queries(self, staff_client, member) -> int:
        with CaptureQueriesContext(connection) as ctx:
            response = staff_client.get(f"/admin/members/member/{member.pk}/delete/")
        assert response.status_code == 200
        assert "nickname history" in response.text
        return len(ctx.captured_queries)

    def test_the_confirmation_reads_the_same_for_any_member(
        self, staff_client, django_capture_on_commit_callbacks
    ):
        loner, star = a_member(), a_member()
        with django_capture_on_commit_callbacks(execute=True):
            for _ in range(30):
                follow(a_member(), star)
            for _ in range(5):
                post = publish(star)
                likes.like_add(member_id=loner.pk, post_id=post.pk)
        assert self.confirmation_queries(staff_client, star) == self.confirmation_queries(
            staff_client, loner
        )

    def test_deleting_keeps_every_count_right(
        self, staff_client, django_capture_on_commit_callbacks
    ):
        leaver, fan, idol = a_member(), a_member(), a_member()
        with django_capture_on_commit_callbacks(execute=True):
            follow(fan, leaver)
            follow(leaver, idol)
            post = publish(idol)
            likes.like_add(member_id=leaver.pk, post_id=post.pk)
            mine = publish(leaver)
            likes.like_add(member_id=fan.pk, post_id=mine.pk)

            response = staff_client.post(
                f"/admin/members/member/{leaver.pk}/delete/", {"post": "yes"}
            )

        assert response.status_code == 302
        assert not Member.objects.filter(pk=leaver.pk).exists()
        for command in CHECKS:
            call_command(command, "--check", stdout=StringIO())
        assert likes.like_counts(post_ids=[post.pk]) == {}

    def test_the_bulk_action_deletes_each_through_the_service(
        self, staff_client, django_capture_on_commit_callbacks
    ):
        a, b, c = a_member(), a_member(), a_member()
        with django_capture_on_commit_callbacks(execute=True):
            follow(a, b)
            follow(b, c)
            response = staff_client.post(
                "/admin/members/member/",
                {"action": "delete_selected", "_selected_action": [a.pk, b.pk], "post": "yes"},
            )
        assert response.status_code == 302
        assert list(Member.objects.filter(pk__in=[a.pk, b.pk, c.pk])) == [c]
        for command in CHECKS:
            call_command(command, "--check", stdout=StringIO())

    def test_removals_are_listed(self, staff_client, django_capture_on_commit_callbacks):
        member = a_member()
        with django_capture_on_commit_callbacks(execute=False):
            services.member_delete_request(member_id=member.pk)
        response = staff_client.get("/admin/members/memberremoval/?state=pending")
        assert response.status_code == 200
        assert f'<td class="field-member_id">{member.pk}</td>' in response.text
