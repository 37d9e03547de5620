"""Desk forms. Every form takes `user` (and the ticket where there is one) and offers only the
choices the policy allows; the services ask the policy again before they write."""

import datetime

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Case, IntegerField, Value, When
from django.http import QueryDict
from django.urls import reverse_lazy
from django.utils import timezone
from django.utils.choices import BaseChoiceIterator
from django.utils.translation import gettext_lazy as _

from access import policy
from accounts.models import Team
from addresses.models import Address
from tickets.forms import (
    MultipleFileField,
    by_recipient_key,
    files_help_text,
    grouped_recipients,
    offer_choices,
)
from tickets.models import Message, Priority, Ticket, TicketStatus, TicketType

from . import queues
from .choices import desk_choices
from .search import MAX_LENGTH as SEARCH_MAX_LENGTH

# ---------------------------------------------------------------------------------------------
# Fields, widgets and helpers.

BIGINT_MAX = 2**63 - 1


def _is_bigint(value):
    """Whether `value` is an integer a database key can hold. SQLite raises OverflowError (not
    a ValueError) for larger ones, which Django's choice fields do not catch."""
    text = str(value).strip()
    return text.lstrip("-").isdecimal() and abs(int(text)) <= BIGINT_MAX


class ModelChoiceField(forms.ModelChoiceField):
    """Refuses a value that is not an integer key as an invalid choice, before any query."""

    def to_python(self, value):
        if value not in self.empty_values and not _is_bigint(value):
            raise ValidationError(
                self.error_messages["invalid_choice"],
                code="invalid_choice",
                params={"value": value},
            )
        return super().to_python(value)


class ModelMultipleChoiceField(forms.ModelMultipleChoiceField):
    """Like `ModelChoiceField`, for each of several values."""

    def _check_values(self, value):
        for item in value if isinstance(value, list | tuple) else [value]:
            if not _is_bigint(item):
                raise ValidationError(
                    self.error_messages["invalid_pk_value"],
                    code="invalid_pk_value",
                    params={"pk": item},
                )
        return super()._check_values(value)


class AutocompleteSelect(forms.Select):
    """A <select> that renders only the chosen option; desk.js turns it into a Select2 that
    loads the rest from `data-autocomplete-url`. Without JavaScript the chosen value is kept
    and can be cleared with the empty option. The field still validates against its whole
    queryset, so a value outside it is refused."""

    def optgroups(self, name, value, attrs=None):
        chosen = [str(v) for v in value if v not in (None, "") and _is_bigint(v)]
        choices = self.choices  # a ModelChoiceIterator: its field and queryset
        field = choices.field
        options = [("", field.empty_label or "")]
        if chosen:
            try:
                objects = list(choices.queryset.filter(pk__in=chosen))
            except (ValueError, TypeError, OverflowError, ValidationError):
                objects = []
            options += [(obj.pk, field.label_from_instance(obj)) for obj in objects]
        groups = []
        for index, (option_value, label) in enumerate(options):
            selected = str(option_value) in chosen
            groups.append(
                (
                    None,
                    [self.create_option(name, option_value, label, selected, index, attrs=attrs)],
                    index,
                )
            )
        return groups


class NormalChoices(BaseChoiceIterator):
    """Choices built here as Django keeps them: (value, label) pairs and (group, pairs). Set on
    a field, they are kept as they are; a list would be normalised again, pair by pair, by the
    field and by its widget (`normalize_choices`): about 1 ms of a queue page for its lists of
    people, teams and statuses."""

    def __init__(self, choices):
        self.choices = list(choices)

    def __iter__(self):
        return iter(self.choices)

    def __len__(self):
        return len(self.choices)


def recipient_choices(user):
    """("team:<pk>" | "user:<pk>") -> Team | User for the forward forms, and the grouped
    choices to show."""
    lists = desk_choices(user)
    teams = by_recipient_key(lists.forward_teams)
    people = by_recipient_key(lists.forward_people)
    return {**teams, **people}, grouped_recipients(teams, people)


def recipient_kwargs(recipient):
    """{"team": …} or {"recipient": …} for `services.ticket_forward`."""
    if isinstance(recipient, Team):
        return {"team": recipient}
    return {"recipient": recipient}


