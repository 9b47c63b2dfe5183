"""Admin for posts and daily counts, built to stay fast at millions of rows.

No changelist counts the whole table (core.admin.BoundedCountPaginator),
none joins members, and deleting posts goes through the service an author's
delete uses, so the daily counts stay right; its confirmation page reads the
posts only.
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

    def get_deleted_objects(self, objs, request):
        """What the confirmation page lists: a summary, not every row.

        Django would collect each like, like count, feed row and fan-out job of the
        post, to list it and to ask for delete permission on it: seconds for a post in
        100 000 feeds, and a refusal. The service deletes them with the post.
        """
        posts = list(objs)
        summary = [_("its likes, and its place in every home feed and timeline")]
        return [*map(str, posts), summary], {_("posts"): len(posts)}, set(), []

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
