"""Admin for posts and daily counts, built to stay fast at millions of rows.

No changelist counts the whole table (core.admin.BoundedCountPaginator),
none joins members, and deleting posts goes through the
service so the daily counts stay right.
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from core.admin import LargeTableAdmin, ReadOnlyAdmin
from posts import services
from posts.models import DailyPostCount, Post


@admin.register(Post)
class PostAdmin(LargeTableAdmin):
    list_display = ("id", "member_id", "created_at", "created_date", "short_contents")
    search_fields = ("=member__id",)
    search_help_text = _("Search by the author's member id.")
    ordering = ("-id",)
    fields = ("member", "contents", "created_at", "created_date")
    readonly_fields = ("member", "created_at", "created_date")

    @admin.display(description=_("contents"))
    def short_contents(self, obj: Post) -> str:
        return obj.contents if len(obj.contents) <= 60 else obj.contents[:59] + "…"

    def has_add_permission(self, request) -> bool:
        return False  # posts are written on /posts/new/, through the service

    def delete_model(self, request, obj: Post) -> None:
        services.post_delete(post_id=obj.pk)

    def delete_queryset(self, request, queryset) -> None:
        services.posts_delete(post_ids=queryset.values_list("id", flat=True))


@admin.register(DailyPostCount)
class DailyPostCountAdmin(ReadOnlyAdmin):
    list_display = ("id", "member_id", "date", "count")
    search_fields = ("=member__id",)
    search_help_text = _("Search by member id.")
    ordering = ("-id",)
