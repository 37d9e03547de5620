"""The write paths of addresses, machines, contact persons and the portal profile.

Every function here is keyword-only, runs in one transaction, locks and re-reads the row, and
asks `access.policy` again before it writes, whatever the view or form already checked:

* a refusal raises `PermissionDenied` carrying the policy's reason (a view answers 403);
* input that cannot be saved raises `ValidationError` keyed by field name, so a view can put
  the errors back on its form (for example a second main contact person at one address).

Either way nothing is written. `data` is a form's `cleaned_data`: only the fields listed here
as editable are accepted, anything else is a programming error (`TypeError`), so a field such
as `number`, `address` or `is_active` of an address can never be changed through these paths.

Callers must have fetched the object through its scope (`Address.objects.visible_to(user)` …)
so that an object outside the scope is a 404 before a service is called.
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from access import policy

from .models import Address, ContactPerson, Machine

ADDRESS_EDITABLE_FIELDS = (
    "name",
    "name_2",
    "name_3",
    "street",
    "postal_code",
    "city",
    "country",
    "phone",
    "email",
)
MACHINE_EDITABLE_FIELDS = (
    "name",
    "manufacturer",
    "model",
    "serial_number",
    "installed_on",
    "notes",
)
CONTACT_EDITABLE_FIELDS = (
    "salutation",
    "title",
    "first_name",
    "last_name",
    "function",
    "department",
    "email",
    "phone",
    "mobile",
    "is_main",
    "is_active",
)
PROFILE_EDITABLE_FIELDS = ("language",)


def _require(decision):
    if not decision:
        raise PermissionDenied(decision.reason)
    return decision


def _apply(instance, data, allowed):
    unknown = set(data) - set(allowed)
    if unknown:
        raise TypeError(f"fields not editable here: {', '.join(sorted(unknown))}")
    changed = []
    for field, value in data.items():
        if getattr(instance, field) != value:
            setattr(instance, field, value)
            changed.append(field)
    return changed


def _one_main_error():
    return ValidationError(
        {"is_main": _("This address already has a main contact person.")}, code="one_main"
    )


def _save_contact(contact, update_fields=None):
    """Validate (including the one-main-per-address constraint) and save.

    The constraint is checked before saving for a friendly error; the database constraint
    still decides under concurrency, and its IntegrityError becomes the same form error.
    """
    if contact.is_main:
        other_main = ContactPerson.objects.filter(address_id=contact.address_id, is_main=True)
        if contact.pk is not None:
            other_main = other_main.exclude(pk=contact.pk)
        if other_main.exists():
            raise _one_main_error()
    contact.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            contact.save(update_fields=update_fields)
    except IntegrityError as exc:
        raise _one_main_error() from exc
    return contact


def address_update(*, actor, address, data):
    """Change the address data (never number, headquarters or active flag)."""
    with transaction.atomic():
        address = Address.objects.select_for_update().get(pk=address.pk)
        _require(policy.can_edit_address(actor, address))
        changed = _apply(address, data, ADDRESS_EDITABLE_FIELDS)
        address.full_clean()
        if changed:
            address.save(update_fields=[*changed, "updated_at"])
    return address


def machine_update(*, actor, machine, data):
    """Change a machine's description (never its address or number)."""
    with transaction.atomic():
        machine = Machine.objects.select_for_update().get(pk=machine.pk)
        _require(policy.can_edit_machine(actor, machine))
        changed = _apply(machine, data, MACHINE_EDITABLE_FIELDS)
        machine.full_clean()
        if changed:
            machine.save(update_fields=changed)
    return machine


def contact_create(*, actor, address, data):
    """Add a contact person at `address`."""
    with transaction.atomic():
        address = Address.objects.select_for_update().get(pk=address.pk)
        _require(policy.can_add_contact(actor, address))
        contact = ContactPerson(address=address)
        _apply(contact, data, CONTACT_EDITABLE_FIELDS)
        _save_contact(contact)
    return contact


def contact_update(*, actor, contact, data):
    """Change a contact person (never the address it belongs to)."""
    with transaction.atomic():
        contact = ContactPerson.objects.select_for_update().get(pk=contact.pk)
        _require(policy.can_edit_contact(actor, contact))
        changed = _apply(contact, data, CONTACT_EDITABLE_FIELDS)
        if changed:
            _save_contact(contact, update_fields=changed)
    return contact


def profile_update(*, actor, user, data):
    """Change the portal user's own preferences (the language).

    Name and e-mail are the administrators' to maintain (the e-mail is the login), and nothing
    in the access rules lets a user change another account.
    """
    with transaction.atomic():
        _require(policy.can_use_portal(actor))
        if actor.pk != user.pk:
            raise PermissionDenied(_("users may only change their own profile"))
        user = get_user_model().objects.select_for_update().get(pk=user.pk)
        changed = _apply(user, data, PROFILE_EDITABLE_FIELDS)
        if user.language not in dict(settings.LANGUAGES):
            raise ValidationError({"language": _("Select one of the offered languages.")})
        if changed:
            user.save(update_fields=changed)
    return user
