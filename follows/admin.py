"""Follows and their counters in the admin: browsable at millions of rows, never edited here.

Follows change only through the services (the counters move with them), so the
admin reads. Searching by member id filters on the foreign key column itself:
no join, and no changelist counts past core.admin.BOUNDED_COUNT.
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from core.admin import ReadOnlyAdmin
from follows.models import Follow, FollowCount


@admin.register(Follow)
class FollowAdmin(ReadOnlyAdmin):
    list_display = ("id", "follower_id", "followee_id", "created_at")
    search_fields = ("=follower__id", "=followee__id")
    search_help_text = _("Search by the follower's or the followee's member id.")
    ordering = ("-id",)


@admin.register(FollowCount)
class FollowCountAdmin(ReadOnlyAdmin):
    list_display = ("member_id", "followers", "following")
    search_fields = ("=member__id",)
    search_help_text = _("Search by member id.")
    ordering = ("-followers",)
