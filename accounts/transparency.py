"""Access transparency in the admin: what an external user can reach, and why.

* **Effective access** on the user's change page (`TransparencyAdminMixin.render_change_form`):
  `policy.AccessSummary` rendered; after a failed save, the summary of the values entered,
  computed inside a savepoint that is always rolled back (`unsaved_summary`), so the very same
  policy code answers and nothing is kept.
* **Explain a decision** (`explain_view`, /admin/accounts/user/explain/): an external user, an
  object and an action; the answer is the predicate's own `Decision` (`policy.QUESTIONS`).
* **Preview as user** (`preview_view`, `end_preview_view`): see `access.preview`.
* **Audit trail**: the admin's saves are recorded with the administrator (`save_model`,
  `save_related`, `accounts.audit`); `AccessChangeAdmin` shows the trail, read-only.
* **Access report**: CSV of external users with their effective access, streamed
  (`access_report_response`), from the changelist button or the action on selected users.

Nothing here decides access: every answer comes from `access.policy`. This module only words and
lays out what the policy says.
"""

import copy
import csv
import uuid
from itertools import chain

from django import forms
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, transaction
from django.http import Http404, HttpResponseRedirect, StreamingHttpResponse
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from access import policy, preview
from addresses.models import Address, ContactPerson, Machine
from tickets.models import Ticket, TicketStatus, TicketType

from . import audit
from .models import AccessChange, Team, User

RECENT_CHANGES = 10

# The basic rights as an administrator reads them: area, then (what, right) pairs.
RIGHT_AREAS = [
    (
        _("Addresses"),
        [(_("read"), policy.ADDRESSES_READ), (_("write"), policy.ADDRESSES_WRITE)],
    ),
    (
        _("Machines"),
        [(_("read"), policy.MACHINES_READ), (_("write"), policy.MACHINES_WRITE)],
    ),
    (
        _("Contact person"),
        [
            (_("read"), policy.CONTACTS_READ),
            (_("write"), policy.CONTACTS_WRITE),
            (_("add"), policy.CONTACTS_ADD),
        ],
    ),
    (
        _("Tickets"),
        [
            (_("read"), policy.TICKETS_READ),
            (_("file"), policy.TICKETS_FILE),
            (_("reply and set status"), policy.TICKETS_WRITE),
        ],
    ),
]


# ---------------------------------------------------------------------------------------------
# Effective access summary.


def summary_context(summary):
    """Everything the summary template shows, evaluated now (lists, not lazy querysets)."""
    return {
        "subject": summary.user,
        "portal": summary.portal,
        "home_address": summary.home_address,
        "addresses": summary.addresses,
        "rights": [
            (area, [(what, summary.holds(perm)) for what, perm in rights])
            for area, rights in RIGHT_AREAS
        ],
        "roles": summary.roles,
        "contact_person": summary.contact_person,
        "filing": summary.filing,
        "teams": summary.teams,
        "recipient_users": summary.recipient_users,
        "ticket_types": summary.ticket_types,
        "restrict_status": summary.restrict_status,
        "allowed_statuses": summary.allowed_statuses,
        "settable_statuses": summary.settable_statuses,
        "counts": summary.counts,
    }


def render_summary(user, **extra):
    """The "Effective access" block for `user` as HTML (every query has run when it returns)."""
    context = summary_context(policy.AccessSummary(user))
    context.update(extra)
    return render_to_string("admin/accounts/user/access_summary.html", context)


def unsaved_summary(form):
    """The summary of the values a failed save entered, or None when it cannot be computed.

    The values are saved to a copy of the user inside a savepoint, the policy computes the
    summary as it would for a saved user, and the savepoint is rolled back: nothing persists,
    no audit row is written (the copy is marked), no mail is queued. Fields with errors keep
    their saved values (a new user: empty). Returns (html or None, names of those fields).
    """
    cleaned = getattr(form, "cleaned_data", {})
    invalid = [str(form.fields[name].label) for name in form.errors if name in form.fields and name]
    user = copy.copy(form.instance)
    user.__dict__.pop("_prefetched_objects_cache", None)
    policy.forget_grants(user)
    audit.suppress_signals(user)
    if user.pk is None and "email" not in cleaned:
        user.email = f"unsaved-{uuid.uuid4().hex}@invalid.example"
    html = None
    try:
        with transaction.atomic():
            user.save()
            for name in audit.M2M_FIELDS:
                if name in form.fields and name in cleaned:
                    getattr(user, name).set(cleaned[name])
            policy.forget_grants(user)
            html = render_summary(user, unsaved=True, invalid_fields=invalid)
            transaction.set_rollback(True)
    except DatabaseError:
        html = None
    return html, invalid


