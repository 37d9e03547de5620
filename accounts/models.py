"""Users (internal staff and external users of customers) and teams.

The external-access fields are named after the manual page (`shared/seed/external-users.txt`).
Only `access.policy` reads them to decide anything.
"""

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def normalize_email(email):
    """E-mail addresses are compared case-insensitively; we store them in lower case."""
    return (email or "").strip().lower()


class UserManager(BaseUserManager):
    use_in_migrations = True

    def get_by_natural_key(self, username):
        return self.get(email__iexact=normalize_email(username))

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=normalize_email(email), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra_fields)


class UserQuerySet(models.QuerySet):
    def internal(self):
        return self.filter(is_external=False)

    def external(self):
        return self.filter(is_external=True)

    def recipients_for(self, user):
        """Internal users `user` may send a ticket to."""
        from access import policy

        return policy.users_recipient(self, user)


class UserManagerWithQuerySet(UserManager.from_queryset(UserQuerySet)):
    pass


class User(AbstractBaseUser, PermissionsMixin):
    email = models.EmailField(_("e-mail address"), unique=True)
    first_name = models.CharField(_("first name"), max_length=150, blank=True)
    last_name = models.CharField(_("last name"), max_length=150, blank=True)
    is_active = models.BooleanField(
        _("active"),
        default=True,
        help_text=_("Unselect this instead of deleting the account: access ends at once."),
    )
    is_staff = models.BooleanField(
        _("staff status"),
        default=False,
        help_text=_("Designates whether the user can log into the administration."),
    )
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)
    language = models.CharField(
        _("language"), max_length=10, choices=settings.LANGUAGES, default="en"
    )

    # --- External access, in the order and wording of the manual page ---
    is_external = models.BooleanField(
        _("External"),
        default=False,
        help_text=_("An employee of a customer who uses the customer portal."),
    )
    address = models.ForeignKey(
        "addresses.Address",
        verbose_name=_("Address"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="users",
        help_text=_("The customer address the user belongs to."),
    )
    read_addresses = models.ManyToManyField(
        "addresses.Address",
        verbose_name=_("Read permission"),
        blank=True,
        related_name="readers",
        help_text=_("Addresses (e.g. several sites) whose data the user may see."),
    )
    write_addresses = models.ManyToManyField(
        "addresses.Address",
        verbose_name=_("Write permission"),
        blank=True,
        related_name="writers",
        help_text=_("Addresses the user may change and file tickets for; write implies read."),
    )
    contact_person = models.ForeignKey(
        "addresses.ContactPerson",
        verbose_name=_("Contact person"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="users",
        help_text=_("The registered contact person of the customer this user is."),
    )
    responsible_teams = models.ManyToManyField(
        "accounts.Team",
        verbose_name=_("Person responsible: teams"),
        blank=True,
        related_name="external_users",
        help_text=_("Groups (Support, Service …) the user may send tickets to."),
    )
    responsible_users = models.ManyToManyField(
        "self",
        verbose_name=_("Person responsible: users"),
        symmetrical=False,
        blank=True,
        related_name="external_clients",
        help_text=_("Concrete internal users the user may send tickets to."),
    )
    ticket_types = models.ManyToManyField(
        "tickets.TicketType",
        verbose_name=_("Type of ticket"),
        blank=True,
        related_name="users",
        help_text=_("The types of ticket the user may create."),
    )
    restrict_status = models.BooleanField(
        _("Restrict customer status"),
        default=False,
        help_text=_("Limit the ticket statuses the user may set to those below."),
    )
    allowed_statuses = models.ManyToManyField(
        "tickets.TicketStatus",
        verbose_name=_("Ticket status"),
        blank=True,
        related_name="users",
        help_text=_("The statuses the user may apply when restricted."),
    )

    objects = UserManagerWithQuerySet()

    EMAIL_FIELD = "email"
    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["email"]
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                name="user_email_ci_unique",
                violation_error_message=_("A user with this e-mail address already exists."),
            ),
            models.CheckConstraint(
                condition=models.Q(is_external=False)
                | models.Q(is_staff=False, is_superuser=False),
                name="user_external_never_staff",
                violation_error_message=_("An external user can never be staff or superuser."),
            ),
            models.CheckConstraint(
                condition=models.Q(is_external=False) | models.Q(address__isnull=False),
                name="user_external_has_address",
                violation_error_message=_("An external user needs an address."),
            ),
        ]
        indexes = [models.Index(fields=["is_external", "is_active"], name="user_ext_active_idx")]
        permissions = [
            ("preview_as_user", _("Can preview the portal as an external user")),
        ]

    def __str__(self):
        return self.get_full_name() or self.email

    def get_full_name(self):
        return f"{self.first_name} {self.last_name}".strip()

    def get_short_name(self):
        return self.first_name or self.email

    def save(self, *args, **kwargs):
        self.email = normalize_email(self.email)
        super().save(*args, **kwargs)

    def clean(self):
        super().clean()
        self.email = normalize_email(self.email)
        errors = {}
        if self.is_external:
            if self.address_id is None:
                errors["address"] = _("An external user needs an address.")
            if self.is_staff:
                errors["is_staff"] = _("An external user can never be staff.")
            if self.is_superuser:
                errors["is_superuser"] = _("An external user can never be a superuser.")
        if self.contact_person_id is not None:
            if self.address_id is None or self.contact_person.address_id != self.address_id:
                errors["contact_person"] = _(
                    "The contact person must belong to the user's address."
                )
        if errors:
            raise ValidationError(errors)


