"""Who follows whom, and how many each member has in either direction.

Members are referenced by id (foreign keys to ``settings.AUTH_USER_MODEL``);
this module never imports the member domain and no query here joins it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

FOLLOWERS_INDEX = "follow_followee_id"  # who follows X: fan-out and the followers list
FOLLOWING_INDEX = "follow_follower_id"  # whom I follow: the following list


class Follow(models.Model):
    follower = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,  # the indexes below lead with it
        verbose_name=_("follower"),
    )
    followee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        verbose_name=_("followee"),
    )
    created_at = models.DateTimeField(_("followed at"), default=timezone.now)

    class Meta:
        verbose_name = _("follow")
        verbose_name_plural = _("follows")
        constraints = [
            # Also the index "does A follow B?" reads.
            models.UniqueConstraint(fields=["follower", "followee"], name="follow_once"),
            models.CheckConstraint(
                condition=~models.Q(follower=models.F("followee")),
                name="follow_not_self",
                violation_error_message=_("A member cannot follow themselves."),
            ),
        ]
        indexes = [
            # WHERE followee_id = ? AND id < ? ORDER BY id DESC: a range read at any depth.
            models.Index(fields=["followee", "id"], name=FOLLOWERS_INDEX),
            models.Index(fields=["follower", "id"], name=FOLLOWING_INDEX),
        ]

    def __str__(self) -> str:
        return f"{self.follower_id} -> {self.followee_id}"


class FollowCount(models.Model):
    """A member's follower and following counts, kept in the transaction of every follow."""

    member = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="+",
        verbose_name=_("member"),
    )
    followers = models.IntegerField(_("followers"), default=0)
    following = models.IntegerField(_("following"), default=0)

    class Meta:
        verbose_name = _("follow count")
        verbose_name_plural = _("follow counts")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(followers__gte=0, following__gte=0),
                name="follow_count_not_negative",
            ),
        ]
        indexes = [
            # The members whose posts are pulled, not pushed: followers > FEED_FANOUT_LIMIT.
            models.Index(fields=["followers"], name="follow_count_followers"),
        ]

    def __str__(self) -> str:
        return f"{self.member_id}: {self.followers} followers, {self.following} following"
