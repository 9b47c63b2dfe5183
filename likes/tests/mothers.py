"""Object Mother for the like domain."""

from likes import services
from posts.tests.mothers import a_member, a_post

__all__ = ["a_like", "a_member", "a_post"]


def a_like(member, post) -> None:
    services.like_add(member_id=member.pk, post_id=post.pk)
