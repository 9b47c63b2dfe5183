"""Likes, and the per-post like counts every page shows.

A like is a row (one per member and post). The count is kept beside it in the
same transaction, spread over ``LIKE_COUNT_SLOTS`` rows per post: a member's
like always lands in slot ``member_id % LIKE_COUNT_SLOTS``, so concurrent likes
of one popular post lock different rows instead of queueing on one. The count is
the sum of a post's slots (``like_lab`` measures why).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

LIKE_COUNT_SLOTS = 16


class Like(models.Model):
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("member"),
    )
    # Deleting a post deletes its likes and counts with it (one statement each).
    post = models.ForeignKey(
        "posts.Post",
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,  # the unique (post, member) index leads with it
        verbose_name=_("post"),
    )
    created_at = models.DateTimeField(_("liked at"), default=timezone.now)

    class Meta:
        verbose_name = _("like")
        verbose_name_plural = _("likes")
        constraints = [
            models.UniqueConstraint(fields=["post", "member"], name="like_once"),
        ]

    def __str__(self) -> str:
        return f"{self.member_id} likes {self.post_id}"


class LikeCount(models.Model):
    """One slot of a post's like count; the post's count is the sum of its slots."""

    post = models.ForeignKey(
        "posts.Post",
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,  # the unique (post, slot) index leads with it
        verbose_name=_("post"),
    )
    slot = models.PositiveSmallIntegerField(_("slot"))
    count = models.IntegerField(_("count"))

    class Meta:
        verbose_name = _("like count")
        verbose_name_plural = _("like counts")
        constraints = [
            models.UniqueConstraint(fields=["post", "slot"], name="like_count_post_slot"),
            # A slot only ever counts the likes of its own members: never below zero.
            models.CheckConstraint(
                condition=models.Q(count__gte=0), name="like_count_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"post {self.post_id} slot {self.slot}: {self.count}"
