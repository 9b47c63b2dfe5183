"""The post domain: posts and the per-day counts the calendar reads.

Members are referenced by id (a foreign key to ``settings.AUTH_USER_MODEL``);
this module never imports the member domain and no query here joins it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Length, Trim
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.db import upsert_add
from core.text import LinesField, normalize_text

CONTENTS_MAX_LENGTH = 500
MEMBER_TIMELINE_INDEX = "post_member_id"
MEMBER_DAY_INDEX = "post_member_created_date"


def local_date(moment: datetime) -> date:
    """The calendar date of a moment in TIME_ZONE (not the request's zone)."""
    return timezone.localtime(moment, timezone.get_default_timezone()).date()


# The first migration names it; LinesField's own rules now include it.
def validate_not_blank(value: str) -> None:
    if not value.strip():
        raise ValidationError(_("A post cannot be blank."), code="blank")


class Post(models.Model):
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        # The indexes below lead with member_id and serve the foreign key.
        db_index=False,
        verbose_name=_("author"),
    )
    contents = LinesField(_("contents"), max_length=CONTENTS_MAX_LENGTH)
    created_at = models.DateTimeField(_("created at"))
    created_date = models.DateField(_("created date"))

    class Meta:
        verbose_name = _("post")
        verbose_name_plural = _("posts")
        indexes = [
            # One member's timeline: WHERE member_id = ? AND id < ? ORDER BY id DESC.
            models.Index(fields=["member", "id"], name=MEMBER_TIMELINE_INDEX),
            # The study notes' calendar query: WHERE member_id = ? AND created_date
            # BETWEEN ? AND ? GROUP BY created_date, read from the index alone; and a
            # day's posts (the id that ends every entry orders them, pages by key).
            models.Index(fields=["member", "created_date"], name=MEMBER_DAY_INDEX),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(
                    models.lookups.GreaterThanOrEqual(Length(Trim("contents")), 1),
                    models.lookups.LessThanOrEqual(Length("contents"), CONTENTS_MAX_LENGTH),
                ),
                name="post_contents_length",
                violation_error_message=_("A post has 1 to 500 characters and is not blank."),
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.contents[:40]}"

    @classmethod
    def write(cls, *, member_id: int, contents: str, at: datetime) -> Post:
        """A new, unsaved post (contents normalised), dated the day ``at`` falls on in TIME_ZONE."""
        return cls(
            member_id=member_id,
            contents=normalize_text(contents, multiline=True),
            created_at=at,
            created_date=local_date(at),
        )


class DailyPostCountManager(models.Manager["DailyPostCount"]):
    def add(self, counts: Iterable[tuple[int, date, int]]) -> None:
        """Add each ``(member_id, date, delta)`` to that day's count, atomically.

        One upsert (``count = count + delta`` in the database), so concurrent
        writers never lose an update; rows that reach zero are deleted, so the
        table stays equal to ``GROUP BY`` over posts.
        """
        counts = list(counts)
        upsert_add(self.model, keys=["member_id", "date"], counters=["count"], rows=counts)
        emptied = models.Q()
        for member_id, day, delta in counts:
            if delta < 0:
                emptied |= models.Q(member_id=member_id, date=day)
        if emptied:
            self.filter(emptied, count__lte=0).delete()


class DailyPostCount(models.Model):
    """How many posts a member wrote on a day; kept with every write and delete."""

    member = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,  # the unique (member, date) index leads with member_id
        verbose_name=_("member"),
    )
    date = models.DateField(_("date"))
    count = models.IntegerField(_("count"))

    objects = DailyPostCountManager()

    class Meta:
        verbose_name = _("daily post count")
        verbose_name_plural = _("daily post counts")
        constraints = [
            models.UniqueConstraint(fields=["member", "date"], name="daily_post_count_member_date"),
            models.CheckConstraint(
                condition=models.Q(count__gte=0), name="daily_post_count_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.date}: {self.count}"
