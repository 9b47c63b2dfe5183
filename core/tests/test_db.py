"""The shared database helpers: lock-conflict retries and counters by upsert."""

import pytest
from django.db import OperationalError, connection

from core import db
from core.testing.concurrency import run_together
from posts.models import DailyPostCount
from posts.tests.mothers import a_member

pytestmark = pytest.mark.django_db


class TestUpsertAdd:
    def test_inserts_new_keys_and_adds_to_existing_ones(self):
        member = a_member()
        day = "2025-01-01"
        other = "2025-01-02"
        rows = [(member.pk, day, 2), (member.pk, other, 1)]
        db.upsert_add(DailyPostCount, keys=["member_id", "date"], counters=["count"], rows=rows)
        db.upsert_add(
            DailyPostCount, keys=["member_id", "date"], counters=["count"], rows=[rows[0]]
        )
        stored = dict(DailyPostCount.objects.filter(member=member).values_list("date", "count"))
        assert {str(k): v for k, v in stored.items()} == {day: 4, other: 1}

    def test_no_rows_is_no_statement(self, django_assert_num_queries):
        with django_assert_num_queries(0):
            db.upsert_add(DailyPostCount, keys=["member_id", "date"], counters=["count"], rows=[])

    @pytest.mark.django_db(transaction=True)
    def test_concurrent_adds_are_all_counted(self):
        member = a_member()
        threads, adds = 8, 20

        def work(_):
            for _ in range(adds):
                db.retry_on_lock_conflict(db.upsert_add)(
                    DailyPostCount,
                    keys=["member_id", "date"],
                    counters=["count"],
                    rows=[(member.pk, "2025-03-01", 1)],
                )

        assert run_together(work, range(threads)) == []
        assert DailyPostCount.objects.get(member=member).count == threads * adds


class TestRetryOnLockConflict:
    """Outside any transaction (as in a request), a lost lock conflict is retried."""

    @pytest.fixture
    def lock_conflict(self):
        if connection.vendor == "mysql":
            return OperationalError(1213, "Deadlock found when trying to get lock")
        return OperationalError("database is locked")

    @pytest.mark.django_db(transaction=True)
    def test_retries_then_succeeds(self, lock_conflict):
        calls = []

        @db.retry_on_lock_conflict
        def flaky():
            calls.append(1)
            if len(calls) < 3:
                raise lock_conflict
            return "done"

        assert flaky() == "done"
        assert len(calls) == 3

    @pytest.mark.django_db(transaction=True)
    def test_gives_up_after_the_last_attempt(self, lock_conflict):
        calls = []

        @db.retry_on_lock_conflict
        def always():
            calls.append(1)
            raise lock_conflict

        with pytest.raises(OperationalError):
            always()
        assert len(calls) == db.ATTEMPTS

    @pytest.mark.django_db(transaction=True)
    def test_other_errors_are_not_retried(self):
        calls = []

        @db.retry_on_lock_conflict
        def broken():
            calls.append(1)
            raise OperationalError("no such table: nowhere")

        with pytest.raises(OperationalError):
            broken()
        assert len(calls) == 1

    def test_inside_a_transaction_it_does_not_retry(self, lock_conflict):
        calls = []

        @db.retry_on_lock_conflict
        def flaky():
            calls.append(1)
            raise lock_conflict

        with pytest.raises(OperationalError):
            flaky()
        assert len(calls) == 1


# --- reads compiled once ---------------------------------------------------------------------


@pytest.mark.django_db
def test_a_prepared_read_compiles_once_per_shape_and_reads_as_the_queryset(
    django_assert_num_queries,
):
    from core.db import Prepared
    from members.models import Member
    from members.tests.mothers import a_member

    ids = sorted(a_member().pk for _ in range(3))
    built = []

    def build(first, others, *, limit):
        built.append(limit)
        return (
            Member.objects.filter(pk__gte=first, pk__in=others)
            .order_by("pk")
            .values_list("pk")[:limit]
        )

    read = Prepared(build)
    with django_assert_num_queries(1):
        assert read(ids[0], ids, limit=2) == [(ids[0],), (ids[1],)]
    assert read(ids[1], ids, limit=2) == [(ids[1],), (ids[2],)]  # the same SQL, new values
    assert read(ids[1], ids[1:], limit=2) == [(ids[1],), (ids[2],)]  # another length
    assert read(ids[0], ids, limit=1) == [(ids[0],)]  # another limit
    # Once to learn the model, then once per shape: (3 values, 2), (2 values, 2), (3, 1).
    assert built == [2, 2, 2, 1]


def test_a_prepared_read_whose_arguments_are_not_parameters_is_refused(db):
    from core.db import Prepared
    from members.models import Member

    read = Prepared(lambda member_id: Member.objects.filter(pk__gt=0).values_list("pk"))
    with pytest.raises(ValueError, match="each argument must be a query parameter once"):
        read(5)
