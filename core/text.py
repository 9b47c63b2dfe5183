"""Text that people type: one normalisation and one set of rules for every domain.

Nicknames (one line) and post contents (several lines) are normalised before
anything counts or checks them: Unicode NFC (a Korean syllable typed as
decomposed jamo is one character, as it is on screen), line breaks as LF (a
browser sends a textarea's line breaks as CRLF but its ``maxlength`` counts
one), surrounding whitespace trimmed. Then the rules: at least one visible
character, no control characters (a post may have line breaks) and no bidi
embeddings, overrides or isolates (they reverse the text that follows, even
outside the value on the page).

The model fields and their form fields below apply both, so a page, the admin
and a service call from a shell accept and store exactly the same text.
"""

from __future__ import annotations

import re
import unicodedata

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Letters and symbols that draw nothing: the Hangul fillers and the blank braille
# cell are favourite "empty" nicknames.
BLANK_GRAPHICS = frozenset("\u115f\u1160\u3164\uffa0\u2800")
# Categories that draw nothing on their own: separators, controls and format
# characters (zero-width space and joiners), combining marks, unassigned.
INVISIBLE_CATEGORIES = frozenset({"Zs", "Zl", "Zp", "Cc", "Cf", "Cs", "Co", "Cn", "Mn", "Me"})


# Hangul: syllables, conjoining jamo (and their extensions), compatibility jamo.
HANGUL = re.compile("[\u1100-\u11ff\u3130-\u318f\ua960-\ua97f\uac00-\ud7af\ud7b0-\ud7ff]")


def text_language(value: str) -> str | None:
    """``"ko"`` for text with Hangul in it, else None (the page's language applies).

    A page marks such text with ``lang="ko"`` whatever the interface's language, so that
    its lines break between words, as Korean does (``:lang(ko)`` in site.css), and a
    screen reader reads it in a Korean voice. Other scripts are not told apart.
    """
    return "ko" if HANGUL.search(value) else None


def normalize_text(value: str, *, multiline: bool = False) -> str:
    value = unicodedata.normalize("NFC", value)
    if multiline:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    return value.strip()


def is_visible(char: str) -> bool:
    return char not in BLANK_GRAPHICS and unicodedata.category(char) not in INVISIBLE_CATEGORIES


def check_text(value: str, *, multiline: bool = False) -> None:
    """Raise ``ValidationError`` unless ``value`` is text a person can see and read."""
    allowed_controls = {"\n"} if multiline else set()
    for char in value:
        category = unicodedata.category(char)
        if (category == "Cc" and char not in allowed_controls) or category == "Cs":
            raise ValidationError(
                _("Control characters (such as tab) are not allowed: %(char)s.")
                % {"char": f"U+{ord(char):04X}"},
                code="control",
            )
        if char in BIDI_CONTROLS:
            raise ValidationError(
                _("Characters that change the text's direction are not allowed: %(char)s.")
                % {"char": f"U+{ord(char):04X}"},
                code="bidi",
            )
    if value and not any(is_visible(char) for char in value):
        raise ValidationError(_("Use at least one visible character."), code="invisible")


def validate_line(value: str) -> None:
    check_text(value, multiline=False)


def validate_lines(value: str) -> None:
    check_text(value, multiline=True)


class TextFormField(forms.CharField):
    """A form's CharField that normalises before the length and the rules are checked."""

    def __init__(self, *, multiline: bool = False, **kwargs):
        self.multiline = multiline
        super().__init__(**kwargs)
        self.validators.append(validate_lines if multiline else validate_line)

    def to_python(self, value):
        value = super().to_python(value)
        return normalize_text(value, multiline=self.multiline) if value else value


class LineField(models.CharField):
    """One line of text (a nickname): normalised, visible, no control characters."""

    multiline = False
    default_validators = [validate_line]

    def to_python(self, value):
        value = super().to_python(value)
        return normalize_text(value, multiline=self.multiline) if isinstance(value, str) else value

    def formfield(self, **kwargs):
        return super().formfield(
            **{"form_class": TextFormField, "multiline": self.multiline, **kwargs}
        )


class LinesField(LineField):
    """Text with line breaks (a post): as ``LineField``, and LF is allowed."""

    multiline = True
    default_validators = [validate_lines]
