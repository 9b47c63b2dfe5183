from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FeedsConfig(AppConfig):
    name = "feeds"
    verbose_name = _("Feeds")

    def ready(self) -> None:
        # Imported here: the models are not ready when this module is.
        from core.outbox import sweep_started
        from feeds.services import pull_authors_reconcile

        # Every outbox sweep brings the pulled authors in line with the follower counts.
        sweep_started.connect(
            lambda **kwargs: pull_authors_reconcile(), dispatch_uid="feeds.pull_authors", weak=False
        )
