"""The year heat map's 371 cells, rendered in Python.

The template language costs ~80 µs a cell with its tooltip; building the cells
here keeps the whole page well under the 30 ms target.
"""

from datetime import date

from django import template
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import ngettext

from posts.facades import CalendarDay

register = template.Library()


def day_title(day: CalendarDay) -> str:
    # Same msgid as the month grid's {% blocktranslate count %}.
    return ngettext("%(date)s: %(counter)s post", "%(date)s: %(counter)s posts", day.count) % {
        "date": date_format(day.date, "DATE_FORMAT"),
        "counter": day.count,
    }


def _cell(day: CalendarDay) -> SafeString:
    if not day.in_range:
        return mark_safe('<span class="heat outside"></span>')  # noqa: S308 - a constant
    return format_html(
        '<span class="heat level-{}{}" data-date="{}" data-count="{}" title="{}"></span>',
        day.level,
        " today" if day.is_today else "",
        day.date.isoformat(),
        day.count,
        day_title(day),
    )


def _label(first: date | None) -> SafeString:
    # The month's short name over the week it starts in; the cell is narrow, so
    # CSS keeps the text on one line and lets it run over the next columns. Not a
    # link: too small to tap; the months above the map are the way to each.
    if first is None:
        return mark_safe('<span class="heat-label"></span>')  # noqa: S308 - a constant
    return format_html('<span class="heat-label">{}</span>', date_format(first, "M"))


@register.simple_tag
def heat_weeks(weeks: list[list[CalendarDay]], month_starts: list[tuple[int, date]]) -> SafeString:
    """One column per week: the month label, then seven cells, Sunday first."""
    labels = dict(month_starts)
    return format_html_join(
        "",
        '<div class="heat-week">{}{}</div>',
        (
            (_label(labels.get(column)), format_html_join("", "{}", ((_cell(d),) for d in week)))
            for column, week in enumerate(weeks)
        ),
    )
