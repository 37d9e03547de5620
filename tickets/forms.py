"""Portal forms for tickets. Every form takes `user` and offers only what the policy allows.

Choice fields are built from the policy's querysets, so a value outside the user's scope fails
ordinary form validation ("Select a valid choice") and nothing reaches a service. The filing
form checks an external user's submitted choices against the same scope as id sets
(`policy.fileable_ids`, no query) and reads only the chosen rows. The services ask the policy
once more before they write.
"""

from django import forms
from django.conf import settings
from django.core.exceptions import EmptyResultSet, ValidationError
from django.core.paginator import Paginator
from django.db import connections
from django.db.models import Exists, OuterRef
from django.template.defaultfilters import filesizeformat
from django.urls import reverse_lazy
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from access import policy
from accounts.models import Team, User
from addresses.models import Address, Machine
from portal.db import Precompiled, prepared, row_by_pk

from .models import Priority, Ticket, TicketStatus, TicketType

# ---------------------------------------------------------------------------------------------
# Several files in one field (Django docs, "Uploading multiple files").


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """A list of uploaded files (possibly empty). Count and size limits are the service's."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single_file_clean = super().clean
        if isinstance(data, list | tuple):
            return [single_file_clean(item, initial) for item in data if item]
        return [single_file_clean(data, initial)] if data else []


def files_help_text():
    return _("Up to %(count)d files, at most %(size)s each.") % {
        "count": settings.ATTACHMENT_MAX_COUNT,
        "size": filesizeformat(settings.ATTACHMENT_MAX_SIZE),
    }


def offer_choices(field, objects):
    """Let a ModelChoiceField show `objects` (its queryset, already read) without reading
    them again at every rendering; its queryset still validates a submitted value. Returns
    the objects as a list."""
    objects = list(objects)
    empty = [("", field.empty_label)] if field.empty_label is not None else []
    field.choices = [*empty, *((obj.pk, field.label_from_instance(obj)) for obj in objects)]
    return objects


def add_service_errors(form, error):
    """Put a service's ValidationError on the form: keys that name a field go to that field,
    the rest to the form as a whole."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


# ---------------------------------------------------------------------------------------------
# The ticket list's filters (GET).

OPEN, CLOSED, ALL = "open", "closed", "all"

# ?sort= value -> ORDER BY. Anything else falls back to DEFAULT_SORT.
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
}
DEFAULT_SORT = "-updated_at"


# ---------------------------------------------------------------------------------------------
# Counting long lists without scanning them (issue 5). A list needs exact numbers only while
# they are small; past `list_count_cap()` rows it says "more than …" instead of counting every
# row (a customer with years of history, the desk's "All tickets"). Settings: LIST_COUNT_CAP.

DEFAULT_LIST_COUNT_CAP = 1000


def list_count_cap():
    return getattr(settings, "LIST_COUNT_CAP", DEFAULT_LIST_COUNT_CAP)


class CappedCount(int):
    """A count of at most `limit` + 1 rows; `capped` when there are more than `limit`."""

    def __new__(cls, value, limit):
        count = super().__new__(cls, value)
        count.limit = limit
        return count

    @property
    def capped(self):
        return self > self.limit


def capped_count_columns(querysets, using, limit, start=0):
    """(columns, params) for the select list of one statement: for each of `querysets`,
    `(SELECT COUNT(*) FROM (<its first limit + 1 ids>))`, or `0` for a queryset that cannot
    match anything (e.g. `qs.none()`, or a filter on an empty set of ids). `start` numbers the
    subqueries' aliases after those of columns already in the statement."""
    columns, params = [], []
    for index, queryset in enumerate(querysets, start):
        query = queryset.order_by().values("pk")[: limit + 1].query
        try:
            sql, part_params = query.get_compiler(using=using).as_sql()
        except EmptyResultSet:
            columns.append("0")
            continue
        # SQL compiled by Django from the querysets; every value is a parameter.
        columns.append(f"(SELECT COUNT(*) FROM ({sql}) AS capped_{index})")  # noqa: S608
        params.extend(part_params)
    return columns, params


