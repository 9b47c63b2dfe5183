from datetime import UTC, date, datetime

import pytest
from django.db import DataError, IntegrityError, transaction

from posts.models import DailyPostCount, Post, local_date
from posts.tests.mothers import a_member, a_post

pytestmark = pytest.mark.django_db

DB_REFUSES = (IntegrityError, DataError)


@pytest.mark.parametrize(
    ("utc", "seoul_date"),
    [
        (datetime(2025, 3, 1, 14, 59, tzinfo=UTC), date(2025, 3, 1)),
        (datetime(2025, 3, 1, 15, 0, tzinfo=UTC), date(2025, 3, 2)),
        (datetime(2025, 3, 1, 23, 30, tzinfo=UTC), date(2025, 3, 2)),
    ],
)
def test_a_posts_date_is_its_day_in_asia_seoul(utc, seoul_date):
    assert local_date(utc) == seoul_date
    assert Post.write(member_id=1, contents="x", at=utc).created_date == seoul_date


def test_the_date_ignores_the_active_time_zone(settings):
    from django.utils import timezone

    with timezone.override("America/New_York"):
        assert local_date(datetime(2025, 3, 1, 23, 30, tzinfo=UTC)) == date(2025, 3, 2)


class TestDatabaseConstraints:
    @pytest.mark.parametrize("contents", ["", "   ", "x" * 501])
    def test_contents(self, contents):
        member = a_member()
        at = datetime(2025, 1, 1, tzinfo=UTC)
        with pytest.raises(DB_REFUSES), transaction.atomic():
            Post.objects.create(
                member=member, contents=contents, created_at=at, created_date=at.date()
            )

    def test_500_characters_fit(self):
        member = a_member()
        post = a_post(member, contents="가" * 500)
        assert Post.objects.get(pk=post.pk).contents == "가" * 500

    def test_one_daily_row_per_member_and_day(self):
        member = a_member()
        DailyPostCount.objects.create(member=member, date=date(2025, 1, 1), count=1)
        with pytest.raises(IntegrityError), transaction.atomic():
            DailyPostCount.objects.create(member=member, date=date(2025, 1, 1), count=1)

    def test_count_not_negative(self):
        with pytest.raises(IntegrityError), transaction.atomic():
            DailyPostCount.objects.create(member=a_member(), date=date(2025, 1, 1), count=-1)


class TestDailyPostCountAdd:
    def counts(self, member):
        return dict(DailyPostCount.objects.filter(member=member).values_list("date", "count"))

    def test_creates_then_increments(self):
        member = a_member()
        day = date(2025, 1, 1)
        DailyPostCount.objects.add([(member.pk, day, 1)])
        DailyPostCount.objects.add([(member.pk, day, 2), (member.pk, date(2025, 1, 2), 1)])
        assert self.counts(member) == {day: 3, date(2025, 1, 2): 1}

    def test_decrements_and_deletes_rows_that_reach_zero(self):
        member = a_member()
        a, b = date(2025, 1, 1), date(2025, 1, 2)
        DailyPostCount.objects.add([(member.pk, a, 2), (member.pk, b, 1)])
        DailyPostCount.objects.add([(member.pk, a, -1), (member.pk, b, -1)])
        assert self.counts(member) == {a: 1}

    def test_zero_deltas_and_missing_rows_change_nothing(self, django_assert_num_queries):
        member = a_member()
        with django_assert_num_queries(0):
            DailyPostCount.objects.add([(member.pk, date(2025, 1, 1), 0)])
        DailyPostCount.objects.add([(member.pk, date(2025, 1, 1), -1)])
        assert self.counts(member) == {}
