"""Like and unlike: POST, idempotent, then back to the page the member was on; the page's
script (``Accept: application/json``) gets the post's new state instead."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_ratelimit.decorators import ratelimit

from core.web.http import asks_for_json, json_response, local_url
from core.web.security import rate
from likes import services

# Likes and unlikes together, per member.
per_member = ratelimit(group="likes", key="user", rate=rate("RATE_LIMIT_LIKES"))


def _back(request: HttpRequest, post_id: int) -> HttpResponse:
    """To ``next`` or the referring page when it is ours, at the post; else the timeline."""
    for target in (request.POST.get("next"), request.headers.get("referer")):
        if local_url(request, target):
            return redirect(f"{target.split('#')[0]}#post-{post_id}")
    return redirect("timeline")


def _state(post_id: int, *, liked: bool) -> HttpResponse:
    """What the button shows now, and where it posts next."""
    return json_response(
        {
            "liked": liked,
            "likes": services.like_counts(post_ids=[post_id]).get(post_id, 0),
            "action": reverse("unlike" if liked else "like", args=[post_id]),
            "title": _("Unlike") if liked else _("Like"),
        }
    )


def _change(request: HttpRequest, post_id: int, change, *, liked: bool) -> HttpResponse:
    change(member_id=request.user.pk, post_id=post_id)  # no such post: a 404 (NotFound)
    if asks_for_json(request):
        return _state(post_id, liked=liked)
    return _back(request, post_id)


@login_required
@require_POST
@per_member
def like(request: HttpRequest, post_id: int) -> HttpResponse:
    return _change(request, post_id, services.like_add, liked=True)


@login_required
@require_POST
@per_member
def unlike(request: HttpRequest, post_id: int) -> HttpResponse:
    return _change(request, post_id, services.like_remove, liked=False)
