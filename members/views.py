"""Member pages. Each view parses input with a form, calls one service, renders.

The password pages are Django's own views (auth_views), with forms that write the
password column only and a reset mail that goes through the outbox.
"""

from urllib.parse import urlsplit

from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django_ratelimit.decorators import ratelimit

from core.web.pagecache import member_page, member_scope
from core.web.security import rate
from members import services, throttle
from members.forms import (
    ChangePasswordForm,
    DeleteAccountForm,
    NewPasswordForm,
    NicknameForm,
    ResetRequestForm,
    SignupForm,
)


@require_http_methods(["GET", "HEAD", "POST"])
@ratelimit(group="signups", key="ip", rate=rate("RATE_LIMIT_SIGNUPS"), method="POST")
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


@member_page(scopes=lambda viewer_id: [member_scope(viewer_id)])  # their history, their row
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


# --- passwords ------------------------------------------------------------------------------


class PasswordChangeView(auth_views.PasswordChangeView):
    """Django's: the member stays logged in here; their other sessions end (the hash
    each session keeps no longer matches the new password)."""

    form_class = ChangePasswordForm
    template_name = "members/password_change.html"
    success_url = reverse_lazy("me")

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "request": self.request}

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(
            self.request, _("Your password is changed. Every other session of yours has ended.")
        )
        return response


class PasswordResetView(auth_views.PasswordResetView):
    """Django's, with the mail recorded in the outbox (``members.mail``) and a throttle.

    The answer is the same whether or not the email is a member's.
    """

    form_class = ResetRequestForm
    template_name = "members/password_reset.html"
    success_url = reverse_lazy("password_reset_done")

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            return redirect("password_change")
        return super().dispatch(request, *args, **kwargs)

    def form_valid(self, form):
        email = form.cleaned_data["email"]
        minutes = throttle.reset_wait_minutes(self.request, email=email)
        if minutes:
            context = {"minutes": minutes}
            return render(self.request, "members/too_many_resets.html", context, status=429)
        services.member_password_reset_request(
            email=email, site=self.request.build_absolute_uri("/").rstrip("/")
        )
        return redirect(self.success_url)


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "members/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Django's: the link's token checked, the new password twice; every session ends."""

    form_class = NewPasswordForm
    template_name = "members/password_reset_confirm.html"
    success_url = reverse_lazy("login")

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(self.request, _("Your new password is set. Log in with it."))
        return response


# --- leaving ------------------------------------------------------------------------------


@login_required
@require_POST
def log_out_everywhere(request: HttpRequest) -> HttpResponse:
    services.member_end_sessions(member_id=request.user.pk)
    logout(request)
    messages.success(request, _("You are logged out everywhere."))
    return redirect("login")


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def delete_account(request: HttpRequest) -> HttpResponse:
    form = DeleteAccountForm(
        request.user, request.POST if request.method == "POST" else None, request=request
    )
    if request.method == "POST" and form.is_valid():
        services.member_delete_request(member_id=request.user.pk)
        logout(request)
        messages.success(
            request, _("Your account is closed. Your posts, likes and follows are being deleted.")
        )
        return redirect("timeline")
    return render(request, "members/delete_account.html", {"form": form})
