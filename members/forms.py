"""Forms parse and check input; the services do the writing."""

from django import forms
from django.contrib.auth.forms import AuthenticationForm, BaseUserCreationForm
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
