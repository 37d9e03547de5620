"""The ticket pages of /portal/ (external users): list, file, conversation, reply, status.

Every ticket is fetched through `Ticket.objects.visible_to(user)` (outside it: 404); a visible
ticket the user may not change answers 403. Writes go through `tickets.services`, which ask the
policy again. Templates only show the flags computed here.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import DetailView, FormView, ListView

from access import policy
from access.mixins import PortalAccessMixin
from portal.db import PreparedStatementsMixin

from . import reading, services
from .action_views import TicketActionMixin
from .forms import (
    CLOSED,
    DEFAULT_SORT,
    OPEN,
    SORTS,
    CappedCount,
    CappedPaginator,
    TicketCreateForm,
    TicketFilterForm,
    TicketReplyForm,
    TicketStatusForm,
    add_service_errors,
    capped_counts,
)
from .models import Ticket
from .paging import (
    AddressMergedList,
    PlainList,
    can_merge,
    in_state,
    plain_state_counts,
    searched_list,
)
from .related import fill, load_people
from .search import search_tickets

# The list's filters beside the search text, open/closed and "created by me".
FILTERS = ("status", "type", "address", "machine")


# Joined to a list's rows; the status and the type come from the filter form's lists.
LIST_ROW_RELATED = ("address",)


class TicketListView(PortalAccessMixin, ListView):
    """Tickets the user may see, filtered, searched, sorted and paginated (25 a page)."""

    template_name = "tickets/ticket_list.html"
    context_object_name = "tickets"
    paginate_by = 25
    extra_context = {"active_nav": "tickets"}

    # (sort key, column label); clicking a sorted column again reverses it.
    columns = [
        ("number", gettext_lazy("No.")),
        ("subject", gettext_lazy("Subject")),
        ("status", gettext_lazy("Status")),
        (None, gettext_lazy("Type")),
        (None, gettext_lazy("Address")),
        ("created_at", gettext_lazy("Created")),
        ("updated_at", gettext_lazy("Updated")),
    ]

    @cached_property
    def filter_form(self):
        form = TicketFilterForm(self.request.GET, user=self.request.user)
        form.is_valid()  # invalid fields are shown and ignored
        return form

    def scoped_queryset(self, queryset=None, *, search=True):
        """Visible tickets narrowed by every filter except open/closed (or `queryset`, when
        given, narrowed the same way); `search=False`: not by the search text."""
        form, user = self.filter_form, self.request.user
        if queryset is None:
            queryset = Ticket.objects.visible_to(user)
        for name in FILTERS:
            value = form.value(name)
            if value is not None:
                queryset = queryset.filter(**{name: value})
        if form.value("mine"):
            queryset = queryset.filter(created_by=user)
        if not search:
            return queryset
        return search_tickets(queryset, user, form.value("q", ""))

    def narrowed(self):
        """Whether a filter other than the search text and open/closed narrows the list."""
        return any(self.filter_form.value(name) for name in (*FILTERS, "mine"))

    def with_state(self, queryset):
        return in_state(queryset, self.filter_form.value("state", OPEN))

    def get_queryset(self):
        return self.listed(self.with_state(self.scoped_queryset()))

    def listed(self, queryset):
        sort = self.filter_form.value("sort", DEFAULT_SORT)
        # The status and the type come from the filter form's lists (`paginate_queryset`):
        # two joins fewer to plan for every page.
        return queryset.select_related(*LIST_ROW_RELATED).order_by(*SORTS[sort])

    @cached_property
    def searched(self):
        """A customer's searched list read with its counts in one statement
        (tickets.paging.SearchedList), when that is how it is read; else None. It gets the
        list without the text search and searches it itself, inside the user's scope."""
        form = self.filter_form
        filtered = self.scoped_queryset(search=False)
        return searched_list(
            self.listed(self.with_state(filtered)),
            counted=filtered,
            user=self.request.user,
            text=form.value("q", ""),
            page=self.request.GET.get(self.page_kwarg),
            page_size=self.paginate_by,
            unfiltered=None if self.narrowed() else form.value("state", OPEN),
        )

    @cached_property
    def state_counts(self):
        """Open and closed tickets, each counted up to the list's cap (one statement): a
        customer's years of closed tickets are "more than 1,000", not a scan of all of them."""
        if self.searched is not None:
            return self.searched.state_counts
        if self.plain:
            return plain_state_counts(policy.ticket_address_scope(self.request.user))
        scoped = self.scoped_queryset()
        return capped_counts({"open": scoped.open(), "closed": scoped.closed()})

    def paginate_queryset(self, queryset, page_size):
        """Like ListView's, but a page number out of range or not a number shows the nearest
        page instead of a 404. The total comes from `state_counts` (no second count) when it
        reaches far enough; past the cap the page says "more than …"."""
        number = self.request.GET.get(self.page_kwarg)
        state, counts = self.filter_form.value("state", OPEN), self.state_counts
        if state in (OPEN, CLOSED):
            known = counts[state]
        elif not (counts[OPEN].capped or counts[CLOSED].capped):
            total = counts[OPEN] + counts[CLOSED]  # both exact
            known = CappedCount(total, max(total, counts[OPEN].limit))
        else:
            known = CappedCount(counts[OPEN].limit + 1, counts[OPEN].limit)
        paginator = CappedPaginator(
            self.merged(queryset) or self.searched or queryset, page_size, page=number, count=known
        )
        page = paginator.get_page(number)
        rows = list(page.object_list)
        fill(rows, "status", {status.pk: status for status in self.filter_form.statuses})
        fill(rows, "type", {ticket_type.pk: ticket_type for ticket_type in self.filter_form.types})
        page.object_list = rows
        return paginator, page, rows, page.has_other_pages()

    def merged(self, queryset):
        """The list as a merge of one index range per address of R(u) (tickets.paging), when
        that is how a page is read cheaply at any depth; else None. The ranges are taken by
        address alone (the planner reads `address_id = a` from its index, not `… IN R(u) AND
        address_id = a`), and the page's rows are then read through `queryset`, the user's
        scope: a row outside it could never be shown."""
        form, grants = self.filter_form, policy.grants_for(self.request.user)
        if not grants.external or form.value("q") or form.value("address"):
            return None
        ordering = SORTS[form.value("sort", DEFAULT_SORT)]
        if not can_merge(queryset, grants.read_ids, ordering):
            return None
        ranges = self.with_state(self.scoped_queryset(Ticket.objects.all()))
        # Prepared when nothing but open/closed narrows (the address is not among the
        # filters here, see above; nor is the search text).
        merged = AddressMergedList(
            queryset, grants.read_ids, ordering, ranges=ranges, prepare=self.plain
        )
        if not self.plain:
            return merged
        return PlainList(
            merged,
            scope=policy.ticket_address_scope(self.request.user),
            address_ids=grants.read_ids,
            ordering=ordering,
            state=self.filter_form.value("state", OPEN),
            related=LIST_ROW_RELATED,
        )

    @cached_property
    def plain(self):
        """Whether the list has no filter but open/closed and no search text: its counts and
        pages are then read by statements compiled once per shape (tickets.paging)."""
        return not self.narrowed() and not self.filter_form.value("q")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form = self.filter_form
        sort = form.value("sort", DEFAULT_SORT)
        context["filter_form"] = form
        context["state_counts"] = self.state_counts
        context["sort_columns"] = [self._column(key, label, sort) for key, label in self.columns]
        context["machine_filter"] = form.value("machine")
        context["filtered"] = any(
            form.value(name) for name in ("q", "status", "type", "address", "machine", "mine")
        )
        context["can_file"] = policy.can_file(self.request.user)
        return context

    def _column(self, key, label, current):
        if key is None:
            return {"label": label}
        ascending = current == key
        descending = current == f"-{key}"
        params = self.request.GET.copy()
        params.pop("page", None)
        params["sort"] = f"-{key}" if ascending else key
        return {
            "label": label,
            "url": f"?{params.urlencode()}",
            "direction": "asc" if ascending else "desc" if descending else None,
        }


