from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FeedsConfig(AppConfig):
    name = "feeds"
    verbose_name = _("Feeds")

    def ready(self) -> None:
        # Imported here: the models are not ready when this module is.
        from core.outbox import sweep_started
        from feeds.services import feeds_of_posts_deleting, pull_authors_reconcile
        from posts.services import posts_deleting

        # Every outbox sweep brings the pulled authors in line with the follower counts.
        sweep_started.connect(
            lambda **kwargs: pull_authors_reconcile(), dispatch_uid="feeds.pull_authors", weak=False
        )
        # Deleted posts leave the feeds by foreign key: those feeds' kept homes go stale.
        posts_deleting.connect(feeds_of_posts_deleting, dispatch_uid="feeds.posts_deleting")
