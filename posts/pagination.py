"""Keyset pagination over ids, newest first.

A page is ``WHERE id < before ORDER BY id DESC LIMIT size + 1`` (or ``id > after``
ascending, for the newer page): an index range read whose cost does not grow with
depth. Never ``OFFSET``, never ``COUNT(*)``; the extra row says whether there is
more in the direction of travel, and one ``EXISTS`` probe answers the other way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from django import forms
from django.db import models
from django.utils.translation import gettext_lazy as _

DEFAULT_SIZE = 20
MAX_SIZE = 100

T = TypeVar("T", bound=models.Model)


@dataclass(frozen=True)
class Cursor:
    before: int | None = None
    after: int | None = None
    size: int = DEFAULT_SIZE


class CursorForm(forms.Form):
    """Parses ``?before=``, ``?after=`` and ``?size=``; its errors are the 400's reason."""

    before = forms.IntegerField(min_value=1, required=False)
    after = forms.IntegerField(min_value=0, required=False)
    size = forms.IntegerField(min_value=1, max_value=MAX_SIZE, required=False)

    def clean(self):
        data = super().clean()
        if data.get("before") is not None and data.get("after") is not None:
            raise forms.ValidationError(_("Give either before or after, not both."))
        return data

    def cursor(self) -> Cursor:
        data = self.cleaned_data
        return Cursor(before=data["before"], after=data["after"], size=data["size"] or DEFAULT_SIZE)


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    size: int
    older: Cursor | None  # the next page, further back in time
    newer: Cursor | None  # the previous page


def keyset_page(queryset: models.QuerySet[T], cursor: Cursor) -> Page[T]:
    size = cursor.size
    if cursor.after is not None:
        rows = list(queryset.filter(pk__gt=cursor.after).order_by("pk")[: size + 1])
        has_newer = len(rows) > size
        items = rows[:size][::-1]
        oldest_shown = items[-1].pk if items else cursor.after + 1
        has_older = queryset.filter(pk__lt=oldest_shown).exists()
        newest_shown = items[0].pk if items else cursor.after
    else:
        # The first page is a range too (id > 0): otherwise MySQL/MariaDB's
        # ORDER BY ... LIMIT heuristic may read one member's first page by walking
        # the primary key backwards, through the whole table for a quiet member.
        bound = {"pk__gt": 0} if cursor.before is None else {"pk__lt": cursor.before}
        rows = list(queryset.filter(**bound).order_by("-pk")[: size + 1])
        has_older = len(rows) > size
        items = rows[:size]
        oldest_shown = items[-1].pk if items else cursor.before
        newest_shown = items[0].pk if items else (cursor.before or 1) - 1
        # The first page (no cursor) is the newest by definition.
        has_newer = cursor.before is not None and queryset.filter(pk__gt=newest_shown).exists()
    return Page(
        items=items,
        size=size,
        older=Cursor(before=oldest_shown, size=size) if has_older else None,
        newer=Cursor(after=newest_shown, size=size) if has_newer else None,
    )
