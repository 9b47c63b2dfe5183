"""Forms parse and check input; the services do the writing."""

from django import forms
from django.contrib.auth.forms import BaseUserCreationForm
from django.utils.translation import gettext_lazy as _

from config.forms import StrictDateField
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


class NicknameForm(forms.Form):
    nickname = Member._meta.get_field("nickname").formfield(label=_("New nickname"))
