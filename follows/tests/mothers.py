"""Object Mother for the follow domain: follows as the service leaves them (with counters)."""

from follows import services
from members.tests.mothers import a_member

__all__ = ["a_follow", "a_member", "followers_of"]


def a_follow(follower, followee) -> None:
    services.follow_add(follower_id=follower.pk, followee_id=followee.pk)


def followers_of(member, n: int) -> list:
    """``n`` new members who follow ``member``, oldest follow first."""
    crowd = [a_member() for _ in range(n)]
    for follower in crowd:
        a_follow(follower, member)
    return crowd
