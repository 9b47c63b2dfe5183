"""Who is asking: the client's address, for the login throttle."""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """The client's address: from the proxy's header when one is configured, else the peer's.

    Only a configured header is read (``CLIENT_IP_HEADER``, e.g. ``X-Forwarded-For``
    or ``X-Real-IP``): without a proxy that sets it, anyone could send it. The
    proxy appends the address it saw, so the right-most entry is the one it vouches for.
    """
    header = settings.CLIENT_IP_HEADER
    if header:
        value = request.META.get("HTTP_" + header.upper().replace("-", "_"), "")
        candidate = value.split(",")[-1].strip()
        try:
            return str(ipaddress.ip_address(candidate))
        except ValueError:
            pass
    return request.META.get("REMOTE_ADDR", "")
