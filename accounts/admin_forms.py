"""Forms of the user admin: one page and one save create an external user with every field of
the manual page (`shared/seed/external-users.txt`), its password or a link to set one.

The rules below are checked on the form and reported on the field they are about, before the
model's `clean()` or the database's check constraints see the row; nothing is saved while any
of them fails (the admin saves only a valid form, inside one transaction).
"""

from django import forms
from django.contrib.auth.forms import ReadOnlyPasswordHashField, SetPasswordMixin
from django.core.exceptions import NON_FIELD_ERRORS
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_variables

from .models import EXTERNAL_ACCESS_FIELDS, User, normalize_email

SEND_LINK_LABEL = _("Send the user an e-mail with a link to set the password")


class ExternalAccessFormMixin:
    """Validation shared by the add and the change form.

    External users:

    * need an Address, and can never be staff or superuser;
    * the Contact person must belong to that address (and be active when it is newly chosen);
    * Person responsible (users) must be active internal users;
    * Restrict customer status needs at least one Ticket status; conversely, Ticket status
      without the restriction is rejected, because it would have no effect and the admin who
      filled it in most likely meant to restrict the user.

    Internal users: external-access fields that are filled in are **rejected, not cleared**.
    Unticking "External" by mistake would otherwise silently turn a customer into an internal
    user (whose roles then reach every object, and possibly the desk) and throw away the access
    it had; having to empty the fields makes that change deliberate.

    "Send the user an e-mail with a link to set the password" is refused for an inactive
    account: the link would lead to a password the user can never sign in with.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        groups = self.fields.get("groups")
        if groups is not None:
            groups.label = _("Roles")
            groups.help_text = _(
                "Each basic right is for reading or writing. Portal user reads everything and "
                "files and answers tickets; Portal editor may also change addresses, machines and "
                "contact persons; Support agent works in the desk. For an external user the rights "
                "apply only to the addresses of Read permission and Write permission."
            )

    def clean_email(self):
        email = normalize_email(self.cleaned_data.get("email"))
        others = User.objects.filter(email__iexact=email)
        if self.instance.pk is not None:
            others = others.exclude(pk=self.instance.pk)
        if email and others.exists():
            raise forms.ValidationError(
                _("A user with this e-mail address already exists."), code="unique"
            )
        return email

    def clean(self):
        cleaned_data = super().clean()
        if cleaned_data.get("is_external"):
            self._clean_external(cleaned_data)
        else:
            self._reject_external_access(cleaned_data)
        if cleaned_data.get("send_password_link") and not cleaned_data.get(
            "is_active", self.instance.is_active
        ):
            self.add_error(
                "send_password_link",
                _(
                    "The account is inactive, so the user could not sign in with the password. "
                    "Tick “Active”, or send the link later."
                ),
            )
        return cleaned_data

    def _clean_external(self, cleaned_data):
        address = cleaned_data.get("address")
        if address is None and "address" not in self.errors:
            self.add_error("address", _("An external user needs an address."))
        if cleaned_data.get("is_staff"):
            self.add_error("is_staff", _("An external user can never be staff."))
        if cleaned_data.get("is_superuser"):
            self.add_error("is_superuser", _("An external user can never be a superuser."))

        contact = cleaned_data.get("contact_person")
        if contact is not None:
            if address is None:
                self.add_error(
                    "contact_person",
                    _("Choose the address first: the contact person must belong to it."),
                )
            elif contact.address_id != address.pk:
                self.add_error(
                    "contact_person",
                    _(
                        "%(contact)s belongs to address %(contact_address)s, not to the user's "
                        "address %(address)s."
                    )
                    % {
                        "contact": contact,
                        "contact_address": contact.address.number,
                        "address": address.number,
                    },
                )
            elif not contact.is_active and "contact_person" in self.changed_data:
                self.add_error(
                    "contact_person", _("%(contact)s is inactive.") % {"contact": contact}
                )

        users = cleaned_data.get("responsible_users")
        if users:
            wrong = [user for user in users if user.is_external or not user.is_active]
            if wrong:
                self.add_error(
                    "responsible_users",
                    _("Only active internal users can be responsible; not: %(users)s.")
                    % {"users": ", ".join(str(user) for user in wrong)},
                )

        statuses = cleaned_data.get("allowed_statuses")
        if "allowed_statuses" not in self.errors:
            if cleaned_data.get("restrict_status") and not statuses:
                self.add_error(
                    "allowed_statuses",
                    _("Restrict customer status needs at least one ticket status."),
                )
            elif statuses and not cleaned_data.get("restrict_status"):
                self.add_error(
                    "allowed_statuses",
                    _(
                        "These statuses apply only when “Restrict customer status” is ticked. "
                        "Tick it, or empty this field."
                    ),
                )

    def _reject_external_access(self, cleaned_data):
        for name in EXTERNAL_ACCESS_FIELDS:
            if name in self.fields and name not in self.errors and cleaned_data.get(name):
                self.add_error(
                    name,
                    _("Only external users have this. Tick “External”, or empty this field."),
                )

    def _post_clean(self):
        # The model's clean() and check constraints repeat some of the rules above in their own
        # words. Where this form has already explained a field, keep only the form's message.
        explained = {
            name: len(errors) for name, errors in self._errors.items() if name != NON_FIELD_ERRORS
        }
        super()._post_clean()
        for name, count in explained.items():
            del self._errors[name][count:]


class UserAddForm(ExternalAccessFormMixin, SetPasswordMixin, forms.ModelForm):
    """Create a user on one page: personal data, password, external access, roles, status.

    Exactly one of: a password typed twice (checked by Django's password validators), or
    "Send the user an e-mail with a link to set the password" (the user then gets an unusable
    password until it follows the link; the admin sends the mail once the save has committed).
    """

    send_password_link = forms.BooleanField(
        label=SEND_LINK_LABEL,
        required=False,
        help_text=_(
            "The user chooses a password through the link. Leave the password fields empty."
        ),
    )
    password1, password2 = SetPasswordMixin.create_password_fields()

    class Meta:
        model = User
        fields = ("email",)

    class Media:
        js = ("admin-extra/user-password.js",)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Required unless a link is sent; clean() says which of the two is missing.
        self.fields["password1"].required = False
        self.fields["password2"].required = False
        self.fields["email"].widget.attrs["autofocus"] = True

    @sensitive_variables("password1", "password2")
    def clean(self):
        cleaned_data = super().clean()
        password1 = cleaned_data.get("password1")
        password2 = cleaned_data.get("password2")
        if cleaned_data.get("send_password_link"):
            if password1 or password2:
                self.add_error(
                    "password1",
                    _("Either set a password or send a link, not both: empty the password."),
                )
        elif not password1 and not password2:
            self.add_error(
                "password1",
                _("Set a password, or tick “%(send_link)s”.") % {"send_link": SEND_LINK_LABEL},
            )
        elif not password2:
            self.add_error("password2", _("Enter the same password again."))
        elif not password1:
            self.add_error("password1", _("Enter the password."))
        else:
            self.validate_passwords()
        return cleaned_data

    def _post_clean(self):
        super()._post_clean()
        # Validate the password against the user's own data (e-mail, names) once the instance
        # carries the submitted values.
        if not self.cleaned_data.get("send_password_link"):
            self.validate_password_for_user(self.instance)

    def save(self, commit=True):
        user = super().save(commit=False)
        if self.cleaned_data.get("send_password_link"):
            user.set_unusable_password()
        else:
            user.set_password(self.cleaned_data["password1"])
        if commit:
            user.save()
            self._save_m2m()
        return user


class UserChangeForm(ExternalAccessFormMixin, forms.ModelForm):
    """Change a user: the same rules as on the add form; the password is changed on its own page
    (the link under "Password") or set by the user through an e-mailed link."""

    password = ReadOnlyPasswordHashField(
        label=_("Password"),
        help_text=_("Raw passwords are not stored, so there is no way to see the user’s password."),
    )
    send_password_link = forms.BooleanField(
        label=SEND_LINK_LABEL,
        required=False,
        help_text=_(
            "Sent when you save. The current password keeps working until the user sets a new one."
        ),
    )

    class Meta:
        model = User
        # No `user_permissions`: rights come from roles only, so one place shows them all.
        fields = (
            "email",
            "first_name",
            "last_name",
            "language",
            "password",
            "is_external",
            *EXTERNAL_ACCESS_FIELDS,
            "groups",
            "is_active",
            "is_staff",
            "is_superuser",
            "date_joined",
        )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        password = self.fields.get("password")
        if password is not None and not self.instance.has_usable_password():
            password.help_text = _(
                "No password is set yet. Set one here, or send the user a link to choose one."
            )
