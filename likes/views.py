"""Like and unlike: POST, idempotent, then back to the page the member was on."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST
from django_ratelimit.decorators import ratelimit

from core.web.security import rate
from likes import services

# Likes and unlikes together, per member.
per_member = ratelimit(group="likes", key="user", rate=rate("RATE_LIMIT_LIKES"))


def _back(request: HttpRequest, post_id: int) -> HttpResponse:
    """To ``next`` or the referring page when it is ours, at the post; else the timeline."""
    for target in (request.POST.get("next"), request.headers.get("referer")):
        if target and url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            return redirect(f"{target.split('#')[0]}#post-{post_id}")
    return redirect("timeline")


def _change(request: HttpRequest, post_id: int, change) -> HttpResponse:
    change(member_id=request.user.pk, post_id=post_id)  # no such post: a 404 (NotFound)
    return _back(request, post_id)


@login_required
@require_POST
@per_member
def like(request: HttpRequest, post_id: int) -> HttpResponse:
    return _change(request, post_id, services.like_add)


@login_required
@require_POST
@per_member
def unlike(request: HttpRequest, post_id: int) -> HttpResponse:
    return _change(request, post_id, services.like_remove)