class TicketCreateView(PreparedStatementsMixin, PortalAccessMixin, FormView):
    """File a ticket. Without the right to file, the page explains why and shows no form.
    Its statements read the user's own choices by id and write the new rows: prepared."""

    template_name = "tickets/ticket_form.html"
    form_class = TicketCreateForm
    extra_context = {"active_nav": "tickets"}

    @cached_property
    def filing(self):
        return policy.can_file(self.request.user)

    def get(self, request, *args, **kwargs):
        if not self.filing:
            return self.render_to_response(self.get_context_data(form=None))
        return super().get(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        if not self.filing:
            raise PermissionDenied(self.filing.reason)
        return super().post(request, *args, **kwargs)

    def get_initial(self):
        """`?address=` and `?machine=` preselect (links from an address or machine page);
        a value outside the user's choices is simply not offered."""
        initial = super().get_initial()
        for name in ("address", "machine"):
            value = self.request.GET.get(name, "")
            if value.isdecimal():
                initial[name] = int(value)
        return initial

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["filing"] = self.filing
        return context

    def form_valid(self, form):
        try:
            ticket = services.ticket_create(actor=self.request.user, **form.service_kwargs())
        except ValidationError as error:
            add_service_errors(form, error)
            return self.form_invalid(form)
        messages.success(
            self.request,
            _("Ticket %(number)s has been filed. We will answer here.") % {"number": ticket.number},
        )
        return redirect("portal:ticket-detail", number=ticket.number)


# ---------------------------------------------------------------------------------------------
# One ticket: the conversation page and the two actions posted from it.


class TicketPageMixin:
    """The ticket (through the user's scope) and everything its page shows."""

    template_name = "tickets/ticket_detail.html"

    def get_ticket(self):
        if not hasattr(self, "ticket"):
            self.ticket = reading.visible_ticket(
                self.request.user,
                self.kwargs["number"],
                ("status", "type", "address", "machine", "contact_person"),
            )
            if self.ticket is None:
                raise Http404
            load_people([self.ticket])  # not joined: see tickets.related
        return self.ticket

    def get_page_context(self, *, reply_form=None, status_form=None):
        user, ticket = self.request.user, self.get_ticket()
        conversation = reading.conversation(user, ticket)
        history = reading.history(ticket, public=True)
        replying = policy.can_reply(user, ticket)
        status_choices = []
        if replying:
            status_form = status_form or TicketStatusForm(user=user, ticket=ticket)
            status_choices = status_form.statuses
            reply_form = reply_form or TicketReplyForm(user=user, ticket=ticket)
        return {
            "active_nav": "tickets",
            "ticket": ticket,
            "conversation": conversation,
            "history": history,
            "can_reply": bool(replying),
            "reply_refusal": "" if replying else replying.reason,
            "reply_form": reply_form if replying else None,
            "status_choices": status_choices,
            "status_form": status_form if status_choices else None,
            "show_address_link": bool(policy.can_see_address(user, ticket.address)),
            "show_machine": bool(ticket.machine and policy.can_see_machine(user, ticket.machine)),
        }


class TicketDetailView(PreparedStatementsMixin, PortalAccessMixin, TicketPageMixin, DetailView):
    # Its statements look the ticket up by number and its rows by the ticket's id.
    context_object_name = "ticket"

    def get_object(self, queryset=None):
        return self.get_ticket()

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), **self.get_page_context()}