# ---------------------------------------------------------------------------------------------
# Explain a decision.

ACTIONS = [
    ("see", _("see it")),
    ("edit", _("edit it")),
    ("add_contact", _("add a contact person at the address")),
    ("reply", _("reply to the ticket")),
    ("set_status", _("set the ticket's status to …")),
    ("file_ticket", _("file a ticket at the address, with type, recipient (and machine)")),
    ("file_any", _("file any ticket at all")),
]
OBJECT_FIELDS = ("ticket", "address", "machine", "contact")
# What else the page answers about the chosen object, for context.
RELATED_QUESTIONS = {
    "ticket": ("see_ticket", "reply"),
    "address": ("see_address", "edit_address", "add_contact"),
    "machine": ("see_machine", "edit_machine"),
    "contact": ("see_contact", "edit_contact"),
}
QUESTION_LABELS = {
    "see_ticket": _("see the ticket"),
    "reply": _("reply to the ticket"),
    "see_address": _("see the address"),
    "edit_address": _("edit the address"),
    "add_contact": _("add a contact person at the address"),
    "see_machine": _("see the machine"),
    "edit_machine": _("edit the machine"),
    "see_contact": _("see the contact person"),
    "edit_contact": _("edit the contact person"),
    "set_status": _("set the status"),
    "file_ticket": _("file this ticket"),
    "file_any": _("file any ticket"),
}


def _autocomplete(model, field_name, admin_site):
    return AutocompleteSelect(model._meta.get_field(field_name), admin_site)


