"""Forms parse and check input; the services do the writing."""

from django import forms
from django.contrib.auth import authenticate
from django.contrib.auth.forms import (
    AuthenticationForm,
    BaseUserCreationForm,
    PasswordChangeForm,
    SetPasswordForm,
)
from django.utils.translation import gettext_lazy as _

from core.forms import StrictDateField
from members.models import Member


class SignupForm(BaseUserCreationForm):
    """Email, nickname, birthdate and the password twice.

    Being a ModelForm, it runs the model's own validation (field rules, the
    unique email, the check constraints) so the page and the service agree.
    """

    class Meta:
        model = Member
        fields = ("email", "nickname", "birthdate")
        widgets = {"birthdate": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}
        # One date format, the one the contract names (and <input type=date> sends).
        field_classes = {"birthdate": StrictDateField}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The picker shows the browser's own format, so the help names no format
        # (the model's help, for the admin's text box, does).
        self.fields["birthdate"].help_text = _("From 1900 to today.")


class LoginForm(AuthenticationForm):
    # Django's message says both fields "may be case-sensitive"; the email is not.
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _(
            "That email and password do not match a member. "
            "The password is case-sensitive; the email is not."
        ),
    }


class NicknameForm(forms.Form):
    nickname = Member._meta.get_field("nickname").formfield(label=_("New nickname"))


# --- passwords and leaving ---------------------------------------------------------------


class PasswordOnlySave:
    """Writes the password column only (a mixin for Django's password forms).

    Django's forms save the whole member row they loaded, which would put back a
    nickname changed in the meantime, without its history row.
    """

    def save(self, commit: bool = True) -> Member:
        member = super().save(commit=False)
        if commit:
            member.save(update_fields=["password"])
        return member


class ConfirmedByPassword:
    """Checks the member's own password through ``authenticate()``, so that guesses here
    count towards the login throttle (django-axes) as guesses on the login page do."""

    def __init__(self, *args, request, **kwargs):
        self.request = request
        super().__init__(*args, **kwargs)

    def password_matches(self, password: str) -> bool:
        found = authenticate(self.request, username=self.user.email, password=password)
        return found is not None and found.pk == self.user.pk


class ChangePasswordForm(ConfirmedByPassword, PasswordOnlySave, PasswordChangeForm):
    """/me/password/: the old password, then the new one twice."""

    def clean_old_password(self) -> str:
        old_password = self.cleaned_data["old_password"]
        if not self.password_matches(old_password):
            raise forms.ValidationError(
                self.error_messages["password_incorrect"], code="password_incorrect"
            )
        return old_password


class NewPasswordForm(PasswordOnlySave, SetPasswordForm):
    """The new password twice, from a reset link."""


class ResetRequestForm(forms.Form):
    """/password-reset/: the email to send a link to."""

    email = forms.EmailField(
        label=_("Email"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )


class DeleteAccountForm(ConfirmedByPassword, forms.Form):
    """/me/delete/: the member's password confirms."""

    password = forms.CharField(
        label=_("Your password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, user: Member, *args, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if not self.password_matches(password):
            raise forms.ValidationError(_("That is not your password."), code="password_incorrect")
        return password