class ObjectChoiceField(forms.ChoiceField):
    """A choice among objects loaded beforehand (`objects`: choice value -> object); cleans to
    the object without a query. A value that is not offered is an invalid choice."""

    def __init__(self, *args, objects=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.objects = objects or {}

    def offer(self, objects, empty_label):
        """Offer `objects` (model instances) by primary key, after an empty choice."""
        self.objects = {str(obj.pk): obj for obj in objects}
        self.choices = NormalChoices(
            [("", empty_label), *((key, str(obj)) for key, obj in self.objects.items())]
        )

    def clean(self, value):
        key = super().clean(value)
        if not key:
            return None
        return self.objects[key]


class RecipientField(ObjectChoiceField):
    """A team or a person, offered as "team:<pk>" / "user:<pk>"; cleans to the object."""


# ---------------------------------------------------------------------------------------------
# The queue's filters (GET). Every field is optional; an invalid value is reported on its
# field and ignored, so a hand-edited URL never fails the page.

# ?sort= value -> ORDER BY. Anything else falls back to DEFAULT_SORT.
PRIORITY_RANK = Case(
    When(priority=Priority.URGENT, then=Value(4)),
    When(priority=Priority.HIGH, then=Value(3)),
    When(priority=Priority.NORMAL, then=Value(2)),
    default=Value(1),
    output_field=IntegerField(),
)
SORTS = {
    "-updated_at": ("-updated_at", "-pk"),
    "updated_at": ("updated_at", "pk"),
    "-created_at": ("-created_at", "-pk"),
    "created_at": ("created_at", "pk"),
    "-number": ("-number",),
    "number": ("number",),
    "subject": ("subject", "-pk"),
    "-subject": ("-subject", "-pk"),
    "status": ("status__order", "status__name", "-updated_at", "-pk"),
    "-status": ("-status__order", "-status__name", "-updated_at", "-pk"),
    "-priority": (PRIORITY_RANK.desc(), "-updated_at", "-pk"),
    "priority": (PRIORITY_RANK.asc(), "-updated_at", "-pk"),
    "address": ("address__number", "-updated_at", "-pk"),
    "-address": ("-address__number", "-updated_at", "-pk"),
}
SORT_LABELS = [
    ("-updated_at", _("Recently updated")),
    ("updated_at", _("Least recently updated")),
    ("-created_at", _("Newest")),
    ("created_at", _("Oldest")),
    ("-priority", _("Priority, most urgent first")),
    ("-number", _("Number, descending")),
    ("number", _("Number, ascending")),
    ("status", _("Status")),
    ("address", _("Address")),
    ("subject", _("Subject")),
]
DEFAULT_SORT = "-updated_at"
UNASSIGNED = "none"
# Filter field -> Ticket lookup.
FIELD_LOOKUPS = {
    "status": "status",
    "type": "type",
    "priority": "priority",
    "address": "address",
    "team": "responsible_team",
}

# The keys a saved filter keeps, in this order.
FILTER_KEYS = (
    "queue",
    "q",
    "status",
    "type",
    "priority",
    "address",
    "team",
    "responsible",
    "created_from",
    "created_to",
    "sort",
)


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


class QueueFilterForm(forms.Form):
    queue = forms.ChoiceField(label=_("Queue"), choices=queues.CHOICES, required=False)
    q = forms.CharField(
        label=_("Search"), required=False, max_length=SEARCH_MAX_LENGTH, widget=forms.SearchInput
    )
    # Status, type, team and responsible choose among lists read once per request
    # (desk.choices), so a filtered queue costs no query per filter.
    status = ObjectChoiceField(label=_("Status"), required=False)
    type = ObjectChoiceField(label=_("Type"), required=False)
    priority = forms.ChoiceField(
        label=_("Priority"), choices=[("", _("Any priority")), *Priority.choices], required=False
    )
    address = ModelChoiceField(
        label=_("Address"),
        queryset=Address.objects.none(),
        required=False,
        empty_label=_("Any address"),
        widget=AutocompleteSelect,
    )
    team = ObjectChoiceField(label=_("Team"), required=False)
    responsible = forms.ChoiceField(label=_("Responsible"), required=False)
    created_from = forms.DateField(label=_("Created from"), required=False, widget=DateInput)
    created_to = forms.DateField(label=_("Created until"), required=False, widget=DateInput)
    sort = forms.ChoiceField(label=_("Sort by"), choices=SORT_LABELS, required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        fields = self.fields
        fields["address"].queryset = Address.objects.visible_to(user)
        fields["address"].widget.attrs.update(
            {
                "data-autocomplete-url": reverse_lazy("desk:autocomplete-addresses"),
                "data-placeholder": _("Any address"),
                "data-allow-clear": "true",
            }
        )
        lists = desk_choices(user)
        fields["status"].offer(lists.statuses, _("Any status"))
        fields["type"].offer(lists.types, _("Any type"))
        fields["team"].offer(lists.teams.values(), _("Any team"))
        # Responsible users: whoever may work in the desk, and whoever already holds a ticket.
        self.people = {str(person.pk): person for person in lists.people}
        fields["responsible"].choices = NormalChoices(
            [
                ("", _("Anybody")),
                (UNASSIGNED, _("Nobody (not taken)")),
                *(
                    (key, person.get_full_name() or person.email)
                    for key, person in self.people.items()
                ),
            ]
        )
        fields["q"].widget.attrs["placeholder"] = _("Number, subject, text, customer, machine")
        for name in ("status", "type", "priority", "address", "team", "responsible", "sort"):
            fields[name].widget.attrs["class"] = "form-select form-select-sm"

    def select_fields(self):
        """The short drop-down filters, laid out alike."""
        return [self[name] for name in ("status", "type", "priority", "team", "responsible")]

    def value(self, name, default=None):
        """The cleaned value of a field that validated, else `default` (invalid = ignored)."""
        if not hasattr(self, "cleaned_data"):
            self.is_valid()
        value = self.cleaned_data.get(name)
        return default if value in (None, "") else value

    def clean_queue(self):
        return self.cleaned_data["queue"] or queues.DEFAULT_QUEUE

    def clean_sort(self):
        return self.cleaned_data["sort"] or DEFAULT_SORT

    def clean_responsible(self):
        key = self.cleaned_data["responsible"]
        if key in ("", UNASSIGNED):
            return key
        return self.people[key]

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("created_from"), cleaned.get("created_to")
        if start and end and end < start:
            self.add_error("created_to", _("The end of the range is before its start."))
        return cleaned

    def filter(self, queryset):
        """`queryset` narrowed by every valid filter except the queue and the search."""
        for name, lookup in FIELD_LOOKUPS.items():
            value = self.value(name)
            if value is not None:
                queryset = queryset.filter(**{lookup: value})
        responsible = self.value("responsible")
        if responsible == UNASSIGNED:
            queryset = queryset.filter(responsible_user__isnull=True)
        elif responsible is not None:
            queryset = queryset.filter(responsible_user=responsible)
        # Whole days in the site's time zone; bounds on the column itself keep the index usable.
        start, end = self.value("created_from"), self.value("created_to")
        if start:
            queryset = queryset.filter(created_at__gte=_day_start(start))
        if end:
            queryset = queryset.filter(created_at__lt=_day_start(end + datetime.timedelta(days=1)))
        return queryset

    def is_filtered(self):
        """Whether anything but the queue and the sort narrows the list."""
        return any(self.value(name) for name in FILTER_KEYS if name not in ("queue", "sort"))

    def normalized_query(self):
        """The valid, non-empty filters as a query string (for saved filters)."""
        if not hasattr(self, "cleaned_data"):
            self.is_valid()
        query = QueryDict(mutable=True)
        for name in FILTER_KEYS:
            if name in self.errors:
                continue
            raw = (self.data.get(name) or "").strip()
            if raw:
                query[name] = raw
        return query.urlencode()


def _day_start(day):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


# ---------------------------------------------------------------------------------------------
# Bulk actions on tickets selected in the queue (POST).

TAKE, FORWARD, SET_STATUS, SET_PRIORITY = "take", "forward", "status", "priority"
MAX_BULK = 200


class BulkActionForm(forms.Form):
    action = forms.ChoiceField(
        label=_("Action"),
        choices=[
            ("", _("Choose an action …")),
            (TAKE, _("Take")),
            (FORWARD, _("Forward to …")),
            (SET_STATUS, _("Set status …")),
            (SET_PRIORITY, _("Set priority …")),
        ],
    )
    # Ticket numbers; each is re-fetched through the user's scope (outside it: invalid).
    tickets = ModelMultipleChoiceField(
        queryset=Ticket.objects.none(),
        to_field_name="number",
        widget=forms.MultipleHiddenInput,
        error_messages={"required": _("Select at least one ticket.")},
    )
    recipient = RecipientField(label=_("Forward to"), required=False)
    status = ModelChoiceField(
        label=_("Status"), queryset=TicketStatus.objects.none(), required=False
    )
    priority = forms.ChoiceField(
        label=_("Priority"), choices=[("", "---------"), *Priority.choices], required=False
    )
    next = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        fields = self.fields
        fields["tickets"].queryset = Ticket.objects.visible_to(user)
        objects, grouped = recipient_choices(user)
        fields["recipient"].objects = objects
        fields["recipient"].choices = NormalChoices([("", "---------"), *grouped])
        fields["status"].queryset = TicketStatus.objects.settable_by(user)  # validates a POST
        offer_choices(fields["status"], desk_choices(user).settable_statuses)
        for name in ("action", "recipient", "status", "priority"):
            fields[name].widget.attrs["class"] = "form-select form-select-sm"

    def clean_tickets(self):
        tickets = self.cleaned_data["tickets"]
        if len(tickets) > MAX_BULK:
            raise ValidationError(
                _("Select at most %(limit)d tickets at once."), params={"limit": MAX_BULK}
            )
        return tickets

    def clean(self):
        cleaned = super().clean()
        action = cleaned.get("action")
        needed = {FORWARD: "recipient", SET_STATUS: "status", SET_PRIORITY: "priority"}.get(action)
        if needed and not cleaned.get(needed) and needed not in self.errors:
            self.add_error(needed, _("Choose a value for this action."))
        return cleaned


# ---------------------------------------------------------------------------------------------
# The ticket workspace.

REPLY, NOTE = Message.Kind.REPLY, Message.Kind.INTERNAL_NOTE


class TicketMessageForm(forms.Form):
    """Reply to the customer or add an internal note: one form, and the choice between the two
    is explicit and required (no default), so a note never reaches a customer by mistake."""

    kind = forms.ChoiceField(
        label=_("This message is"),
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choose whether this is a reply to the customer or an internal note.")
        },
    )
    body = forms.CharField(label=_("Message"), widget=forms.Textarea(attrs={"rows": 6}))
    files = MultipleFileField(label=_("Attachments"))

    def __init__(self, *args, user, ticket, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.ticket = ticket
        choices = []
        if policy.can_reply(user, ticket):
            choices.append((REPLY, _("Reply to customer")))
        if policy.can_add_internal_note(user, ticket):
            choices.append((NOTE, _("Internal note")))
        self.fields["kind"].choices = choices
        self.fields["kind"].widget.attrs["class"] = "form-check-input js-compose-kind"
        self.fields["body"].widget.attrs["class"] = "form-control"
        self.fields["files"].widget.attrs["class"] = "form-control"
        self.fields["files"].help_text = files_help_text()
        if ticket.is_closed:
            self.fields["body"].help_text = _(
                "This ticket is closed: a reply to the customer reopens it, a note does not."
            )


class TicketForwardForm(forms.Form):
    recipient = RecipientField(label=_("Forward to"))

    def __init__(self, *args, user, ticket, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.ticket = ticket
        objects, grouped = recipient_choices(user)
        self.fields["recipient"].objects = objects
        self.fields["recipient"].choices = NormalChoices(
            [("", _("Choose a team or person")), *grouped]
        )
        self.fields["recipient"].widget.attrs["class"] = "form-select"


class TicketTypeForm(forms.Form):
    type = ModelChoiceField(label=_("Type"), queryset=TicketType.objects.none(), empty_label=None)

    def __init__(self, *args, user, ticket, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.ticket = ticket
        self.fields["type"].queryset = policy.ticket_types_assignable(
            TicketType.objects.all(), user
        )
        self.types = offer_choices(self.fields["type"], self.fields["type"].queryset)
        self.fields["type"].widget.attrs["class"] = "form-select"
        self.initial.setdefault("type", ticket.type_id)


class TicketPriorityForm(forms.Form):
    priority = forms.ChoiceField(label=_("Priority"), choices=Priority.choices)

    def __init__(self, *args, user, ticket, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.ticket = ticket
        self.fields["priority"].widget.attrs["class"] = "form-select"
        self.initial.setdefault("priority", ticket.priority)


class TicketStatusForm(forms.Form):
    status = ModelChoiceField(
        label=_("Status"), queryset=TicketStatus.objects.none(), empty_label=None
    )

    def __init__(self, *args, user, ticket, statuses=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.ticket = ticket
        field = self.fields["status"]
        field.queryset = TicketStatus.objects.settable_by(user)  # validates a POST
        offer_choices(field, statuses if statuses is not None else field.queryset)
        field.widget.attrs["class"] = "form-select"
        self.initial.setdefault("status", ticket.status_id)


class TicketCloseForm(forms.Form):
    """Close with one of the closing statuses the user may set."""

    status = ModelChoiceField(
        label=_("Close as"), queryset=TicketStatus.objects.none(), empty_label=None
    )

    def __init__(self, *args, user, ticket, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.ticket = ticket
        self.fields["status"].queryset = TicketStatus.objects.settable_by(user).filter(
            is_closed=True
        )


class EmptyForm(forms.Form):
    """Take and reopen: a button, nothing to fill in."""

    def __init__(self, *args, user, ticket, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.ticket = ticket


# ---------------------------------------------------------------------------------------------
# Saved filters.


class SavedFilterForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=80)
    query = forms.CharField(required=False, max_length=2000, widget=forms.HiddenInput)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["name"].widget.attrs.update(
            {"placeholder": _("Name this view"), "class": "form-control form-control-sm"}
        )

    def clean_query(self):
        """Only the queue filter's own keys, and only values that validate for this user."""
        raw = QueryDict(self.cleaned_data["query"] or "")
        return QueueFilterForm(raw, user=self.user).normalized_query()
