"""Likes and their counts in the admin: browsable at millions of rows, never edited here."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from core.admin import ReadOnlyAdmin
from likes.models import Like, LikeCount


@admin.register(Like)
class LikeAdmin(ReadOnlyAdmin):
    list_display = ("id", "member_id", "post_id", "created_at")
    search_fields = ("=post__id", "=member__id")
    search_help_text = _("Search by post id or member id.")
    ordering = ("-id",)


@admin.register(LikeCount)
class LikeCountAdmin(ReadOnlyAdmin):
    list_display = ("id", "post_id", "slot", "count")
    search_fields = ("=post__id",)
    search_help_text = _("Search by post id.")
    ordering = ("-id",)