def capped_counts_statement(querysets, using, limit):
    """(sql, params) of `capped_counts`' one statement: a column per queryset."""
    columns, params = capped_count_columns(querysets, using, limit)
    return f"SELECT {', '.join(columns)}", params  # noqa: S608 - compiled by Django


def capped_counts(querysets, limit=None):
    """{name: CappedCount} for {name: queryset}, in ONE statement whatever their number: each
    count reads at most `limit` + 1 rows (`SELECT COUNT(*) FROM (… LIMIT limit+1)`)."""
    limit = list_count_cap() if limit is None else limit
    names = list(querysets)
    if not names:
        return {}
    using = querysets[names[0]].db
    with connections[using].cursor() as cursor:
        cursor.execute(*capped_counts_statement(querysets.values(), using, limit))
        row = cursor.fetchone()
    return {name: CappedCount(value, limit) for name, value in zip(names, row, strict=True)}


def page_slice(page, page_size):
    """The rows of the page number asked for (`?page=`, as given): the first page unless it is a
    positive number, at most 10**6; for reading a page's ids before the paginator asks."""
    number = min(max(int(page), 1), 10**6) if str(page or "").isdecimal() else 1
    return slice((number - 1) * page_size, number * page_size)


class CappedPaginator(Paginator):
    """A paginator that counts only as far as it needs to: up to `list_count_cap()` rows, or
    up to the page asked for and one row beyond, whichever is more. Past that, `count` is the
    number of rows it read and `capped` is true: the page says "more than …", every page
    number shown exists and "next" works, deeper pages count further when asked for.

    `count` may be handed in (a `CappedCount` the view already has) to save the query; it is
    used when it reaches far enough for the page asked for."""

    def __init__(self, object_list, per_page, *, page=None, count=None, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        wanted = int(page) if str(page or "").isdecimal() else 1
        self.limit = max(list_count_cap(), min(wanted, 10**6) * per_page)
        if count is not None and (not count.capped or count.limit >= self.limit):
            self.limit = count.limit if count.capped else self.limit
            self.__dict__["count"] = CappedCount(count, self.limit)

    @property
    def count(self):
        if "count" not in self.__dict__:
            # A stand-in list (tickets.paging) counts through the queryset it stands for.
            rows = getattr(self.object_list, "queryset", self.object_list)
            self.__dict__["count"] = capped_counts({"rows": rows}, self.limit)["rows"]
        return self.__dict__["count"]

    @property
    def capped(self):
        return self.count.capped


def filter_addresses(scope):
    """The addresses the list's filter offers: those of tickets in `scope` (a
    `policy.ticket_address_scope` value; a user may see tickets without the Addresses right, so
    this is not Address.objects.visible_to(user)). For a scope of addresses, only those can
    hold them: naming them lets the database probe a few addresses instead of joining every
    address with all of the user's tickets."""
    tickets = policy.tickets_in_scope(Ticket.objects.all(), scope)
    addresses = Address.objects.filter(Exists(tickets.filter(address=OuterRef("pk"))))
    if scope is not None:
        addresses = addresses.filter(pk__in=scope)
    return addresses


# Compiled once per process and shape (portal.db.Precompiled).
_FILTER_ADDRESSES = Precompiled(filter_addresses)
EVERY_STATUS = Precompiled(lambda: TicketStatus.objects.all())
EVERY_TYPE = Precompiled(lambda: TicketType.objects.all())


class TicketFilterForm(forms.Form):
    """The ticket list's filters. Each field is optional; an invalid value is reported on its
    field and ignored (the list is then filtered by the valid fields only)."""

    q = forms.CharField(label=_("Search"), required=False, max_length=200, widget=forms.SearchInput)
    state = forms.ChoiceField(
        label=_("Open / closed"),
        required=False,
        choices=[(OPEN, _("Open")), (CLOSED, _("Closed")), (ALL, _("All"))],
    )
    status = forms.ModelChoiceField(
        label=_("Status"), queryset=TicketStatus.objects.none(), required=False
    )
    type = forms.ModelChoiceField(
        label=_("Type"), queryset=TicketType.objects.none(), required=False
    )
    address = forms.ModelChoiceField(
        label=_("Address"), queryset=Address.objects.none(), required=False
    )
    # Not offered as a list (it can be long); set by links from a machine's page.
    machine = forms.ModelChoiceField(
        queryset=Machine.objects.none(), required=False, widget=forms.HiddenInput
    )
    mine = forms.BooleanField(label=_("Filed by me"), required=False)
    sort = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["status"].queryset = TicketStatus.objects.active()
        self.fields["type"].queryset = TicketType.objects.active()
        scope = policy.ticket_address_scope(user)
        self.fields["address"].queryset = filter_addresses(scope)
        self.fields["status"].empty_label = _("All statuses")
        self.fields["type"].empty_label = _("All types")
        self.fields["address"].empty_label = _("All addresses")
        # The lists are read here, once: every status and type (the list's rows take theirs
        # from these instead of joining them), the active ones offered. Statuses and types are
        # prepared statements (portal.db). The addresses are not: with a generic plan
        # PostgreSQL merged the customer's addresses with all of its tickets (12,279 index
        # entries, 1-2 ms at 1,000,000 tickets) instead of probing each address (0.14 ms).
        with prepared():
            self.statuses = EVERY_STATUS.rows()
            self.types = EVERY_TYPE.rows()
        offer_choices(self.fields["address"], _FILTER_ADDRESSES.rows(scope))
        offer_choices(self.fields["status"], [s for s in self.statuses if s.is_active])
        offer_choices(self.fields["type"], [t for t in self.types if t.is_active])
        self.fields["machine"].queryset = Machine.objects.visible_to(user)
        for name in ("state", "status", "type", "address"):
            self.fields[name].widget.attrs["class"] = "js-autosubmit"
        self.fields["q"].widget.attrs["placeholder"] = _("Number, subject or text")

    def value(self, name, default=None):
        """The cleaned value of a field that validated, else `default` (invalid = ignored)."""
        if not hasattr(self, "cleaned_data"):
            self.is_valid()
        value = self.cleaned_data.get(name)
        return default if value in (None, "") else value

    def clean_state(self):
        return self.cleaned_data["state"] or OPEN

    def clean_sort(self):
        sort = self.cleaned_data["sort"]
        return sort if sort in SORTS else DEFAULT_SORT


# ---------------------------------------------------------------------------------------------
# Filing a ticket.


def chosen_row(model, ids, key):
    """The `model` row whose primary key the text `key` names, read by primary key, when that
    key is one of `ids` (a policy id set); else None, without a query."""
    if str(key).isdecimal() and int(key) in ids:
        return row_by_pk(model, int(key))
    return None


class ChosenByIdField(forms.ModelChoiceField):
    """A ModelChoiceField whose submitted value, when `ids` is set (the policy's id set of the
    choices, `policy.fileable_ids`), is checked against `ids` and read alone by primary key
    (`portal.db.row_by_pk`) instead of through its queryset: the same row, without building
    the queryset's statement again. With `ids` None the queryset decides, as usual."""

    ids = None

    def to_python(self, value):
        if self.ids is None or value in self.empty_values:
            return super().to_python(value)
        chosen = chosen_row(self.queryset.model, self.ids, value)
        if chosen is None:
            raise ValidationError(
                self.error_messages["invalid_choice"],
                code="invalid_choice",
                params={"value": value},
            )
        return chosen


class FileableMachineField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.number} {obj.name} · {obj.address.number} {obj.address.name}"


