"""Forms for posts and for the calendar's parameters; their errors are the 400's reason."""

from datetime import date

from django import forms
from django.utils.translation import gettext_lazy as _

from core.forms import StrictDateField, StrictIntegerField
from core.pagination import CursorForm
from posts.facades import FIRST_YEAR, LAST_YEAR
from posts.models import Post

MAX_RANGE_DAYS = 3660


def error_text(form: forms.Form) -> str:
    """A form's errors as one line, for a 400 response."""
    return "; ".join(
        " ".join(errors) if field == "__all__" else f"{field}: {' '.join(errors)}"
        for field, errors in form.errors.items()
    )


class PostForm(forms.Form):
    contents = Post._meta.get_field("contents").formfield(
        widget=forms.Textarea(attrs={"rows": 4, "maxlength": 500}),
        help_text=_("Up to 500 characters."),
    )


class CalendarPageForm(forms.Form):
    """``?month=YYYY-MM`` or ``?year=YYYY`` (neither: this month)."""

    month = forms.RegexField(
        regex=r"^[0-9]{4}-[0-9]{2}\Z",
        required=False,
        error_messages={"invalid": _("Use YYYY-MM, e.g. 2025-03.")},
    )
    year = StrictIntegerField(min_value=FIRST_YEAR, max_value=LAST_YEAR, required=False)

    def clean_month(self) -> date | None:
        value = self.cleaned_data["month"]
        if not value:
            return None
        year, month = int(value[:4]), int(value[5:])
        if not 1 <= month <= 12:
            raise forms.ValidationError(_("The month must be 01 to 12."))
        if not FIRST_YEAR <= year <= LAST_YEAR:
            raise forms.ValidationError(
                _("The year must be %(first)d to %(last)d.")
                % {"first": FIRST_YEAR, "last": LAST_YEAR}
            )
        return date(year, month, 1)

    def clean(self):
        data = super().clean()
        if data.get("month") and data.get("year"):
            raise forms.ValidationError(_("Give either month or year, not both."))
        return data


class CalendarDayForm(CursorForm):
    """The day of ``/me/calendar/<YYYY-MM-DD>/`` and the page's ``?before=``/``?after=``."""

    day = StrictDateField()

    def clean_day(self) -> date:
        day = self.cleaned_data["day"]
        if not FIRST_YEAR <= day.year <= LAST_YEAR:
            raise forms.ValidationError(
                _("The year must be %(first)d to %(last)d.")
                % {"first": FIRST_YEAR, "last": LAST_YEAR}
            )
        return day


class CalendarRangeForm(forms.Form):
    """``?start=YYYY-MM-DD&end=YYYY-MM-DD``, both included, at most 3660 days."""

    start = StrictDateField()
    end = StrictDateField()

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end:
            if start > end:
                raise forms.ValidationError(_("start must not be after end."))
            if (end - start).days + 1 > MAX_RANGE_DAYS:
                raise forms.ValidationError(
                    _("The range is at most %(max)d days.") % {"max": MAX_RANGE_DAYS}
                )
        return data
