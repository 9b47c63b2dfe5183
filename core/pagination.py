"""Keyset pagination over ids, newest first.

A page is ``WHERE id < before ORDER BY id DESC LIMIT size + 1`` (or ``id > after``
ascending, for the newer page): an index range read whose cost does not grow with
depth, as long as the database seeks to the cursor (see ``keyset_page``'s
``index``). Never ``OFFSET``, never ``COUNT(*)``; the extra row says whether
there is more in the direction of travel, one ``EXISTS`` probe answers the
other way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from django import forms
from django.db import connections, models
from django.utils.translation import gettext_lazy as _

from core.forms import StrictIntegerField

DEFAULT_SIZE = 20
MAX_SIZE = 100
MAX_ID = 2**63 - 1  # ids are BIGINT

T = TypeVar("T", bound=models.Model)


@dataclass(frozen=True)
class Cursor:
    before: int | None = None
    after: int | None = None
    size: int = DEFAULT_SIZE


class CursorForm(forms.Form):
    """Parses ``?before=``, ``?after=`` and ``?size=``; its errors are the 400's reason."""

    before = StrictIntegerField(min_value=1, max_value=MAX_ID, required=False)
    after = StrictIntegerField(min_value=0, max_value=MAX_ID, required=False)
    size = StrictIntegerField(min_value=1, max_value=MAX_SIZE, required=False)

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
    newer: Cursor | None = None  # the previous page


def _hinted(queryset: models.QuerySet, index: str) -> tuple[str, tuple]:
    """The queryset's SQL, told to read ``index``: FORCE INDEX / INDEXED BY."""
    connection = connections[queryset.db]
    sql, params = queryset.query.sql_with_params()
    q = connection.ops.quote_name
    table = q(queryset.model._meta.db_table)
    hint = f"FORCE INDEX ({q(index)})" if connection.vendor == "mysql" else f"INDEXED BY {q(index)}"
    return sql.replace(f"FROM {table}", f"FROM {table} {hint}", 1), params


def _fetch(queryset: models.QuerySet[T], index: str | None) -> list[T]:
    if index is None:
        return list(queryset)
    return list(queryset.model.objects.raw(*_hinted(queryset, index)))


def _exists(queryset: models.QuerySet, index: str | None) -> bool:
    if index is None:
        return queryset.exists()
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(*_hinted(queryset.values("pk")[:1], index))
        return cursor.fetchone() is not None


def keyset_page(
    queryset: models.QuerySet[T], cursor: Cursor, *, index: str | None = None, key: str = "pk"
) -> Page[T]:
    """One page of ``queryset``, newest first, ordered by ``key`` (a unique column).

    ``index`` names the index every query of the page must read. MySQL/MariaDB
    need it for a filtered list such as one member's posts: given
    ``member_id = ? AND id < ?``, they read the (member_id, id) index from the
    member's newest entry down ("ref") instead of seeking to the cursor
    ("range"), so a page at depth 100 000 reads 100 000 entries.
    """
    size = cursor.size

    def below(value: int) -> models.QuerySet[T]:
        return queryset.filter(**{f"{key}__lt": value})

    def above(value: int) -> models.QuerySet[T]:
        return queryset.filter(**{f"{key}__gt": value})

    if cursor.after is not None:
        rows = _fetch(above(cursor.after).order_by(key)[: size + 1], index)
        has_newer = len(rows) > size
        items = rows[:size][::-1]
        if not items:
            # Nothing is newer than the cursor, so the newest page is the older one:
            # a link to it works even for after=MAX_ID (before=MAX_ID + 1 would not).
            older_exists = _exists(queryset.filter(**{f"{key}__lte": cursor.after}), index)
            return Page(
                items=[], size=size, older=Cursor(size=size) if older_exists else None, newer=None
            )
        oldest_shown, newest_shown = getattr(items[-1], key), getattr(items[0], key)
        has_older = _exists(below(oldest_shown), index)
    else:
        scoped = queryset if cursor.before is None else below(cursor.before)
        rows = _fetch(scoped.order_by(f"-{key}")[: size + 1], index)
        has_older = len(rows) > size
        items = rows[:size]
        oldest_shown = getattr(items[-1], key) if items else cursor.before
        newest_shown = getattr(items[0], key) if items else (cursor.before or 1) - 1
        # The first page (no cursor) is the newest by definition.
        has_newer = cursor.before is not None and _exists(above(newest_shown), index)
    return Page(
        items=items,
        size=size,
        older=Cursor(before=oldest_shown, size=size) if has_older else None,
        newer=Cursor(after=newest_shown, size=size) if has_newer else None,
    )


def merge_pages(pages: list[Page[int]], cursor: Cursor) -> Page[int]:
    """The page one keyset read over the union of several sources would give.

    Each of ``pages`` is the same ``cursor`` applied to one source of keys (say a
    member's feed and a pulled author's posts). Each source gave its ``size`` keys
    nearest the cursor, so the ``size`` nearest of their union are the page; a
    source with more in a direction means the union has more there too. Keys
    found in two sources are shown once.
    """
    size = cursor.size
    keys = sorted({key for page in pages for key in page.items}, reverse=True)
    if cursor.after is not None:
        items = keys[-size:]
        has_newer = len(keys) > size or any(p.newer for p in pages)
        has_older = any(p.older for p in pages)
        if not items:  # as in keyset_page: the newest page is the older one
            return Page(items=[], size=size, older=Cursor(size=size) if has_older else None)
        oldest_shown, newest_shown = items[-1], items[0]
    else:
        items = keys[:size]
        has_older = len(keys) > size or any(p.older for p in pages)
        has_newer = any(p.newer for p in pages)
        oldest_shown = items[-1] if items else cursor.before
        newest_shown = items[0] if items else (cursor.before or 1) - 1
    return Page(
        items=items,
        size=size,
        older=Cursor(before=oldest_shown, size=size) if has_older else None,
        newer=Cursor(after=newest_shown, size=size) if has_newer else None,
    )
