"""Object Mother for feeds: the state of feeds, read back; posts and follows come from the
top floor's mother (``social.tests.mothers``), written as the site writes them."""

from feeds import services
from feeds.models import FeedEntry
from social.tests.mothers import a_member, follow, publish

__all__ = ["a_member", "feed_of", "follow", "holders", "publish"]


def feed_of(member) -> list[int]:
    """The post ids in a member's feed, newest first."""
    return services.feed_post_ids(owner_id=member.pk)


def holders(post) -> list[int]:
    """Whose feeds hold the post, by member id."""
    return sorted(FeedEntry.objects.filter(post=post).values_list("owner_id", flat=True))