class TicketActionView(PortalAccessMixin, TicketPageMixin, TicketActionMixin, FormView):
    """A form posted from the portal's ticket page (see TicketActionMixin)."""

    detail_url_name = "portal:ticket-detail"


class TicketReplyView(TicketActionView):
    form_class = TicketReplyForm
    form_context_name = "reply_form"

    def check(self, user, ticket):
        return policy.can_reply(user, ticket)

    def perform(self, form):
        reopening = self.ticket.is_closed
        services.ticket_reply(
            actor=self.request.user,
            ticket=self.ticket,
            body=form.cleaned_data["body"],
            files=form.cleaned_data["files"],
        )
        if reopening:
            messages.success(self.request, _("Your reply has been sent and the ticket reopened."))
        else:
            messages.success(self.request, _("Your reply has been sent."))

    def get_success_url(self):
        return super().get_success_url() + "#latest"


class TicketStatusView(TicketActionView):
    """Set the status. The ticket-level part of `policy.can_set_status` is checked first (403);
    a status outside `TicketStatus.objects.settable_by(user)` is a form error; the service then
    asks `policy.can_set_status` for the exact pair."""

    form_class = TicketStatusForm
    form_context_name = "status_form"

    def check(self, user, ticket):
        return policy.can_reply(user, ticket)

    def perform(self, form):
        status = form.cleaned_data["status"]
        if status.pk == self.ticket.status_id:
            messages.info(self.request, _("The ticket already has this status."))
            return
        services.ticket_set_status(actor=self.request.user, ticket=self.ticket, status=status)
        messages.success(
            self.request, _("The status is now “%(status)s”.") % {"status": status.name}
        )
