"""The pages and JSON that show posts, and the actions that reach several domains.

Each view parses input with a form, calls one use case or facade, and renders.
Malformed parameters are a 400 that says what was wrong (JSON ``{"error": ...}``
under ``/api/``); anonymous visitors to member pages go to ``/login/``, to
``/api/me/...`` they get a 401 JSON. A member or post that does not exist is the
services' ``NotFound``, answered with a 404 by ``core.web.middleware``; someone
else's post is ``NotTheAuthor``, a 403. The JSON endpoints are operations of the
``api`` router (django-ninja, ``core.web.api``): their parameters and bodies are
the OpenAPI document at /api/schema.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django_ratelimit.decorators import ratelimit
from ninja import Field, Path, Router, Schema, Status
from ninja.decorators import decorate_view

from core.pagination import MAX_ID, CursorForm
from core.web.api import errors, form_parameters, session
from core.web.http import asks_for_json, bad_request, json_response, local_url, page_url
from core.web.pagecache import (
    NICKNAMES,
    TIMELINE,
    member_page,
    member_scope,
    post_scope,
    public_page,
)
from core.web.security import rate
from posts.forms import PostForm, error_text
from social import facades, usecases

api = Router(tags=["timelines and members"])

# What each public page shows (core/web/pagecache.py: a write to it renders it again)
# and the query parameters it reads.
CURSOR = ("before", "after", "size")


def _timeline_scopes(member_id: int | None = None) -> list[str]:
    return [member_scope(member_id)] if member_id else [TIMELINE]


def _member_scopes(member_id: int) -> list[str]:
    return [member_scope(member_id)]


def _list_scopes(member_id: int, followers: bool = True) -> list[str]:
    return [member_scope(member_id), NICKNAMES]  # and the listed members' nicknames


def _post_scopes(post_id: int) -> list[str]:
    return [post_scope(post_id), NICKNAMES]


# What others may change on a member's own view of a page (core/web/pagecache.py).
def _viewer_timeline_scopes(viewer_id: int, member_id: int | None = None) -> list[str]:
    return _timeline_scopes(member_id)


def _home_scopes(viewer_id: int) -> list[str]:
    return facades.home_scopes(member_id=viewer_id)


GET = ["GET", "HEAD"]
PAGED = form_parameters(CursorForm, rules="Give either `before` or `after`, not both.")
PostId = Path(..., ge=1, le=MAX_ID, description="A post's id.")
MemberId = Path(..., ge=1, le=MAX_ID, description="A member's id.")


class PostOut(Schema):
    id: int
    member_id: int
    nickname: str
    contents: str
    created_at: str = Field(json_schema_extra={"format": "date-time"})
    likes: int = Field(ge=0)


NEXT = Field(description="The older page's URL, or null at the oldest.")
PREVIOUS = Field(description="The newer page's URL, or null at the newest.")


class TimelineOut(Schema):
    posts: list[PostOut]
    next: str | None = NEXT
    previous: str | None = PREVIOUS


class MemberOut(Schema):
    id: int
    nickname: str
    followers: int = Field(ge=0)
    following: int = Field(ge=0)
    posts: int = Field(ge=0)


class MemberRef(Schema):
    id: int
    nickname: str


class MembersOut(Schema):
    members: list[MemberRef]
    next: str | None = NEXT
    previous: str | None = PREVIOUS


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


def _timeline_json(request: HttpRequest, page: facades.Timeline) -> dict:
    return {
        "posts": [_post_json(entry) for entry in page.entries],
        "next": page_url(request, page.older, absolute=True),
        "previous": page_url(request, page.newer, absolute=True),
    }


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


@member_page(scopes=_viewer_timeline_scopes)
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


@api.api_operation(
    GET,
    "/posts",
    response={200: TimelineOut, **errors(400)},
    openapi_extra=PAGED,
    summary="All posts, newest first",
)
@decorate_view(
    public_page(scopes=_timeline_scopes, params=CURSOR, likes=True, url_name="api_timeline")
)
def api_timeline(request: HttpRequest):
    return _api_timeline(request, None)


@api.api_operation(
    GET,
    "/members/{int:member_id}/posts",
    response={200: TimelineOut, **errors(400, 404)},
    openapi_extra=PAGED,
    summary="One member's posts, newest first",
)
@decorate_view(
    public_page(scopes=_timeline_scopes, params=CURSOR, likes=True, url_name="api_member_timeline")
)
def api_member_timeline(request: HttpRequest, member_id: int = MemberId):
    return _api_timeline(request, member_id)


def _api_timeline(request: HttpRequest, member_id: int | None):
    form = CursorForm(request.GET)
    if not form.is_valid():
        return Status(400, {"error": error_text(form)})
    return _timeline_json(request, facades.timeline(cursor=form.cursor(), member_id=member_id))


@api.api_operation(
    GET, "/posts/{int:post_id}", response={200: PostOut, **errors(400, 404)}, summary="One post"
)
@decorate_view(public_page(scopes=_post_scopes, url_name="api_post"))
def api_post(request: HttpRequest, post_id: int = PostId):
    return _post_json(facades.post(post_id=post_id))


@api.api_operation(
    GET,
    "/members/{int:member_id}",
    response={200: MemberOut, **errors(400, 404)},
    summary="A member, with their counts",
)
@decorate_view(public_page(scopes=_member_scopes, url_name="api_member"))
def api_member(request: HttpRequest, member_id: int = MemberId):
    card = facades.member_card(member_id=member_id)
    return {
        "id": card.member.id,
        "nickname": card.member.nickname,
        "followers": card.counts.followers,
        "following": card.counts.following,
        "posts": card.posts,
    }


# --- home --------------------------------------------------------------------------------


@member_page(scopes=_home_scopes)
@login_required
@require_safe
def home(request: HttpRequest) -> HttpResponse:
    form = CursorForm(request.GET)
    if not form.is_valid():
        return bad_request(request, error_text(form))
    page = facades.home(member_id=request.user.pk, cursor=form.cursor())
    return _timeline_html(request, page, _("Home"))


@api.api_operation(
    GET,
    "/me/home",
    auth=session,
    response={200: TimelineOut, **errors(400, 401)},
    openapi_extra=PAGED,
    summary="My home timeline: my posts and those of whom I follow",
)
@decorate_view(member_page(scopes=_home_scopes, url_name="api_home"))
def api_home(request: HttpRequest):
    form = CursorForm(request.GET)
    if not form.is_valid():
        return Status(400, {"error": error_text(form)})
    page = facades.home(member_id=request.user.pk, cursor=form.cursor(), marks=False)
    return _timeline_json(request, page)


# --- writing and deleting ------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
@ratelimit(group="posts", key="user", rate=rate("RATE_LIMIT_POSTS"), method="POST")
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
@require_http_methods(["GET", "HEAD", "POST"])
def delete_post(request: HttpRequest, post_id: int) -> HttpResponse:
    """GET asks first (nothing is lost by a slip); POST deletes."""
    if request.method == "POST":
        usecases.post_remove(member_id=request.user.pk, post_id=post_id)
        if asks_for_json(request):  # asked and answered in place, on the page
            return json_response({"deleted": post_id, "message": _("Your post is deleted.")})
        messages.success(request, _("Your post is deleted."))
        return redirect("member_timeline", member_id=request.user.pk)
    entry = facades.own_post(member_id=request.user.pk, post_id=post_id)
    back = local_url(request, request.GET.get("next")) or reverse(
        "member_timeline", args=[request.user.pk]
    )
    return render(
        request,
        "social/delete_post.html",
        {"post": entry, "back": f"{back.split('#')[0]}#post-{post_id}"},
    )


# --- following -------------------------------------------------------------------------------

# Follows and unfollows together, per member.
follows_per_member = ratelimit(group="follows", key="user", rate=rate("RATE_LIMIT_FOLLOWS"))


def _followed(request: HttpRequest, member_id: int) -> HttpResponse:
    """Back to the member's page; the page's script gets the card's new state instead."""
    if not asks_for_json(request):
        return redirect("member_timeline", member_id=member_id)
    card = facades.member_card(member_id=member_id, viewer_id=request.user.pk)
    n = card.counts.followers
    return json_response(
        {
            "followed": card.followed,
            "followers": n,
            # The msgid of the card's {% blocktranslate count %}.
            "followers_label": ngettext("%(n)s follower", "%(n)s followers", n) % {"n": n},
            "action": reverse("unfollow" if card.followed else "follow", args=[member_id]),
            "label": _("Unfollow") if card.followed else _("Follow"),
        }
    )


