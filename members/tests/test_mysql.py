"""What only a real MySQL/MariaDB can show: utf8mb4 storage and row locking."""

import threading

import pytest
from django.db import connection, connections

from members import services
from members.models import Member
from members.tests.mothers import a_member

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
