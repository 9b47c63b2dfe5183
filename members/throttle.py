"""The throttles: failed logins (django-axes) and password reset requests (django-ratelimit).

Logins lock by the pair of email and client address, not by either alone:
someone guessing alice's password from one address locks that pair out, while
alice still logs in from home and everyone else from the guesser's network still
logs in.
"""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django_ratelimit.core import get_usage

from core.web.security import client_ip
from members.models import Member, normalize_email


def login_username(request: HttpRequest, credentials: dict | None) -> str:
    """The email an attempt names, as stored: ``Alice@`` and ``alice@`` count as one."""
    # Django's authenticate() names it "username"; axes' backend, the USERNAME_FIELD.
    credentials = credentials or {}
    username = (
        credentials.get("username")
        or credentials.get(Member.USERNAME_FIELD)
        or request.POST.get("username", "")
    )
    return normalize_email(str(username))[:254]


def locked_out(request: HttpRequest, original_response=None, credentials=None) -> HttpResponse:
    """The answer while a pair is locked out: 429 and when to try again."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return render(request, "registration/locked_out.html", {"minutes": minutes}, status=429)


# --- password reset requests (django-ratelimit) --------------------------------------------


def reset_wait_minutes(request: HttpRequest, *, email: str) -> int:
    """0 when this reset request may go on, else the minutes until it may.

    Counted per client address (one client asking for many addresses) and per email
    (many clients asking for one address: mail-bombing it), whether or not the
    address belongs to a member, so the answer says nothing about that. Counts live
    in the shared cache (fixed windows); a cache that fails lets the request through.
    """
    email = normalize_email(email)[:254]
    limits = [
        ("password-reset:address", settings.PASSWORD_RESET_RATE_PER_ADDRESS, client_ip),
        ("password-reset:email", settings.PASSWORD_RESET_RATE_PER_EMAIL, lambda _: email),
    ]
    for group, rate, value in limits:
        usage = get_usage(
            request, group=group, key=lambda _, r, v=value: v(r), rate=rate, increment=True
        )
        if usage is not None and usage["should_limit"]:
            return max(1, -(-usage["time_left"] // 60))
    return 0
