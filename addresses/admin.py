"""Admin for addresses, contact persons and machines.

Also home of `NarrowedAutocompleteMixin`, which the admins of `accounts` and `tickets` use too:
`addresses` depends on nothing of ours, so every other app may import from it.
"""

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.forms.models import BaseInlineFormSet
from django.utils.translation import gettext_lazy as _

from .models import Address, ContactPerson, Machine


def autocomplete_source(request):
    """`(app_label, model_name, field_name)` of the form field an admin autocomplete request
    serves, or None when `request` is not an autocomplete request.

    Django's `AutocompleteJsonView` sends these GET parameters and then asks the *related*
    model's admin for `get_search_results`, so that is where the offer can be narrowed.
    """
    match = getattr(request, "resolver_match", None)
    if match is None or match.url_name != "autocomplete":
        return None
    return (
        request.GET.get("app_label", ""),
        request.GET.get("model_name", ""),
        request.GET.get("field_name", ""),
    )


class NarrowedAutocompleteMixin:
    """Narrow what an admin autocomplete offers for one particular form field.

    `autocomplete_narrowing` maps `(app_label, model_name, field_name)` of the requesting field
    to a `Q` on this admin's model. Narrowing only makes the offer convenient: the forms still
    validate every submitted value on save.
    """

    autocomplete_narrowing = {}

    def get_search_results(self, request, queryset, search_term):
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        condition = self.autocomplete_narrowing.get(autocomplete_source(request))
        if condition is not None:
            queryset = queryset.filter(condition)
        return queryset, may_have_duplicates


class ContactPersonInlineFormSet(BaseInlineFormSet):
    def clean(self):
        super().clean()
        # The database allows one main contact per address; two ticked in one submit would
        # pass each form's own check and then fail on insert.
        main = [
            form
            for form in self.forms
            if form.cleaned_data.get("is_main") and not form.cleaned_data.get("DELETE")
        ]
        if len(main) > 1:
            raise ValidationError(_("An address has at most one main contact person."))


class ContactPersonInline(admin.TabularInline):
    model = ContactPerson
    formset = ContactPersonInlineFormSet
    fields = (
        "salutation",
        "title",
        "first_name",
        "last_name",
        "function",
        "email",
        "phone",
        "is_main",
        "is_active",
    )
    extra = 0
    show_change_link = True


class MachineInline(admin.TabularInline):
    model = Machine
    fields = ("number", "name", "manufacturer", "model", "serial_number", "is_active")
    extra = 0
    show_change_link = True


@admin.register(Address)
class AddressAdmin(NarrowedAutocompleteMixin, admin.ModelAdmin):
    list_display = ("number", "name", "city", "country", "parent", "is_active")
    list_display_links = ("number", "name")
    list_filter = ("is_active", "country")
    list_select_related = ("parent",)
    search_fields = ("number", "name", "name_2", "name_3", "city", "postal_code", "email")
    autocomplete_fields = ("parent",)
    readonly_fields = ("created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("number", "name", "name_2", "name_3", "parent", "is_active")}),
        (_("Postal address"), {"fields": ("street", "postal_code", "city", "country")}),
        (_("Reachable at"), {"fields": ("phone", "email")}),
        (_("Dates"), {"fields": ("created_at", "updated_at")}),
    )
    inlines = (ContactPersonInline, MachineInline)
    # Inactive addresses grant nobody anything, so the user form does not offer them.
    autocomplete_narrowing = {
        ("accounts", "user", "address"): Q(is_active=True),
        ("accounts", "user", "read_addresses"): Q(is_active=True),
        ("accounts", "user", "write_addresses"): Q(is_active=True),
        ("addresses", "address", "parent"): Q(is_active=True),
    }


@admin.register(ContactPerson)
class ContactPersonAdmin(NarrowedAutocompleteMixin, admin.ModelAdmin):
    list_display = ("full_name", "address", "function", "email", "phone", "is_main", "is_active")
    list_filter = ("is_active", "is_main")
    list_select_related = ("address",)
    search_fields = (
        "last_name",
        "first_name",
        "email",
        "department",
        "address__number",
        "address__name",
    )
    autocomplete_fields = ("address",)
    fieldsets = (
        (None, {"fields": ("address", "is_main", "is_active")}),
        (
            _("Person"),
            {
                "fields": (
                    "salutation",
                    "title",
                    "first_name",
                    "last_name",
                    "function",
                    "department",
                )
            },
        ),
        (_("Reachable at"), {"fields": ("email", "phone", "mobile")}),
    )
    # The user form links a user to an active contact person; that it belongs to the user's
    # address is checked on save (the autocomplete cannot know the address chosen on the page).
    autocomplete_narrowing = {
        ("accounts", "user", "contact_person"): Q(is_active=True),
    }

    @admin.display(description=_("name"), ordering="last_name")
    def full_name(self, obj):
        return obj.full_name


@admin.register(Machine)
class MachineAdmin(admin.ModelAdmin):
    list_display = (
        "number",
        "name",
        "address",
        "manufacturer",
        "model",
        "serial_number",
        "is_active",
    )
    list_filter = ("is_active",)
    list_select_related = ("address",)
    search_fields = ("number", "name", "serial_number", "address__number", "address__name")
    autocomplete_fields = ("address",)
    fieldsets = (
        (None, {"fields": ("number", "name", "address", "is_active")}),
        (
            _("Machine"),
            {"fields": ("manufacturer", "model", "serial_number", "installed_on", "notes")},
        ),
    )
