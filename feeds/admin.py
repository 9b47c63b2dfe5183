"""The fan-out outbox in the admin: what is pending, what is done. Feed rows are
not listed (their primary key is composite; ``feeds_check`` inspects them)."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from core.admin import OutboxStateFilter, ReadOnlyAdmin
from feeds.models import FanoutJob


@admin.register(FanoutJob)
class FanoutJobAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "kind",
        "post_id",
        "author_id",
        "member_id",
        "cursor",
        "created_at",
        "queued_at",
        "done_at",
    )
    list_filter = (OutboxStateFilter, "kind")
    search_fields = ("=post__id", "=author_id")
    search_help_text = _("Search by post id or author id.")
    ordering = ("-id",)
