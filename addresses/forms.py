"""Portal forms for addresses, machines and contact persons.

Every form takes `user` (the portal user) and lists only the fields a customer may change;
fields such as an address's number or a machine's address are simply not on the form, and the
services refuse them again. The forms only validate: saving goes through `addresses.services`.
Templates render the `<form>` tag and the buttons themselves (`helper.form_tag = False`) so the
cancel link can point back to the page the user came from.
"""

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Layout, Row
from django import forms
from django.utils.translation import gettext_lazy as _

from . import services
from .models import Address, ContactPerson, Machine


class UpperCaseCharField(forms.CharField):
    """A country code typed as "de" is stored as "DE" (the model's validator wants capitals)."""

    def to_python(self, value):
        value = super().to_python(value)
        return value.upper() if value else value


def columns(*fields, widths=None):
    """A responsive row: side by side from the `md` breakpoint, stacked on phones."""
    widths = widths or [None] * len(fields)
    return Row(
        *[
            Column(field, css_class=f"col-12 col-md-{width}" if width else "col-12 col-md")
            for field, width in zip(fields, widths, strict=True)
        ]
    )


class PortalModelForm(forms.ModelForm):
    def __init__(self, *args, user, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)
        self.helper = FormHelper(self)
        self.helper.form_tag = False
        layout = self.get_layout()
        if layout is not None:
            self.helper.layout = layout

    def get_layout(self):
        return None


class AddressForm(PortalModelForm):
    country = UpperCaseCharField(
        label=_("Country"),
        max_length=2,
        required=False,
        help_text=_("Two-letter ISO code, for example DE or AT."),
        widget=forms.TextInput(attrs={"autocomplete": "country", "class": "text-uppercase"}),
    )

    class Meta:
        model = Address
        fields = services.ADDRESS_EDITABLE_FIELDS
        widgets = {
            "name": forms.TextInput(attrs={"autocomplete": "organization"}),
            "street": forms.TextInput(attrs={"autocomplete": "street-address"}),
            "postal_code": forms.TextInput(attrs={"autocomplete": "postal-code"}),
            "city": forms.TextInput(attrs={"autocomplete": "address-level2"}),
            "phone": forms.TextInput(attrs={"autocomplete": "tel", "type": "tel"}),
        }

    def get_layout(self):
        return Layout(
            "name",
            columns("name_2", "name_3"),
            "street",
            columns("postal_code", "city", "country", widths=[3, None, 3]),
            columns("phone", "email"),
        )


class MachineForm(PortalModelForm):
    class Meta:
        model = Machine
        fields = services.MACHINE_EDITABLE_FIELDS
        widgets = {
            "installed_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "notes": forms.Textarea(attrs={"rows": 4}),
        }

    def get_layout(self):
        return Layout(
            "name",
            columns("manufacturer", "model", "serial_number"),
            columns("installed_on", widths=[4]),
            "notes",
        )


class ContactPersonForm(PortalModelForm):
    """Edit a contact person: every field except the address it belongs to.

    Whether another main contact exists is checked by the service (it knows the address and
    holds the row lock); its error comes back on the `is_main` field.
    """

    class Meta:
        model = ContactPerson
        fields = services.CONTACT_EDITABLE_FIELDS
        widgets = {
            "first_name": forms.TextInput(attrs={"autocomplete": "off"}),
            "last_name": forms.TextInput(attrs={"autocomplete": "off"}),
            "phone": forms.TextInput(attrs={"type": "tel"}),
            "mobile": forms.TextInput(attrs={"type": "tel"}),
        }

    def get_layout(self):
        flags = [f for f in ("is_main", "is_active") if f in self.fields]
        return Layout(
            columns("salutation", "title", widths=[4, None]),
            columns("first_name", "last_name"),
            columns("function", "department"),
            columns("email", "phone", "mobile"),
            *flags,
        )


class ContactPersonCreateForm(ContactPersonForm):
    """A new contact person is active; the other fields are those of the edit form."""

    class Meta(ContactPersonForm.Meta):
        fields = tuple(f for f in services.CONTACT_EDITABLE_FIELDS if f != "is_active")
