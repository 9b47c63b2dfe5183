"""Object Mother for the top floor: members who follow each other and post through the
use cases, as the site's pages do."""

from members.tests.mothers import a_member
from social import usecases

__all__ = ["a_member", "crowd_following", "follow", "publish"]


def publish(member, contents: str = "hello"):
    """A post written as /posts/new/ writes it (fan-out runs when the test's callbacks do)."""
    return usecases.post_publish(member_id=member.pk, contents=contents)


def follow(follower, followee) -> None:
    usecases.follow(follower_id=follower.pk, followee_id=followee.pk)


def crowd_following(star, n: int, on_commit) -> list:
    """``n`` new members who follow ``star``, their backfills run (``on_commit``: pytest-django's
    ``django_capture_on_commit_callbacks``)."""
    crowd = [a_member() for _ in range(n)]
    with on_commit(execute=True):
        for member in crowd:
            follow(member, star)
    return crowd
