"""Form fields that parse what a URL or a form carries, strictly.

Python's ``int()`` and ``strptime`` take more than people type in a query
string: ``1_0``, Arabic-Indic ``٣``, full-width ``５``, a one-digit month. These
fields take ASCII digits only, so every value has one spelling; their errors are
Django's own ("Enter a whole number.", "Enter a valid date.").
"""

import re

from django import forms

DIGITS = re.compile(r"[0-9]+")
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class StrictIntegerField(forms.IntegerField):
    def to_python(self, value):
        if value not in self.empty_values and not DIGITS.fullmatch(str(value).strip()):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return super().to_python(value)


class StrictDateField(forms.DateField):
    """A date as YYYY-MM-DD, in ASCII digits."""

    def __init__(self, **kwargs):
        kwargs.setdefault("input_formats", ["%Y-%m-%d"])
        super().__init__(**kwargs)

    def to_python(self, value):
        if isinstance(value, str) and value.strip() and not ISO_DATE.fullmatch(value.strip()):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return super().to_python(value)