class TeamQuerySet(models.QuerySet):
    def active(self):
        return self.filter(is_active=True)

    def recipients_for(self, user):
        """Teams `user` may send a ticket to."""
        from access import policy

        return policy.teams_recipient(self, user)


class Team(models.Model):
    """A group of internal users that tickets are sent to. Not a permission role."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    email = models.EmailField(
        _("e-mail"), blank=True, help_text=_("Team mailbox; used when the team has no members.")
    )
    members = models.ManyToManyField(
        User,
        verbose_name=_("members"),
        blank=True,
        related_name="teams",
        limit_choices_to={"is_external": False},
    )
    is_active = models.BooleanField(_("active"), default=True)

    objects = TeamQuerySet.as_manager()

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        ordering = ["name"]

    def __str__(self):
        return self.name


# The external-access fields of a user, in the manual's order (the "External" box itself comes
# first): the admin form, its fieldset and the access audit all follow this list.
EXTERNAL_ACCESS_FIELDS = (
    "address",
    "read_addresses",
    "write_addresses",
    "contact_person",
    "responsible_teams",
    "responsible_users",
    "ticket_types",
    "restrict_status",
    "allowed_statuses",
)


class AccessChange(models.Model):
    """One change of an external user's access, with the values before and after it.

    Written by `accounts.audit`: from the admin (the administrator who saved is known) and, for
    changes made elsewhere in code, from model signals (`changed_by` is then whoever
    `audit.acting_as()` names, or nobody: the system). Values are stored as the administrator
    reads them (address numbers and names, team, type, status and role names), so the trail
    stays readable when the objects change later. The user's and the actor's e-mail addresses
    are kept as well: the trail outlives a deleted account.
    """

    class Via(models.TextChoices):
        ADMIN = "admin", _("administration")
        CODE = "code", _("other (import, script, system)")

    # The audited fields, in the user form's order: external access, roles, the active flag.
    FIELDS = ("is_external", *EXTERNAL_ACCESS_FIELDS, "groups", "is_active")
    FIELD_CHOICES = [
        (name, _("Roles") if name == "groups" else User._meta.get_field(name).verbose_name)
        for name in FIELDS
    ]

    user = models.ForeignKey(
        User,
        verbose_name=_("user"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="access_changes",
    )
    user_email = models.CharField(_("user's e-mail address"), max_length=254)
    changed_by = models.ForeignKey(
        User,
        verbose_name=_("changed by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    changed_by_email = models.CharField(_("changed by (e-mail)"), max_length=254, blank=True)
    via = models.CharField(_("changed in"), max_length=10, choices=Via.choices)
    field = models.CharField(_("field"), max_length=50, choices=FIELD_CHOICES)
    before = models.TextField(_("before"), blank=True)
    after = models.TextField(_("after"), blank=True)
    at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("access change")
        verbose_name_plural = _("access changes")
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["user", "-at"], name="accesschange_user_at_idx")]

    def __str__(self):
        return f"{self.user_email}: {self.field}"