class ExplainForm(forms.Form):
    """Who, what, which action. The objects resolve to a `policy.QUESTIONS` entry in `clean`."""

    user = forms.ModelChoiceField(
        label=_("External user"), queryset=User.objects.filter(is_external=True)
    )
    action = forms.ChoiceField(label=_("May the user …"), choices=ACTIONS)
    ticket = forms.IntegerField(label=_("Ticket number"), required=False, min_value=1)
    address = forms.ModelChoiceField(
        label=_("Address"), queryset=Address.objects.all(), required=False
    )
    machine = forms.ModelChoiceField(
        label=_("Machine"), queryset=Machine.objects.select_related("address"), required=False
    )
    contact = forms.ModelChoiceField(
        label=_("Contact person"),
        queryset=ContactPerson.objects.select_related("address"),
        required=False,
    )
    status = forms.ModelChoiceField(
        label=_("Status (set status)"), queryset=TicketStatus.objects.all(), required=False
    )
    ticket_type = forms.ModelChoiceField(
        label=_("Type of ticket (file)"), queryset=TicketType.objects.all(), required=False
    )
    team = forms.ModelChoiceField(
        label=_("Recipient team (file)"), queryset=Team.objects.all(), required=False
    )
    recipient = forms.ModelChoiceField(
        label=_("Recipient user (file)"),
        queryset=User.objects.all(),
        required=False,
    )

    def __init__(self, *args, admin_site, **kwargs):
        super().__init__(*args, **kwargs)
        widgets = {
            # The user autocomplete is narrowed to external users (UserAdmin's narrowing).
            "user": (AccessChange, "user"),
            "address": (Ticket, "address"),
            "machine": (Ticket, "machine"),
            "contact": (Ticket, "contact_person"),
            "status": (Ticket, "status"),
            "ticket_type": (Ticket, "type"),
            "team": (Ticket, "responsible_team"),
            "recipient": (Ticket, "responsible_user"),
        }
        for name, (model, field_name) in widgets.items():
            field = self.fields[name]
            field.widget = _autocomplete(model, field_name, admin_site)
            field.widget.choices = field.choices
        self.question = None
        self.objects = {}

    def clean_ticket(self):
        number = self.cleaned_data.get("ticket")
        if number is None:
            return None
        ticket = Ticket.objects.select_related("address").filter(number=number).first()
        if ticket is None:
            raise ValidationError(_("There is no ticket %(number)s."), params={"number": number})
        return ticket

    def clean(self):
        data = super().clean()
        action = data.get("action")
        if not action or self.errors:
            return data
        given = [name for name in OBJECT_FIELDS if data.get(name) is not None]
        key, objects = self._question(action, given, data)
        if key is not None:
            self.question = policy.QUESTIONS[key]
            self.objects = objects
        return data

    def _one_object(self, given, allowed):
        if len(given) != 1 or given[0] not in allowed:
            labels = ", ".join(str(self.fields[name].label) for name in allowed)
            self.add_error(None, _("Choose exactly one of: %(objects)s.") % {"objects": labels})
            return None
        return given[0]

    def _question(self, action, given, data):
        if action == "see":
            kind = self._one_object(given, OBJECT_FIELDS)
            return (f"see_{kind}", {kind: data[kind]}) if kind else (None, {})
        if action == "edit":
            if given == ["ticket"]:
                self.add_error(
                    "action", _("A ticket is not edited: ask about replying or setting a status.")
                )
                return None, {}
            kind = self._one_object(given, ("address", "machine", "contact"))
            return (f"edit_{kind}", {kind: data[kind]}) if kind else (None, {})
        if action == "add_contact":
            kind = self._one_object(given, ("address",))
            return ("add_contact", {"address": data["address"]}) if kind else (None, {})
        if action in {"reply", "set_status"}:
            if self._one_object(given, ("ticket",)) is None:
                return None, {}
            if action == "reply":
                return "reply", {"ticket": data["ticket"]}
            if data.get("status") is None:
                self.add_error("status", _("Choose the status to ask about."))
                return None, {}
            return "set_status", {"ticket": data["ticket"], "status": data["status"]}
        if action == "file_ticket":
            return self._filing(data)
        return "file_any", {}

    def _filing(self, data):
        missing = False
        for name, message in (
            ("address", _("Choose the address to file at.")),
            ("ticket_type", _("Choose the type of ticket.")),
        ):
            if data.get(name) is None:
                self.add_error(name, message)
                missing = True
        if data.get("ticket") is not None or data.get("contact") is not None:
            self.add_error(None, _("Filing is asked with an address, not a ticket or contact."))
            missing = True
        if missing:
            return None, {}
        objects = {
            name: data[name]
            for name in ("address", "ticket_type", "team", "recipient", "machine")
            if data.get(name) is not None
        }
        return "file_ticket", objects


def explanation(form):
    """The answer for a valid `ExplainForm`: the decision, and related answers for context."""
    user = form.cleaned_data["user"]
    decision = form.question.ask(user, **form.objects)
    related = []
    kinds = [name for name in OBJECT_FIELDS if name in form.objects]
    if len(kinds) == 1 and form.question.key != "file_ticket":
        kind = kinds[0]
        for key in RELATED_QUESTIONS[kind]:
            if key != form.question.key:
                answer = policy.QUESTIONS[key].ask(user, **{kind: form.objects[kind]})
                related.append((QUESTION_LABELS[key], answer))
    return {
        "decision": decision,
        "question": QUESTION_LABELS.get(form.question.key, form.question.key),
        "objects": [
            (form.fields[name].label, obj)
            for name, obj in form.objects.items()
            if name in form.fields
        ],
        "subject": user,
        "related": related,
    }


# ---------------------------------------------------------------------------------------------
# The access report (CSV).

REPORT_HEADER = [
    _("E-mail"),
    _("Name"),
    _("Active"),
    _("Home address"),
    _("Readable addresses (read or write permission)"),
    _("Writable addresses"),
    _("Configured but not in effect (inactive addresses)"),
    _("Basic rights"),
    _("Roles"),
    _("Can file tickets"),
    _("Why not"),
    _("Ticket types"),
    _("Recipients"),
    _("Restrict customer status"),
    _("Statuses the user may set"),
    _("Visible tickets"),
    _("Tickets the user may answer"),
    _("Visible machines"),
    _("Visible contact persons"),
]
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value):
    """A cell a spreadsheet shows as text: a value that starts like a formula gets a quote."""
    text = "" if value is None else str(value)
    if text.startswith(_FORMULA_START):
        return "'" + text
    return text


