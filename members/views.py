"""Member pages. Each view parses input with a form, calls one service, renders."""

from urllib.parse import urlsplit

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from members import services
from members.forms import NicknameForm, SignupForm


@require_http_methods(["GET", "HEAD", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("me")
    # Bound on every POST, even an empty one, so a body without the fields shows errors.
    form = SignupForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            member = services.member_register(
                email=form.cleaned_data["email"],
                nickname=form.cleaned_data["nickname"],
                birthdate=form.cleaned_data["birthdate"],
                password=form.cleaned_data["password1"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            login(request, member, backend="members.backends.MemberBackend")
            messages.success(request, _("Welcome, %(nickname)s!") % {"nickname": member.nickname})
            return redirect("me")
    return render(request, "members/signup.html", {"form": form})


class LoginView(auth_views.LoginView):
    """Django's login page; a ``next`` that leads back to it goes to LOGIN_REDIRECT_URL.

    Django refuses to redirect a logged-in member to the login page itself
    ("redirection loop") with a 500; ``/login/?next=/login/`` is a link anyone can send.
    """

    redirect_authenticated_user = True

    def get_redirect_url(self) -> str:
        url = super().get_redirect_url()
        return "" if url and urlsplit(url).path == self.request.path else url


def _render_me(request: HttpRequest, form: NicknameForm) -> HttpResponse:
    history = services.member_nickname_history_shown(member_id=request.user.pk)
    return render(request, "members/me.html", {"form": form, "history": history})


@login_required
@require_safe
def me(request: HttpRequest) -> HttpResponse:
    return _render_me(request, NicknameForm())


@login_required
@require_POST
def change_nickname(request: HttpRequest) -> HttpResponse:
    form = NicknameForm(request.POST)
    if form.is_valid():
        try:
            member = services.member_change_nickname(
                member_id=request.user.pk, nickname=form.cleaned_data["nickname"]
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(
                request,
                _("Your nickname is now %(nickname)s.") % {"nickname": member.nickname},
            )
            return redirect("me")
    return _render_me(request, form)
