"""Admin for ticket types, statuses and (read-mostly) tickets.

Tickets are filed, answered, forwarded and closed in the portal and the desk, which record the
history; the admin only corrects a ticket's subject and where it belongs (address, machine,
contact person). Its conversation and history are shown read-only.
"""

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from addresses.admin import NarrowedAutocompleteMixin

from .models import Message, Ticket, TicketEvent, TicketStatus, TicketType


@admin.register(TicketType)
class TicketTypeAdmin(NarrowedAutocompleteMixin, admin.ModelAdmin):
    list_display = ("name", "order", "is_active")
    list_editable = ("order", "is_active")
    list_filter = ("is_active",)
    search_fields = ("name", "description")
    fields = ("name", "description", "order", "is_active")
    autocomplete_narrowing = {("accounts", "user", "ticket_types"): Q(is_active=True)}


class TicketStatusForm(forms.ModelForm):
    """The default status is chosen with `make_default`, not the model's `is_default`.

    The database allows one default; ticking a new one must switch it (the admin does that in
    one transaction) instead of failing the model's "another status is already the default"
    check. Unticking it on the default status is refused: new tickets always need one.
    """

    make_default = forms.BooleanField(
        label=_("default"),
        required=False,
        help_text=_(
            "New tickets get this status. Ticking it makes this status the default instead of "
            "the current one."
        ),
    )

    class Meta:
        model = TicketStatus
        fields = ("name", "order", "is_active", "is_closed")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["make_default"].initial = self.instance.is_default

    def clean(self):
        cleaned_data = super().clean()
        make_default = cleaned_data.get("make_default")
        if self.instance.is_default and not make_default:
            self.add_error(
                "make_default",
                _("New tickets need a default status: make another status the default instead."),
            )
        elif make_default and (not cleaned_data.get("is_active") or cleaned_data.get("is_closed")):
            self.add_error(
                "make_default",
                _("The default status must be active and must not close tickets."),
            )
        return cleaned_data


@admin.register(TicketStatus)
class TicketStatusAdmin(NarrowedAutocompleteMixin, admin.ModelAdmin):
    form = TicketStatusForm
    list_display = ("name", "order", "is_active", "is_default", "is_closed")
    list_filter = ("is_active", "is_closed")
    search_fields = ("name",)
    fields = ("name", "order", "make_default", "is_closed", "is_active")
    autocomplete_narrowing = {("accounts", "user", "allowed_statuses"): Q(is_active=True)}

    def save_model(self, request, obj, form, change):
        if not form.cleaned_data.get("make_default") or obj.is_default:
            super().save_model(request, obj, form, change)
            return
        with transaction.atomic():
            previous = list(TicketStatus.objects.select_for_update().filter(is_default=True))
            TicketStatus.objects.filter(is_default=True).update(is_default=False)
            obj.is_default = True
            super().save_model(request, obj, form, change)
        for status in previous:
            self.message_user(
                request,
                gettext("“%(new)s” is now the default status instead of “%(old)s”.")
                % {"new": obj, "old": status},
                messages.INFO,
            )

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.is_default:
            return False
        return super().has_delete_permission(request, obj)

    def get_deleted_objects(self, objs, request):
        """The bulk delete action lists the default status as protected, with the reason.

        `has_delete_permission(obj)` already refuses it, but Django would then blame the
        account's permissions; say why instead.
        """
        to_delete, model_count, perms_needed, protected = super().get_deleted_objects(objs, request)
        defaults = [status for status in objs if status.is_default]
        if defaults and super().has_delete_permission(request):
            perms_needed = perms_needed - {str(self.opts.verbose_name)}
            protected = [
                *protected,
                *(
                    gettext("%(status)s: the default status for new tickets cannot be deleted")
                    % {"status": status}
                    for status in defaults
                ),
            ]
        return to_delete, model_count, perms_needed, protected


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class MessageInline(ReadOnlyInline):
    model = Message
    fields = ("created_at", "author", "kind", "body")
    readonly_fields = fields
    verbose_name_plural = _("conversation (internal notes included)")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("author")


class TicketEventInline(ReadOnlyInline):
    model = TicketEvent
    fields = ("created_at", "actor", "kind", "old_value", "new_value")
    readonly_fields = fields
    verbose_name_plural = _("history")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    list_display = (
        "number",
        "subject",
        "address",
        "status",
        "type",
        "priority",
        "responsible",
        "created_at",
    )
    list_display_links = ("number", "subject")
    list_filter = ("status", "type", "priority")
    list_select_related = ("address", "status", "type", "responsible_team", "responsible_user")
    # "number__exact" compares the number as text, so a word in the search box is no error.
    search_fields = ("number__exact", "subject", "address__number")
    autocomplete_fields = (
        "type",
        "status",
        "address",
        "machine",
        "contact_person",
        "created_by",
        "responsible_team",
        "responsible_user",
    )
    # Type, status, priority and recipients change in the desk, which records the history and
    # keeps `closed_at` in step with the status.
    readonly_fields = (
        "number",
        "type",
        "status",
        "priority",
        "responsible_team",
        "responsible_user",
        "created_by",
        "created_at",
        "updated_at",
        "closed_at",
    )
    fieldsets = (
        (None, {"fields": ("number", "subject", "type", "status", "priority")}),
        (_("Where"), {"fields": ("address", "machine", "contact_person")}),
        (_("Who"), {"fields": ("created_by", "responsible_team", "responsible_user")}),
        (_("Dates"), {"fields": ("created_at", "updated_at", "closed_at")}),
    )
    inlines = (MessageInline, TicketEventInline)

    def has_add_permission(self, request):
        # Tickets are filed in the portal or the desk, which write the description and history.
        return False

    @admin.display(description=_("responsible"))
    def responsible(self, obj):
        return " / ".join(str(who) for who in (obj.responsible_team, obj.responsible_user) if who)