def _yes_no(value):
    return gettext("yes") if value else gettext("no")


def _names(objects):
    return "; ".join(str(obj) for obj in objects)


def report_row(user):
    """One user's line of the report, from `policy.AccessSummary`."""
    summary = policy.AccessSummary(user)
    addresses = summary.addresses
    rights = [
        f"{area}: {', '.join(str(what) for what, perm in pairs if summary.holds(perm))}"
        for area, pairs in RIGHT_AREAS
        if any(summary.holds(perm) for _what, perm in pairs)
    ]
    filing = summary.filing
    counts = summary.counts
    return [
        user.email,
        user.get_full_name(),
        _yes_no(user.is_active),
        str(user.address) if user.address_id else "",
        "; ".join(a.number for a in addresses if a.readable),
        "; ".join(a.number for a in addresses if a.writable),
        "; ".join(a.number for a in addresses if not a.readable),
        " | ".join(rights),
        "; ".join(summary.roles),
        _yes_no(filing),
        "" if filing else filing.reason,
        _names(t for t in summary.ticket_types if t.usable),
        _names(
            chain(
                (t for t in summary.teams if t.usable),
                (u for u in summary.recipient_users if u.usable),
            )
        ),
        _yes_no(summary.restrict_status),
        _names(summary.settable_statuses),
        counts["tickets"],
        counts["tickets_writable"],
        counts["machines"],
        counts["contacts"],
    ]


class _Echo:
    """A file-like object for csv.writer that hands each line back instead of storing it."""

    def write(self, value):
        return value


def report_users(queryset):
    """External users of `queryset`, with what the report reads preloaded, in chunks."""
    return (
        queryset.filter(is_external=True)
        .select_related("address", "contact_person")
        .prefetch_related(
            "groups", "responsible_teams", "responsible_users", "ticket_types", "allowed_statuses"
        )
        .order_by("email", "pk")
        .iterator(chunk_size=200)
    )


def access_report_response(queryset):
    """The report as a streamed CSV download: one line at a time, whatever the number of users."""
    writer = csv.writer(_Echo())

    def lines():
        yield "\ufeff"  # a byte order mark: spreadsheet programs then read UTF-8
        yield writer.writerow([csv_cell(label) for label in REPORT_HEADER])
        for user in report_users(queryset):
            yield writer.writerow([csv_cell(value) for value in report_row(user)])

    stamp = timezone.localtime().strftime("%Y-%m-%d-%H%M")
    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="access-report-{stamp}.csv"'
    return response


# ---------------------------------------------------------------------------------------------
# The audit trail, read-only.


class AccessChangeAdmin(admin.ModelAdmin):
    """The access changes of external users. Nobody adds, changes or deletes a row here.

    Whoever may view users may view their access history.
    """

    list_display = ("at", "user_email", "field", "before", "after", "changed_by_email", "via")
    list_display_links = None
    list_filter = ("field", "via")
    search_fields = ("user_email", "changed_by_email", "before", "after")
    date_hierarchy = "at"
    fields = ("at", "user", "user_email", "field", "before", "after", "changed_by_email", "via")
    readonly_fields = fields

    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj) or request.user.has_perm(
            "accounts.view_user"
        )

    def has_module_permission(self, request):
        return super().has_module_permission(request) or request.user.has_perm("accounts.view_user")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


admin.site.register(AccessChange, AccessChangeAdmin)


# ---------------------------------------------------------------------------------------------
# The user admin's part.