@login_required
@require_POST
@follows_per_member
def follow(request: HttpRequest, member_id: int) -> HttpResponse:
    try:
        usecases.follow(follower_id=request.user.pk, followee_id=member_id)
    except ValidationError as exc:
        return bad_request(request, " ".join(exc.messages))
    return _followed(request, member_id)


@login_required
@require_POST
@follows_per_member
def unfollow(request: HttpRequest, member_id: int) -> HttpResponse:
    usecases.unfollow(follower_id=request.user.pk, followee_id=member_id)
    return _followed(request, member_id)


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


@api.api_operation(
    GET,
    "/members/{int:member_id}/followers",
    response={200: MembersOut, **errors(400, 404)},
    openapi_extra=PAGED,
    summary="Who follows a member, most recent follow first",
)
@decorate_view(public_page(scopes=_list_scopes, params=CURSOR, url_name="api_followers"))
def api_followers(request: HttpRequest, member_id: int = MemberId):
    return _api_follow_list(request, member_id, followers=True)


@api.api_operation(
    GET,
    "/members/{int:member_id}/following",
    response={200: MembersOut, **errors(400, 404)},
    openapi_extra=PAGED,
    summary="Whom a member follows, most recent follow first",
)
@decorate_view(public_page(scopes=_list_scopes, params=CURSOR, url_name="api_following"))
def api_following(request: HttpRequest, member_id: int = MemberId):
    return _api_follow_list(request, member_id, followers=False)


def _api_follow_list(request: HttpRequest, member_id: int, *, followers: bool):
    form = CursorForm(request.GET)
    if not form.is_valid():
        return Status(400, {"error": error_text(form)})
    found = facades.follow_list(member_id=member_id, cursor=form.cursor(), followers=followers)
    return {
        "members": [{"id": m.id, "nickname": m.nickname} for m in found.members],
        "next": page_url(request, found.older, absolute=True),
        "previous": page_url(request, found.newer, absolute=True),
    }
