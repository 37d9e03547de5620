"""Admin for users and teams.

The user form follows the manual page for external users (`shared/seed/external-users.txt`):
one page and one save create the user with every external-access field, and its password or
an e-mailed link to set one. Validation lives in `accounts.admin_forms`; whether the saved user
can file tickets is asked of `access.policy`.
"""

import logging
from smtplib import SMTPException

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth import admin as auth_admin
from django.contrib.auth.models import Group
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Prefetch, Q
from django.urls import reverse
from django.utils import translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from access import policy
from addresses.admin import NarrowedAutocompleteMixin

from .admin_forms import UserAddForm, UserChangeForm
from .models import EXTERNAL_ACCESS_FIELDS, Team, User
from .transparency import TransparencyAdminMixin

logger = logging.getLogger(__name__)


def send_password_set_link(*, user, request):
    """E-mail `user` a one-time link to set its password, in the user's language.

    The link is Django's password reset confirmation (`password_reset_confirm`) with a token
    from `default_token_generator`; it works once and expires after PASSWORD_RESET_TIMEOUT.
    Returns whether the mail went out; a failure is logged, not raised.
    """
    path = reverse(
        "password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    with translation.override(user.language or settings.LANGUAGE_CODE):
        subject = gettext("Set your password for the customer portal")
        body = gettext(
            "Hello %(name)s,\n\n"
            "please follow this link to set your password for the customer portal:\n\n"
            "%(url)s\n\n"
            "You sign in with your e-mail address: %(email)s\n"
            "The link works once and expires in %(days)s days.\n"
        ) % {
            "name": user.get_full_name() or user.email,
            "url": request.build_absolute_uri(path),
            "email": user.email,
            "days": max(1, settings.PASSWORD_RESET_TIMEOUT // 86400),
        }
    try:
        send_mail(subject, body, None, [user.email])
    except (SMTPException, OSError):
        logger.exception("Could not send the password set link to user %s", user.pk)
        return False
    return True


def _send_link_after_commit(request, user):
    """Send the link once the surrounding transaction commits: never for a save that failed.

    The admin's save runs in a transaction that ends before the response leaves the message
    middleware, so a failure reported here still reaches the page.
    """

    def send():
        if not send_password_set_link(user=user, request=request):
            messages.error(
                request,
                gettext(
                    "The e-mail with the link to set the password could not be sent to "
                    "%(email)s. Try again later."
                )
                % {"email": user.email},
            )

    transaction.on_commit(send)


class UserKindFilter(admin.SimpleListFilter):
    title = _("external or internal")
    parameter_name = "kind"

    def lookups(self, request, model_admin):
        return (("external", _("External")), ("internal", _("Internal")))

    def queryset(self, request, queryset):
        if self.value() == "external":
            return queryset.filter(is_external=True)
        if self.value() == "internal":
            return queryset.filter(is_external=False)
        return queryset


class RoleListFilter(admin.RelatedFieldListFilter):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.title = _("role")


PERSONAL_DATA = (_("Personal data"), {"fields": ("email", "first_name", "last_name", "language")})
EXTERNAL_ACCESS = (
    _("External access"),
    {
        "description": _(
            "Define accurately which data the external user may reach. The basic rights of the "
            "roles below apply as well."
        ),
        "fields": ("is_external", *EXTERNAL_ACCESS_FIELDS),
    },
)
ROLES = (
    _("Roles (basic rights)"),
    {
        "description": _(
            "Roles grant the basic rights Addresses, Machines, Contact person and Tickets."
        ),
        "fields": ("groups",),
    },
)
STATUS = (_("Status"), {"fields": ("is_active", "is_staff", "is_superuser")})


@admin.register(User)
class UserAdmin(TransparencyAdminMixin, NarrowedAutocompleteMixin, auth_admin.UserAdmin):
    form = UserChangeForm
    add_form = UserAddForm
    # Django's add template tells the admin to finish the user on a second page; ours is one page.
    add_form_template = None

    fieldsets = (
        PERSONAL_DATA,
        (_("Password"), {"fields": ("password", "send_password_link")}),
        EXTERNAL_ACCESS,
        ROLES,
        STATUS,
        (_("Dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        PERSONAL_DATA,
        (
            _("Password"),
            {
                "description": _(
                    "Set a password, or let the user choose one through an e-mailed link."
                ),
                "fields": ("send_password_link", "password1", "password2"),
            },
        ),
        EXTERNAL_ACCESS,
        ROLES,
        STATUS,
    )
    readonly_fields = ("last_login", "date_joined")
    # Every access relation (the check box aside) and the roles.
    autocomplete_fields = (
        *(name for name in EXTERNAL_ACCESS_FIELDS if name != "restrict_status"),
        "groups",
    )
    filter_horizontal = ()

    list_display = ("email", "full_name", "is_external", "address", "is_active", "roles")
    list_filter = (
        UserKindFilter,
        ("address", admin.RelatedOnlyFieldListFilter),
        ("groups", RoleListFilter),
        "is_active",
    )
    list_select_related = ("address",)
    search_fields = ("email", "first_name", "last_name", "address__number")
    ordering = ("email",)
    actions = ("email_password_link", "export_access_report")

    # Recipients and team members are internal users; a ticket goes to an active one.
    autocomplete_narrowing = {
        ("accounts", "user", "responsible_users"): Q(is_active=True, is_external=False),
        ("accounts", "team", "members"): Q(is_external=False),
        ("tickets", "ticket", "responsible_user"): Q(is_active=True, is_external=False),
        # "Explain a decision" asks about external users only.
        ("accounts", "accesschange", "user"): Q(is_external=True),
    }

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .prefetch_related(Prefetch("groups", queryset=Group.objects.order_by("name")))
        )

    @admin.display(description=_("name"), ordering="last_name")
    def full_name(self, obj):
        return obj.get_full_name()

    @admin.display(description=_("roles"))
    def roles(self, obj):
        return ", ".join(group.name for group in obj.groups.all())

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        if form.cleaned_data.get("send_password_link"):
            _send_link_after_commit(request, form.instance)
            self.message_user(
                request,
                gettext("A link to set the password will be e-mailed to %(email)s.")
                % {"email": form.instance.email},
                messages.SUCCESS,
            )

    def response_add(self, request, obj, post_url_continue=None):
        response = super().response_add(request, obj, post_url_continue)
        self._warn_if_cannot_file(request, obj)
        return response

    def response_change(self, request, obj):
        response = super().response_change(request, obj)
        self._warn_if_cannot_file(request, obj)
        return response

    def _warn_if_cannot_file(self, request, user):
        """An external user who cannot file any ticket is most likely missing a field."""
        if not user.is_external:
            return
        # The many-to-many fields were saved after the user row: nothing cached may be used.
        policy.forget_grants(user)
        decision = policy.can_file(user)
        if not decision:
            self.message_user(
                request,
                gettext("%(user)s cannot file any ticket yet: %(reason)s.")
                % {"user": user, "reason": decision.reason},
                messages.WARNING,
            )

    @admin.action(description=_("Send password set link"), permissions=("change",))
    def email_password_link(self, request, queryset):
        sent, failed, inactive = 0, 0, 0
        for user in queryset:
            if not user.is_active:
                inactive += 1
            elif send_password_set_link(user=user, request=request):
                sent += 1
            else:
                failed += 1
        if sent:
            self.message_user(
                request,
                ngettext(
                    "A link to set the password was sent to %(count)d user.",
                    "A link to set the password was sent to %(count)d users.",
                    sent,
                )
                % {"count": sent},
                messages.SUCCESS,
            )
        if inactive:
            self.message_user(
                request,
                ngettext(
                    "%(count)d inactive user got no link.",
                    "%(count)d inactive users got no link.",
                    inactive,
                )
                % {"count": inactive},
                messages.WARNING,
            )
        if failed:
            self.message_user(
                request,
                ngettext(
                    "The e-mail could not be sent to %(count)d user. Try again later.",
                    "The e-mail could not be sent to %(count)d users. Try again later.",
                    failed,
                )
                % {"count": failed},
                messages.ERROR,
            )


@admin.register(Team)
class TeamAdmin(NarrowedAutocompleteMixin, admin.ModelAdmin):
    list_display = ("name", "email", "member_list", "is_active")
    list_filter = ("is_active",)
    search_fields = ("name", "email")
    autocomplete_fields = ("members",)
    fields = ("name", "email", "members", "is_active")
    # Inactive teams receive no tickets, so the user and ticket forms do not offer them.
    autocomplete_narrowing = {
        ("accounts", "user", "responsible_teams"): Q(is_active=True),
        ("tickets", "ticket", "responsible_team"): Q(is_active=True),
    }

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("members")

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "members":
            # The model limits members to internal users; say so when a POST names another.
            kwargs["error_messages"] = {
                "invalid_choice": _("Only internal users can be team members.")
            }
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    @admin.display(description=_("members"))
    def member_list(self, obj):
        return ", ".join(str(member) for member in obj.members.all())