class TransparencyAdminMixin:
    """Summary, explanation, preview, audit and report for the user admin (`UserAdmin`)."""

    def _url_name(self, what):
        return f"admin:{self.opts.app_label}_{self.opts.model_name}_{what}"

    def get_urls(self):
        info = f"{self.opts.app_label}_{self.opts.model_name}"
        wrap = self.admin_site.admin_view
        return [
            path("explain/", wrap(self.explain_view), name=f"{info}_explain"),
            path("access-report/", wrap(self.access_report_view), name=f"{info}_access_report"),
            path(
                "preview/end/",
                wrap(require_POST(self.end_preview_view)),
                name=f"{info}_preview_end",
            ),
            path("<path:object_id>/preview/", wrap(self.preview_view), name=f"{info}_preview"),
            *super().get_urls(),
        ]

    # --- The change page: summary, links, recent changes -------------------------------------

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        form = context["adminform"].form
        context.update(self.transparency_context(request, form, obj))
        return super().render_change_form(request, context, add, change, form_url, obj)

    def transparency_context(self, request, form, obj):
        if not self.has_view_permission(request, obj):
            return {}
        context = {}
        if form.is_bound and form.errors:
            if form.instance.is_external:
                html, invalid = unsaved_summary(form)
                context["access_summary"] = html or render_to_string(
                    "admin/accounts/user/access_summary_unavailable.html",
                    {"invalid_fields": invalid},
                )
        elif obj is not None and obj.is_external:
            context["access_summary"] = render_summary(obj)
        if obj is not None and obj.pk is not None:
            context["access_links"] = {
                "explain": reverse(self._url_name("explain")) + f"?user={obj.pk}",
                "changes": reverse("admin:accounts_accesschange_changelist")
                + f"?user__id__exact={obj.pk}",
                "preview": (
                    reverse(self._url_name("preview"), args=[obj.pk])
                    if preview.may_preview(request.user) and preview.previewable(obj)
                    else None
                ),
            }
            context["recent_access_changes"] = list(
                AccessChange.objects.filter(user=obj)[:RECENT_CHANGES]
            )
        return context

    # --- Audit: the admin's saves, with the administrator ------------------------------------

    def save_model(self, request, obj, form, change):
        audit.suppress_signals(obj)
        form._access_before = (
            audit.saved_snapshot(obj.pk) if change and obj.pk else audit.blank_snapshot()
        )
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        before = getattr(form, "_access_before", None)
        if before is not None:
            audit.record_access_changes(
                user=form.instance,
                before=before,
                after=audit.snapshot(form.instance),
                changed_by=request.user,
                via=AccessChange.Via.ADMIN,
            )

    # --- Explain a decision ------------------------------------------------------------------

    def explain_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        data = request.GET if "action" in request.GET else None
        initial = {}
        if data is None and request.GET.get("user", "").isdecimal():
            initial["user"] = request.GET["user"]
        form = ExplainForm(data, initial=initial, admin_site=self.admin_site)
        answer = explanation(form) if form.is_valid() and form.question is not None else None
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": gettext("Explain a decision"),
            "form": form,
            "media": self.media + form.media,
            "answer": answer,
            "summary_url": (
                reverse(self._url_name("change"), args=[answer["subject"].pk]) + "#effective-access"
                if answer
                else None
            ),
        }
        return TemplateResponse(request, "admin/accounts/user/explain.html", context)

    # --- Preview as user ---------------------------------------------------------------------

    def preview_view(self, request, object_id):
        target = self.get_object(request, unquote(object_id))
        if target is None:
            raise Http404
        if not preview.may_preview(request.user) or not preview.previewable(target):
            raise PermissionDenied
        if request.method == "POST":
            preview.start_preview(request, target)
            return HttpResponseRedirect(reverse("portal:dashboard"))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": target,
            "title": gettext("Preview the portal as %(user)s") % {"user": target},
        }
        return TemplateResponse(request, "admin/accounts/user/preview_confirm.html", context)

    def end_preview_view(self, request):
        target_id = preview.end_preview(request)
        if target_id is not None and self.has_view_permission(request):
            return HttpResponseRedirect(reverse(self._url_name("change"), args=[target_id]))
        return HttpResponseRedirect(reverse("admin:index"))

    # --- The access report -------------------------------------------------------------------

    def access_report_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        return access_report_response(User.objects.all())

    @admin.action(description=_("Export the access report (CSV)"), permissions=("view",))
    def export_access_report(self, request, queryset):
        return access_report_response(queryset)
