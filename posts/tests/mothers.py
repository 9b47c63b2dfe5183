"""Object Mother for the post domain: posts on the days a test needs."""

from __future__ import annotations

from datetime import date, datetime, time

from django.utils import timezone
from model_bakery import baker

from members.tests.mothers import a_member
from posts.models import DailyPostCount, Post

__all__ = ["a_member", "a_post", "noon", "posts_on_days"]


def noon(day: date) -> datetime:
    return datetime.combine(day, time(12), timezone.get_default_timezone())


def a_post(member=None, *, contents: str = "hello", at: datetime | None = None) -> Post:
    """One post, counted on its day like the service would."""
    member = member or a_member()
    at = at or timezone.now()
    post = baker.make(Post, **_fields(member.pk, contents, at))
    DailyPostCount.objects.add([(member.pk, post.created_date, 1)])
    return post


def posts_on_days(member, per_day: dict[date, int]) -> list[Post]:
    """``{date: n}`` -> n posts at noon on each day, oldest first, with the daily counts."""
    posts = [
        Post(**_fields(member.pk, f"post {i} on {day}", noon(day)))
        for day in sorted(per_day)
        for i in range(per_day[day])
    ]
    created = Post.objects.bulk_create(posts)
    DailyPostCount.objects.add((member.pk, day, n) for day, n in per_day.items())
    return created


def _fields(member_id: int, contents: str, at: datetime) -> dict:
    post = Post.write(member_id=member_id, contents=contents, at=at)
    return {
        "member_id": member_id,
        "contents": post.contents,
        "created_at": post.created_at,
        "created_date": post.created_date,
    }
