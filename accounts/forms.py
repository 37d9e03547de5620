"""Sign-in and password forms for /accounts/."""

from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.utils.translation import gettext_lazy as _

from .models import User, normalize_email


class EmailAuthenticationForm(AuthenticationForm):
    """Sign in with e-mail. A wrong password, an unknown e-mail and an inactive account all get
    the same message, so the form does not reveal which accounts exist."""

    username = forms.EmailField(
        label=_("E-mail address"),
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )
    error_messages = {
        "invalid_login": _("Please enter a correct e-mail address and password."),
        "inactive": _("Please enter a correct e-mail address and password."),
    }

    def clean_username(self):
        return normalize_email(self.cleaned_data.get("username"))


class EmailPasswordResetForm(PasswordResetForm):
    """Password reset that finds users case-insensitively and only active ones."""

    def get_users(self, email):
        return User.objects.filter(email__iexact=normalize_email(email), is_active=True)
