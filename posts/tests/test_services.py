from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError

from core.pagination import Cursor
from posts import services
from posts.models import DailyPostCount, Post
from posts.tests.mothers import a_member, a_post, noon, posts_on_days

pytestmark = pytest.mark.django_db


def counts_of(member) -> dict[date, int]:
    return dict(DailyPostCount.objects.filter(member=member).values_list("date", "count"))


class TestPostWrite:
    def test_writes_and_counts_the_day(self):
        member = a_member()
        day = date(2025, 3, 1)

        first = services.post_write(member_id=member.pk, contents=" hello ", at=noon(day))
        services.post_write(member_id=member.pk, contents="again", at=noon(day))
        services.post_write(member_id=member.pk, contents="next day", at=noon(day + timedelta(1)))

        assert first.contents == "hello"
        assert first.created_date == day
        assert counts_of(member) == {day: 2, day + timedelta(1): 1}

    def test_the_day_is_the_day_in_asia_seoul(self):
        member = a_member()
        post = services.post_write(
            member_id=member.pk, contents="late", at=datetime(2025, 3, 1, 23, 30, tzinfo=UTC)
        )
        assert post.created_date == date(2025, 3, 2)
        assert counts_of(member) == {date(2025, 3, 2): 1}

    def test_defaults_to_now(self):
        member = a_member()
        post = services.post_write(member_id=member.pk, contents="now")
        assert post.created_at is not None
        assert counts_of(member) == {post.created_date: 1}

    @pytest.mark.parametrize("contents", ["", "   \n ", "x" * 501])
    def test_bad_contents_is_an_error_and_writes_nothing(self, contents):
        member = a_member()
        with pytest.raises(ValidationError) as exc:
            services.post_write(member_id=member.pk, contents=contents)
        assert "contents" in exc.value.message_dict
        assert not Post.objects.exists()
        assert not DailyPostCount.objects.exists()

    def test_unknown_member_is_an_error_and_writes_nothing(self):
        with pytest.raises(ValidationError) as exc:
            services.post_write(member_id=999_999, contents="ghost")
        assert "member" in exc.value.message_dict
        assert not DailyPostCount.objects.exists()


class TestPostsDelete:
    def test_takes_posts_off_their_days(self):
        member = a_member()
        a, b = date(2025, 1, 1), date(2025, 1, 2)
        posts = posts_on_days(member, {a: 3, b: 1})

        deleted = services.posts_delete(post_ids=[posts[0].pk, posts[3].pk, 999_999])

        assert deleted == 2
        assert counts_of(member) == {a: 2}
        assert services.daily_counts_differences(member_id=member.pk) == []

    def test_post_delete(self):
        post = a_post()
        assert services.post_delete(post_id=post.pk) is True
        assert services.post_delete(post_id=post.pk) is False
        assert not DailyPostCount.objects.exists()


def test_daily_post_counts_range_is_inclusive_ascending_and_per_member():
    member, other = a_member(), a_member()
    posts_on_days(member, {date(2025, 1, 1): 1, date(2025, 1, 5): 2, date(2025, 1, 9): 3})
    posts_on_days(other, {date(2025, 1, 5): 7})

    found = services.daily_post_counts(
        member_id=member.pk, start=date(2025, 1, 5), end=date(2025, 1, 9)
    )

    assert found == [
        services.DayCount(date(2025, 1, 5), 2),
        services.DayCount(date(2025, 1, 9), 3),
    ]


def test_timeline_page_of_one_member():
    member, other = a_member(), a_member()
    mine = posts_on_days(member, {date(2025, 1, 1): 3})
    posts_on_days(other, {date(2025, 1, 1): 3})

    page = services.timeline_page(member_id=member.pk, cursor=Cursor(size=10))

    assert [p.pk for p in page.items] == [p.pk for p in reversed(mine)]


class TestDayPostsPage:
    def test_one_member_one_day_newest_first(self):
        member = a_member()
        mine = posts_on_days(member, {date(2025, 1, 1): 3, date(2025, 1, 2): 2})
        posts_on_days(a_member(), {date(2025, 1, 2): 2})

        page = services.day_posts_page(member_id=member.pk, day=date(2025, 1, 2), cursor=Cursor())

        assert [p.pk for p in page.items] == [mine[4].pk, mine[3].pk]
        assert (page.older, page.newer) == (None, None)

    @pytest.mark.parametrize(("size", "has_older"), [(2, True), (3, False), (4, False)])
    def test_a_page_at_the_edges(self, size, has_older):
        member = a_member()
        posts_on_days(member, {date(2025, 1, 1): 3})
        page = services.day_posts_page(
            member_id=member.pk, day=date(2025, 1, 1), cursor=Cursor(size=size)
        )
        assert len(page.items) == min(size, 3)
        assert (page.older is not None) == has_older

    def test_a_day_without_posts(self):
        page = services.day_posts_page(
            member_id=a_member().pk, day=date(2025, 1, 1), cursor=Cursor()
        )
        assert (page.items, page.older, page.newer) == ([], None, None)


class TestDailyCountsRebuild:
    def test_recomputes_from_posts(self):
        member, other = a_member(), a_member()
        posts_on_days(member, {date(2025, 1, 1): 2, date(2025, 1, 2): 1})
        posts_on_days(other, {date(2025, 1, 1): 4})
        DailyPostCount.objects.all().update(count=99)
        DailyPostCount.objects.create(member=member, date=date(2030, 1, 1), count=5)

        rows = services.daily_counts_rebuild()

        assert rows == 3
        assert counts_of(member) == {date(2025, 1, 1): 2, date(2025, 1, 2): 1}
        assert counts_of(other) == {date(2025, 1, 1): 4}

    def test_one_member_leaves_the_others_alone(self):
        member, other = a_member(), a_member()
        posts_on_days(member, {date(2025, 1, 1): 2})
        posts_on_days(other, {date(2025, 1, 1): 4})
        DailyPostCount.objects.all().update(count=99)

        services.daily_counts_rebuild(member_id=member.pk)

        assert counts_of(member) == {date(2025, 1, 1): 2}
        assert counts_of(other) == {date(2025, 1, 1): 99}


def test_post_write_normalises_like_the_form():
    import unicodedata

    member = a_member()
    post = services.post_write(
        member_id=member.pk, contents=unicodedata.normalize("NFD", "한글\r\n둘째 줄\r")
    )
    post.refresh_from_db()
    assert post.contents == "한글\n둘째 줄"


def test_post_write_refuses_zero_width_contents():
    member = a_member()
    with pytest.raises(ValidationError):
        services.post_write(member_id=member.pk, contents="\u200b\u200c\u200d")
    assert not Post.objects.exists()