def by_recipient_key(recipients):
    """{key: recipient} for teams and people, by the keys a "Send to" or "Forward to" choice
    offers them by: "team:<id>", "user:<id>" (the portal's filing form, the desk's forward
    forms)."""
    return {
        f"{'team' if isinstance(recipient, Team) else 'user'}:{recipient.pk}": recipient
        for recipient in recipients
    }


def grouped_recipients(teams, people):
    """The choices for `by_recipient_key`'s teams and people: a "Teams" and a "People" group,
    each only when it has someone."""
    grouped = []
    if teams:
        grouped.append((_("Teams"), [(key, str(team)) for key, team in teams.items()]))
    if people:
        grouped.append((_("People"), [(key, str(person)) for key, person in people.items()]))
    return grouped


class SendToField(forms.ChoiceField):
    """ "Send to": keys "team:<id>" and "user:<id>" (`by_recipient_key`). Its choices are read
    when the field is shown; a submitted key is checked by `lookup(key)` (the form's: the one
    team or person, through the same policy querysets) instead of reading both lists."""

    lookup = None

    def valid_value(self, value):
        return self.lookup(value) is not None


class TicketCreateForm(forms.Form):
    """File a ticket. Every choice comes from the policy's queryset for `user`; `clean` checks
    the machine against the chosen address (`policy.machines_fileable`)."""

    address = ChosenByIdField(label=_("Address"), queryset=Address.objects.none())
    type = ChosenByIdField(label=_("Type of ticket"), queryset=TicketType.objects.none())
    recipient = SendToField(
        label=_("Send to"), help_text=_("The team or person who should answer.")
    )
    machine = FileableMachineField(
        label=_("Machine"),
        queryset=Machine.objects.none(),
        required=False,
        empty_label=_("(no particular machine)"),
        help_text=_("Optional: the machine at this address the ticket is about."),
    )
    priority = forms.ChoiceField(label=_("Priority"), choices=Priority.choices)
    subject = forms.CharField(
        label=_("Subject"), max_length=Ticket._meta.get_field("subject").max_length
    )
    description = forms.CharField(
        label=_("Description"),
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("What happened, what you expected, and what you already tried."),
    )
    files = MultipleFileField(label=_("Attachments"))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        fields = self.fields

        # An external user's choices are id sets of its grants: a submitted choice is checked
        # against them and its row read by primary key (None: the querysets decide).
        self.ids = ids = policy.fileable_ids(user)
        addresses = Address.objects.fileable_by(user)
        fields["address"].queryset = addresses
        fields["address"].ids = None if ids is None else ids.addresses
        fields["address"].widget.attrs.update(
            {
                "data-autocomplete-url": reverse_lazy("portal:autocomplete-addresses"),
                "data-placeholder": _("Choose an address"),
            }
        )

        fields["type"].queryset = TicketType.objects.creatable_by(user)
        fields["type"].ids = None if ids is None else ids.types

        self._recipients = {}  # key -> the team or person looked up alone (or None)
        fields["recipient"].choices = self.recipient_choices  # a callable: read when shown
        fields["recipient"].lookup = self.recipient_for_key
        fields["recipient"].widget.attrs.update(
            {
                "data-autocomplete-url": reverse_lazy("portal:autocomplete-recipients"),
                "data-placeholder": _("Choose a team or person"),
            }
        )

        if policy.grants_for(user).has(policy.MACHINES_READ):
            # Without JavaScript the list holds the machines of every address the user may
            # file at (each labelled with its address); `clean` checks the pair. With
            # JavaScript, ticket-form.js narrows it to the chosen address.
            fields["machine"].queryset = policy.machines_visible(
                Machine.objects.filter(address__in=addresses, is_active=True), user
            ).select_related("address")
            fields["machine"].widget.attrs.update(
                {
                    "data-autocomplete-url": reverse_lazy("portal:autocomplete-machines"),
                    "data-depends-on": "address",
                    "data-placeholder": _("(no particular machine)"),
                    "data-allow-clear": "true",
                }
            )
        else:
            del fields["machine"]

        fields["priority"].initial = Priority.NORMAL
        fields["files"].help_text = files_help_text()

        if not self.is_bound:
            # The empty form reads each list once and offers it as read; a submitted form
            # validates each value with its queryset instead (one row each, not the lists).
            offered = {
                name: offer_choices(fields[name], fields[name].queryset)
                for name in ("address", "type", "machine")
                if name in fields
            }
            # A single allowed choice is preselected.
            for name in ("address", "type"):
                if len(offered[name]) == 1:
                    self.initial.setdefault(name, offered[name][0].pk)
            recipients = [*self.teams, *self.people]
            if len(recipients) == 1:
                self.initial.setdefault("recipient", recipients[0])

    @cached_property
    def teams(self):
        """{"team:<id>": team} the user may send tickets to."""
        return by_recipient_key(Team.objects.recipients_for(self.user))

    @cached_property
    def people(self):
        """{"user:<id>": person} the user may send tickets to, by name."""
        people = User.objects.recipients_for(self.user).order_by("last_name", "first_name")
        return by_recipient_key(people)

    def recipient_choices(self):
        return [("", "---------"), *grouped_recipients(self.teams, self.people)]

    def recipient_for_key(self, key):
        """The team or person of the recipient `key` when the user may send to it, else None:
        from the lists when they were read, else looked up alone: checked against the
        policy's id sets and read by primary key, or (an internal user) one row through
        `recipients_for`, the lists' own querysets."""
        if "teams" in self.__dict__ or "people" in self.__dict__:
            return self.teams.get(key) or self.people.get(key)
        if key not in self._recipients:
            kind, _colon, pk = str(key).partition(":")
            model = {"team": Team, "user": User}.get(kind)
            found = None
            if model is not None and pk.isdecimal() and key == f"{kind}:{int(pk)}":
                if self.ids is None:
                    found = model.objects.recipients_for(self.user).filter(pk=int(pk)).first()
                else:
                    found = chosen_row(
                        model, self.ids.teams if model is Team else self.ids.people, pk
                    )
            self._recipients[key] = found
        return self._recipients[key]

    def clean_recipient(self):
        # RecipientField already refused a key the user may not send to.
        found = self.recipient_for_key(self.cleaned_data["recipient"])
        if isinstance(found, Team):
            return {"team": found, "recipient": None}
        return {"team": None, "recipient": found}

    def clean(self):
        cleaned = super().clean()
        address = cleaned.get("address")
        machine = cleaned.get("machine")
        if machine is not None and address is not None:
            fileable = policy.machines_fileable(
                Machine.objects.filter(pk=machine.pk), self.user, address
            )
            if not fileable.exists():
                self.add_error("machine", _("Choose a machine at the selected address."))
        return cleaned

    def service_kwargs(self):
        """The keyword arguments of `services.ticket_create` (without `actor`)."""
        data = self.cleaned_data
        return {
            "address": data["address"],
            "ticket_type": data["type"],
            "subject": data["subject"],
            "description": data["description"],
            "machine": data.get("machine"),
            "priority": data["priority"],
            "files": data.get("files") or [],
            **data["recipient"],
        }


# ---------------------------------------------------------------------------------------------
# Replying and setting the status on the ticket page.


class TicketReplyForm(forms.Form):
    body = forms.CharField(
        label=_("Your reply"),
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    files = MultipleFileField(label=_("Attachments"))

    def __init__(self, *args, user, ticket, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.ticket = ticket
        self.fields["files"].help_text = files_help_text()
        if ticket.is_closed:
            self.fields["body"].help_text = _("This ticket is closed; your reply reopens it.")


class TicketStatusForm(forms.Form):
    status = forms.ModelChoiceField(
        label=_("Status"), queryset=TicketStatus.objects.none(), empty_label=None
    )

    def __init__(self, *args, user, ticket, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.ticket = ticket
        field = self.fields["status"]
        field.queryset = TicketStatus.objects.settable_by(user)  # validates a POST
        # Read once: the page lists them and the select offers them (no query per rendering).
        self.statuses = offer_choices(field, field.queryset)
        self.initial.setdefault("status", ticket.status_id)
