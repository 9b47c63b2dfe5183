"""The site's header (templates/_site_header.html), rendered once and filled in per request.

The header is the same on every page but for the member's nickname, their CSRF
token (the logout form), the current address (the language switcher's ``next``)
and which link is the current page. Rendered by the template language it cost
about half of a small member page (seven URLs reversed, each language's name, a
dozen tags). So it is rendered once per language, visitor kind (member or not)
and current page, with placeholders for the other three, kept in this process,
and each request replaces the placeholders with its own values, escaped.
"""

from __future__ import annotations

import re
from types import SimpleNamespace

from django import template
from django.middleware.csrf import get_token
from django.template import Context
from django.template.loader import get_template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

register = template.Library()

TEMPLATE = "_site_header.html"
# Letters and digits only: escaping leaves them as they are.
NICKNAME, TOKEN, NEXT = "sNsHeAdErNiCk", "sNsHeAdErToKeN", "sNsHeAdErNeXt"

_kept: dict[tuple, str] = {}  # (language, member, marked path or "") -> header
_marked: set[str] = set()  # the paths the header marks as the current page


def _marked_paths() -> set[str]:
    """The paths the template compares ``path`` with (it marks those as current)."""
    if not _marked:
        source = get_template(TEMPLATE).template.source
        _marked.update(re.findall(r'path == "([^"]+)"', source))
    return _marked


def _render(member: bool, path: str) -> str:
    user = SimpleNamespace(is_authenticated=member, nickname=NICKNAME)
    request = SimpleNamespace(path=path, get_full_path=NEXT)
    context = Context({"user": user, "request": request, "csrf_token": TOKEN})
    # Without the file's last line break: base.html has its own after the tag.
    return get_template(TEMPLATE).template.render(context).removesuffix("\n")


@register.simple_tag(takes_context=True)
def site_header(context) -> SafeString:
    request, user = context["request"], context["user"]
    member = user.is_authenticated
    path = request.path if request.path in _marked_paths() else ""
    key = (get_language(), member, path)
    header = _kept.get(key)
    if header is None:
        header = _kept[key] = _render(member, path)
    header = header.replace(NEXT, escape(request.get_full_path()))
    if member:
        header = header.replace(NICKNAME, escape(user.nickname))
        header = header.replace(TOKEN, escape(get_token(request)))
    return mark_safe(header)  # noqa: S308 - rendered by the template engine; values escaped
