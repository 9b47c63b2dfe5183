"""Admin helpers shared by the apps: changelists that stay fast at millions of rows."""

from django.contrib import admin
from django.core.paginator import Paginator
from django.utils.functional import cached_property

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
