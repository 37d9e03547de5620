"""Customer addresses (headquarters and sites), their contact persons and installed machines.

This app depends on nothing else of ours. Scoping (`visible_to`, `writable_by`) is answered by the
access policy in `access.policy`; the QuerySet methods only hand the question over.
"""

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

country_code_validator = RegexValidator(
    r"^[A-Z]{2}$", _("Enter a two-letter ISO 3166 country code, for example DE or AT.")
)


class AddressQuerySet(models.QuerySet):
    def visible_to(self, user):
        from access import policy

        return policy.addresses_visible(self, user)

    def writable_by(self, user):
        from access import policy

        return policy.addresses_writable(self, user)

    def fileable_by(self, user):
        """Addresses at which `user` may file a ticket."""
        from access import policy

        return policy.addresses_fileable(self, user)


class Address(models.Model):
    number = models.CharField(_("customer number"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=200, help_text=_("Line 1: the company."))
    name_2 = models.CharField(_("name 2"), max_length=200, blank=True)
    name_3 = models.CharField(_("name 3"), max_length=200, blank=True)
    street = models.CharField(_("street"), max_length=200, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=20, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    country = models.CharField(
        _("country"), max_length=2, blank=True, validators=[country_code_validator]
    )
    phone = models.CharField(_("phone"), max_length=50, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("headquarters"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="sites",
        help_text=_("The headquarters this site belongs to, if it is a site."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = AddressQuerySet.as_manager()

    class Meta:
        verbose_name = _("address")
        verbose_name_plural = _("addresses")
        ordering = ["number"]
        indexes = [models.Index(fields=["name"], name="address_name_idx")]

    def __str__(self):
        return f"{self.number} {self.name}"

    def clean_fields(self, exclude=None):
        # Normalise before the field validators see it: "de" is stored as "DE".
        self.country = (self.country or "").strip().upper()
        super().clean_fields(exclude=exclude)

    def clean(self):
        super().clean()
        # A site's headquarters may not be the site itself or one of its own sites.
        seen = {self.pk} if self.pk else set()
        ancestor = self.parent
        while ancestor is not None:
            if ancestor.pk in seen:
                raise ValidationError(
                    {"parent": _("An address cannot be its own headquarters, directly or not.")}
                )
            seen.add(ancestor.pk)
            ancestor = ancestor.parent

    @property
    def one_line(self):
        parts = [self.name, self.street, f"{self.postal_code} {self.city}".strip()]
        return ", ".join(part for part in parts if part)


class ContactPersonQuerySet(models.QuerySet):
    def visible_to(self, user):
        from access import policy

        return policy.contacts_visible(self, user)

    def writable_by(self, user):
        from access import policy

        return policy.contacts_writable(self, user)


class ContactPerson(models.Model):
    class Salutation(models.TextChoices):
        NONE = "", _("(none)")
        MR = "mr", _("Mr")
        MS = "ms", _("Ms")
        MX = "mx", _("Mx")

    address = models.ForeignKey(
        Address, verbose_name=_("address"), on_delete=models.PROTECT, related_name="contacts"
    )
    salutation = models.CharField(
        _("salutation"), max_length=5, choices=Salutation.choices, blank=True
    )
    title = models.CharField(_("title"), max_length=50, blank=True)
    first_name = models.CharField(_("first name"), max_length=100, blank=True)
    last_name = models.CharField(_("last name"), max_length=100)
    function = models.CharField(_("function"), max_length=100, blank=True)
    department = models.CharField(_("department"), max_length=100, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=50, blank=True)
    mobile = models.CharField(_("mobile"), max_length=50, blank=True)
    is_main = models.BooleanField(
        _("main contact"), default=False, help_text=_("At most one per address.")
    )
    is_active = models.BooleanField(_("active"), default=True)

    objects = ContactPersonQuerySet.as_manager()

    class Meta:
        verbose_name = _("contact person")
        verbose_name_plural = _("contact persons")
        ordering = ["last_name", "first_name", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["address"],
                condition=models.Q(is_main=True),
                name="contact_one_main_per_address",
                violation_error_message=_("This address already has a main contact person."),
            )
        ]

    def __str__(self):
        return self.full_name

    @property
    def full_name(self):
        return " ".join(p for p in [self.title, self.first_name, self.last_name] if p)


class MachineQuerySet(models.QuerySet):
    def visible_to(self, user):
        from access import policy

        return policy.machines_visible(self, user)

    def writable_by(self, user):
        from access import policy

        return policy.machines_writable(self, user)


class Machine(models.Model):
    address = models.ForeignKey(
        Address,
        verbose_name=_("address"),
        on_delete=models.PROTECT,
        related_name="machines",
        help_text=_("Where the machine stands."),
    )
    number = models.CharField(_("machine number"), max_length=30, unique=True)
    name = models.CharField(_("name"), max_length=200)
    manufacturer = models.CharField(_("manufacturer"), max_length=100, blank=True)
    model = models.CharField(_("model"), max_length=100, blank=True)
    serial_number = models.CharField(_("serial number"), max_length=100, blank=True)
    installed_on = models.DateField(_("installed on"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    objects = MachineQuerySet.as_manager()

    class Meta:
        verbose_name = _("machine")
        verbose_name_plural = _("machines")
        ordering = ["number"]

    def __str__(self):
        return f"{self.number} {self.name}"
