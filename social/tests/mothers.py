"""Object Mother for the top floor: members who follow each other and post through the
use cases, as the site's pages do."""

from members.tests.mothers import a_member
from social import usecases

__all__ = ["a_member", "follow", "publish"]


def publish(member, contents: str = "hello"):
    """A post written as /posts/new/ writes it (fan-out runs when the test's callbacks do)."""
    return usecases.post_publish(member_id=member.pk, contents=contents)


def follow(follower, followee) -> None:
    usecases.follow(follower_id=follower.pk, followee_id=followee.pk)
