"""Template filters for text that people type."""

from django import template
from django.utils.html import format_html

from core.text import text_language

register = template.Library()


@register.filter
def lang_attr(value: str) -> str:
    """`` lang="ko"`` for Korean text, to go in its element's tag; else nothing."""
    language = text_language(value)
    return format_html(' lang="{}"', language) if language else ""
