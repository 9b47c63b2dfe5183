"""Admin helpers shared by the apps: changelists that stay fast at millions of rows."""

from django.contrib import admin
from django.core.paginator import Paginator
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

BOUNDED_COUNT = 10_000


class BoundedCountPaginator(Paginator):
    """Counts at most BOUNDED_COUNT rows (``SELECT COUNT(*) FROM (... LIMIT n)``).

    The admin's pages past that bound are not offered; search narrows instead.
    """

    @cached_property
    def count(self) -> int:
        return self.object_list[:BOUNDED_COUNT].count()


class LargeTableAdmin(admin.ModelAdmin):
    paginator = BoundedCountPaginator
    show_full_result_count = False
    list_per_page = 50


class ReadOnlyAdmin(LargeTableAdmin):
    """Rows written only by the services (history, counters): browse, never edit."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class OutboxStateFilter(admin.SimpleListFilter):
    """An outbox's rows by state (``core.outbox``): not done yet, or done."""

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
