"""Who is asking: the client's address, for the login throttle, the rate limits and
the loopback-only pages (/metrics, /readyz's details)."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest

# The one header a proxy can be trusted for: it *sets* X-Real-IP to the address it
# saw, replacing whatever the client sent. X-Forwarded-For is a list the client
# starts and each proxy appends to, so which entry is true depends on how many
# proxies there are and how each is configured; reading it let a client forge its
# address (settings refuse it).
SUPPORTED_HEADER = "X-Real-IP"


def _header_key() -> str | None:
    header = settings.CLIENT_IP_HEADER
    return "HTTP_" + header.upper().replace("-", "_") if header else None


def _address(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def _trusted(peer: str) -> bool:
    try:
        address = ipaddress.ip_address(peer)
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(n) for n in settings.TRUSTED_PROXIES)


def client_ip(request: HttpRequest) -> str:
    """The client's address: the trusted proxy's ``X-Real-IP``, else the peer's.

    The header is read only when ``CLIENT_IP_HEADER`` names it and the request came
    from a proxy in ``TRUSTED_PROXIES`` (the peer's address): a client that reaches
    the app server directly cannot choose its address by sending the header.
    """
    peer = request.META.get("REMOTE_ADDR", "")
    key = _header_key()
    if key and _trusted(peer):
        found = _address(request.META.get(key, ""))
        if found:
            return found
    return peer


def rate(setting: str) -> Callable[[str, HttpRequest], str | None]:
    """A django-ratelimit ``rate`` read from the named setting when a request comes
    (``"60/m"``; empty: no limit), so it can be changed without a new decorator."""
    return lambda group, request: getattr(settings, setting) or None


def is_loopback(request: HttpRequest) -> bool:
    """Whether the client (``client_ip``) is this machine: /metrics and /readyz's details."""
    found = _address(client_ip(request))
    return found is not None and ipaddress.ip_address(found).is_loopback
