"""What the login throttle (django-axes) counts: failures per email and client address.

Locking by the pair, not by either alone: someone guessing alice's password from
one address locks that pair out, while alice still logs in from home and everyone
else from the guesser's network still logs in.
"""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from members.models import normalize_email


def login_username(request: HttpRequest, credentials: dict | None) -> str:
    """The email an attempt names, as stored: ``Alice@`` and ``alice@`` count as one."""
    username = (credentials or {}).get("username") or request.POST.get("username", "")
    return normalize_email(str(username))[:254]


def locked_out(request: HttpRequest, original_response=None, credentials=None) -> HttpResponse:
    """The answer while a pair is locked out: 429 and when to try again."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return render(request, "registration/locked_out.html", {"minutes": minutes}, status=429)
