"""The pages and JSON that show posts, and the actions that reach several domains.

Each view parses input with a form, calls one use case or facade, and renders.
Malformed parameters are a 400 that says what was wrong (JSON ``{"error": ...}``
under ``/api/``); anonymous visitors to member pages go to ``/login/``, to
``/api/me/...`` they get a 401 JSON. A member or post that does not exist is the
services' ``NotFound``, answered with a 404 by ``core.web.middleware``; someone
else's post is ``NotTheAuthor``, a 403.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from core.pagination import CursorForm
from core.web.http import api_login_required, bad_request, json_error, json_response, page_url
from core.web.pagecache import NICKNAMES, TIMELINE, member_scope, post_scope, public_page
from posts.forms import PostForm, error_text
from social import facades, usecases

# What each public page shows (core/web/pagecache.py: a write to it renders it again)
# and the query parameters it reads.
CURSOR = ("before", "after", "size")


def _timeline_scopes(member_id: int | None = None) -> list[str]:
    return [member_scope(member_id)] if member_id else [TIMELINE]


def _member_scopes(member_id: int) -> list[str]:
    return [member_scope(member_id)]


def _list_scopes(member_id: int, followers: bool) -> list[str]:
    return [member_scope(member_id), NICKNAMES]  # and the listed members' nicknames


def _post_scopes(post_id: int) -> list[str]:
    return [post_scope(post_id), NICKNAMES]


def _viewer(request: HttpRequest) -> int | None:
    return request.user.pk if request.user.is_authenticated else None


def _post_json(entry: facades.TimelineEntry) -> dict:
    return {
        "id": entry.id,
        "member_id": entry.member_id,
        "nickname": entry.nickname,
        "contents": entry.contents,
        "created_at": timezone.localtime(entry.created_at).isoformat(),
        "likes": entry.likes,
    }


def _timeline_json(request: HttpRequest, page: facades.Timeline) -> JsonResponse:
    return json_response(
        {
            "posts": [_post_json(entry) for entry in page.entries],
            "next": page_url(request, page.older, absolute=True),
            "previous": page_url(request, page.newer, absolute=True),
        }
    )


def _timeline_html(request: HttpRequest, page: facades.Timeline, title: str) -> HttpResponse:
    return render(
        request,
        "social/timeline.html",
        {
            "page": page,
            "title": title,
            "older_url": page_url(request, page.older),
            "newer_url": page_url(request, page.newer),
        },
    )


@require_safe
def root(request: HttpRequest) -> HttpResponse:
    return redirect("home" if request.user.is_authenticated else "timeline")


# --- timelines -------------------------------------------------------------------------


@public_page(scopes=_timeline_scopes, params=CURSOR, likes=True)
@require_safe
def timeline(request: HttpRequest, member_id: int | None = None) -> HttpResponse:
    form = CursorForm(request.GET)
    if not form.is_valid():
        return bad_request(request, error_text(form))
    page = facades.timeline(cursor=form.cursor(), member_id=member_id, viewer_id=_viewer(request))
    if page.card is None:
        return _timeline_html(request, page, _("Timeline"))
    title = _("Posts by %(nickname)s") % {"nickname": page.card.member.nickname}
    return _timeline_html(request, page, title)


@public_page(scopes=_timeline_scopes, params=CURSOR, likes=True)
@require_safe
def api_timeline(request: HttpRequest, member_id: int | None = None) -> JsonResponse:
    form = CursorForm(request.GET)
    if not form.is_valid():
        return json_error(error_text(form), 400)
    return _timeline_json(request, facades.timeline(cursor=form.cursor(), member_id=member_id))


@public_page(scopes=_post_scopes)
@require_safe
def api_post(request: HttpRequest, post_id: int) -> JsonResponse:
    return json_response(_post_json(facades.post(post_id=post_id)))


@public_page(scopes=_member_scopes)
@require_safe
def api_member(request: HttpRequest, member_id: int) -> JsonResponse:
    card = facades.member_card(member_id=member_id)
    return json_response(
        {
            "id": card.member.id,
            "nickname": card.member.nickname,
            "followers": card.counts.followers,
            "following": card.counts.following,
            "posts": card.posts,
        }
    )


# --- home --------------------------------------------------------------------------------


@login_required
@require_safe
def home(request: HttpRequest) -> HttpResponse:
    form = CursorForm(request.GET)
    if not form.is_valid():
        return bad_request(request, error_text(form))
    page = facades.home(member_id=request.user.pk, cursor=form.cursor())
    return _timeline_html(request, page, _("Home"))


@api_login_required
@require_safe
def api_home(request: HttpRequest) -> JsonResponse:
    form = CursorForm(request.GET)
    if not form.is_valid():
        return json_error(error_text(form), 400)
    page = facades.home(member_id=request.user.pk, cursor=form.cursor(), marks=False)
    return _timeline_json(request, page)


# --- writing and deleting ------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def new_post(request: HttpRequest) -> HttpResponse:
    # Bound on every POST, even an empty one, so a body without the fields shows errors.
    form = PostForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            usecases.post_publish(member_id=request.user.pk, contents=form.cleaned_data["contents"])
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Your post is up."))
            return redirect("member_timeline", member_id=request.user.pk)
    return render(request, "social/new_post.html", {"form": form})


@login_required
@require_POST
def delete_post(request: HttpRequest, post_id: int) -> HttpResponse:
    usecases.post_remove(member_id=request.user.pk, post_id=post_id)
    messages.success(request, _("Your post is deleted."))
    return redirect("member_timeline", member_id=request.user.pk)


# --- following -------------------------------------------------------------------------------


@login_required
@require_POST
def follow(request: HttpRequest, member_id: int) -> HttpResponse:
    try:
        usecases.follow(follower_id=request.user.pk, followee_id=member_id)
    except ValidationError as exc:
        return bad_request(request, " ".join(exc.messages))
    return redirect("member_timeline", member_id=member_id)


@login_required
@require_POST
def unfollow(request: HttpRequest, member_id: int) -> HttpResponse:
    usecases.unfollow(follower_id=request.user.pk, followee_id=member_id)
    return redirect("member_timeline", member_id=member_id)


@public_page(scopes=_list_scopes, params=CURSOR)
@require_safe
def follow_list(request: HttpRequest, member_id: int, *, followers: bool) -> HttpResponse:
    form = CursorForm(request.GET)
    if not form.is_valid():
        return bad_request(request, error_text(form))
    found = facades.follow_list(member_id=member_id, cursor=form.cursor(), followers=followers)
    return render(
        request,
        "social/follow_list.html",
        {
            "list": found,
            "followers": followers,
            "older_url": page_url(request, found.older),
            "newer_url": page_url(request, found.newer),
        },
    )


@public_page(scopes=_list_scopes, params=CURSOR)
@require_safe
def api_follow_list(request: HttpRequest, member_id: int, *, followers: bool) -> JsonResponse:
    form = CursorForm(request.GET)
    if not form.is_valid():
        return json_error(error_text(form), 400)
    found = facades.follow_list(member_id=member_id, cursor=form.cursor(), followers=followers)
    return json_response(
        {
            "members": [{"id": m.id, "nickname": m.nickname} for m in found.members],
            "next": page_url(request, found.older, absolute=True),
            "previous": page_url(request, found.newer, absolute=True),
        }
    )
