"""The shared text rules: what nicknames and posts accept, and how they are normalised."""

import unicodedata

import pytest
from django.core.exceptions import ValidationError

from core.templatetags.text_tags import lang_attr
from core.text import TextFormField, check_text, normalize_text, text_language

HANGUL_NFD = unicodedata.normalize("NFD", "열글자한국어닉네임")


def test_normalize_composes_decomposed_hangul():
    assert len(HANGUL_NFD) > 10
    assert normalize_text(HANGUL_NFD) == "열글자한국어닉네임"


def test_normalize_turns_crlf_and_lone_cr_into_lf_in_multiline_text():
    assert normalize_text(" a\r\nb\rc\n ", multiline=True) == "a\nb\nc"


@pytest.mark.parametrize(
    "value",
    ["\u200b", "\u200d", "\u3164", "\u2800", "\u200b\u200d\ufeff", "\u115f\u1160", "\u0301"],
)
def test_invisible_only_text_is_refused(value):
    with pytest.raises(ValidationError) as exc:
        check_text(value)
    assert exc.value.code == "invisible"


@pytest.mark.parametrize("value", ["a\tb", "a\nb", "a\x00b", "a\x1bb", "a\x85b"])
def test_a_line_refuses_every_control_character(value):
    with pytest.raises(ValidationError) as exc:
        check_text(value)
    assert exc.value.code == "control"


def test_multiline_text_allows_line_feeds_only():
    check_text("one\ntwo", multiline=True)
    with pytest.raises(ValidationError):
        check_text("one\ttwo", multiline=True)


@pytest.mark.parametrize("char", ["\u202e", "\u202d", "\u202a", "\u2066", "\u2067", "\u2069"])
@pytest.mark.parametrize("multiline", [False, True])
def test_bidi_overrides_and_isolates_are_refused(char, multiline):
    with pytest.raises(ValidationError) as exc:
        check_text(f"abc{char}def", multiline=multiline)
    assert exc.value.code == "bidi"


@pytest.mark.parametrize("value", ["김", "a", "👨\u200d👩\u200d👧", "third ✨", "x\u200by"])
def test_visible_text_passes(value):
    check_text(value)


def test_the_form_field_counts_after_normalising():
    field = TextFormField(max_length=10)
    assert field.clean(HANGUL_NFD + " ") == "열글자한국어닉네임"
    assert TextFormField(max_length=3, multiline=True).clean("a\r\nb") == "a\nb"


@pytest.mark.parametrize(
    ("value", "language"),
    [
        ("이번 겨울은 든든합니다.", "ko"),
        ("Keyset paging, 정말 빠르다", "ko"),
        (unicodedata.normalize("NFD", "한"), "ko"),  # conjoining jamo
        ("ㅋㅋㅋ", "ko"),  # compatibility jamo
        ("Plain English.", None),
        ("日本語のテキスト", None),
        ("", None),
    ],
)
def test_text_language_tells_korean_apart(value, language):
    assert text_language(value) == language


def test_the_lang_attr_filter():
    assert lang_attr("든든합니다") == ' lang="ko"'
    assert lang_attr("hello") == ""
