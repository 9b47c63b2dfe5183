"""Object Mother for feeds: the state of feeds, read back; posts and follows come from the
top floor's mother (``social.tests.mothers``), written as the site writes them."""

from django.utils import timezone

from feeds import services
from feeds.models import FeedEntry
from social.tests.mothers import a_member, follow, publish

__all__ = ["a_member", "feed_of", "follow", "holders", "publish", "pull_authors_settled"]


def feed_of(member) -> list[int]:
    """The post ids in a member's feed, newest first."""
    return services.feed_post_ids(owner_id=member.pk)


def holders(post) -> list[int]:
    """Whose feeds hold the post, by member id."""
    return sorted(FeedEntry.objects.filter(post=post).values_list("owner_id", flat=True))


def pull_authors_settled() -> dict[str, int]:
    """The sweep's reconcile, as if it had run a settling time ago: authors over the
    limit are pulled from now on (their rows settled), those under it pushed back."""
    return services.pull_authors_reconcile(now=timezone.now() - services.pull_settle())
