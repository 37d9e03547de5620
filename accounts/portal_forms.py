"""Portal forms of the user's own account."""

from crispy_forms.helper import FormHelper
from django import forms
from django.utils.translation import gettext_lazy as _

from addresses import services

from .models import User


class ProfileForm(forms.ModelForm):
    """The preferences a portal user maintains: the language of the portal and its e-mails."""

    class Meta:
        model = User
        fields = services.PROFILE_EDITABLE_FIELDS
        labels = {"language": _("Language")}
        help_texts = {"language": _("The language of the portal and of the e-mails you get.")}

    def __init__(self, *args, user, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)
        self.helper = FormHelper(self)
        self.helper.form_tag = False
