from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MembersConfig(AppConfig):
    name = "members"
    verbose_name = _("Members")

    def ready(self) -> None:
        # Connects the receivers that drop a member's session copy when their row changes.
        from members import services  # noqa: F401
