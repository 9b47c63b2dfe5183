"""What only a real MySQL/MariaDB can show: utf8mb4 storage and row locking."""

import threading

import pytest
from django.db import IntegrityError, connection, connections, transaction
from django.test import Client

from members import services
from members.models import Member
from members.tests.mothers import PASSWORD, a_member, signup_data

pytestmark = pytest.mark.mysql


@pytest.mark.django_db
def test_tables_and_connection_are_utf8mb4():
    with connection.cursor() as cursor:
        cursor.execute("SELECT @@character_set_connection")
        assert cursor.fetchone()[0] == "utf8mb4"
        cursor.execute(
            "SELECT table_name, table_collation FROM information_schema.tables"
            " WHERE table_schema = DATABASE() AND table_name LIKE 'members_%%'"
        )
        collations = dict(cursor.fetchall())
    assert collations
    assert all(c.startswith("utf8mb4") for c in collations.values()), collations


@pytest.mark.django_db
@pytest.mark.parametrize("nickname", ["가나다라마바사아자차", "😀🎉🚀🌏🍜🐱🔥✨💡🎧"])
def test_ten_korean_characters_and_ten_emoji_round_trip(nickname):
    member = a_member(nickname="start")

    services.member_change_nickname(member_id=member.pk, nickname=nickname)

    assert Member.objects.get(pk=member.pk).nickname == nickname
    assert Member.objects.filter(nickname=nickname).count() == 1
    newest = services.member_nickname_history(member_id=member.pk)[0]
    assert newest.nickname == nickname


@pytest.mark.django_db(transaction=True)
def test_concurrent_nickname_changes_all_land_in_order():
    member = a_member(nickname="start")
    rounds, threads_per_round = 5, 4
    errors: list[BaseException] = []

    def change(nickname: str, barrier: threading.Barrier) -> None:
        try:
            barrier.wait()
            services.member_change_nickname(member_id=member.pk, nickname=nickname)
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)
        finally:
            connections.close_all()

    for round_ in range(rounds):
        barrier = threading.Barrier(threads_per_round)
        threads = [
            threading.Thread(target=change, args=(f"r{round_}t{i}", barrier))
            for i in range(threads_per_round)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        assert errors == []
        history = services.member_nickname_history(member_id=member.pk)
        member.refresh_from_db()
        # Every change landed, and the member's nickname is the newest history row.
        assert {h.nickname for h in history} >= {f"r{round_}t{i}" for i in range(threads_per_round)}
        assert member.nickname == history[0].nickname
        assert [h.changed_at for h in history] == sorted(
            (h.changed_at for h in history), reverse=True
        )

    assert (
        len(services.member_nickname_history(member_id=member.pk)) == 1 + rounds * threads_per_round
    )


@pytest.mark.django_db
def test_emails_compare_exactly_not_ignoring_accents():
    a_member(email="alice@probe.example")

    # An address that differs by an accent is another address ...
    response = Client().post("/signup/", signup_data(email="alice@pröbe.example"))
    assert response.status_code == 302
    assert Member.objects.filter(email="alice@pröbe.example").exists()
    # ... and does not log in as alice.
    response = Client().post("/login/", {"username": "alicé@probe.example", "password": PASSWORD})
    assert response.status_code == 200
    assert "_auth_user_id" not in response.client.session
    assert services.member_public_by_email(email="alicé@probe.example") is None


@pytest.mark.django_db
def test_the_email_column_is_binary_and_the_lowercase_check_holds():
    member = a_member(email="bob@probe.example")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT collation_name FROM information_schema.columns WHERE table_schema ="
            " DATABASE() AND table_name = 'members_member' AND column_name = 'email'"
        )
        assert cursor.fetchone()[0] == "utf8mb4_bin"
        with pytest.raises(IntegrityError), transaction.atomic():
            cursor.execute(
                "UPDATE members_member SET email = 'BOB@probe.example' WHERE id = %s",
                [member.pk],
            )
