"""The fan-out outbox in the admin: what is pending, what is done. Feed rows are
not listed (their primary key is composite; ``feeds_check`` inspects them)."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from config.admin import ReadOnlyAdmin
from feeds.models import FanoutJob


class PendingFilter(admin.SimpleListFilter):
    title = _("state")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("pending", _("pending")), ("done", _("done"))]

    def queryset(self, request, queryset):
        if self.value() == "pending":
            return queryset.filter(done_at__isnull=True)
        if self.value() == "done":
            return queryset.filter(done_at__isnull=False)
        return queryset


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
        "sent_at",
        "done_at",
    )
    list_filter = (PendingFilter, "kind")
    search_fields = ("=post__id", "=author_id")
    search_help_text = _("Search by post id or author id.")
    ordering = ("-id",)
