"""The desk (/desk/): queues, search, bulk actions and the ticket workspace.

Every view enters through `DeskAccessMixin` (external users, and internal users without the desk
rights, get a 404; anonymous users are sent to sign in by LoginRequiredMiddleware). Tickets are
fetched through `Ticket.objects.visible_to(user)` and their attachments through the ticket;
every POST asks the policy before the form (refused: 403, nothing saved) and writes through
`tickets.services`, which ask it again. Templates only show the flags computed here.
"""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import connections
from django.db.models import Q
from django.http import Http404, JsonResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views import View
from django.views.generic import DetailView, FormView, ListView

from access import policy
from access.mixins import DeskAccessMixin
from addresses.models import Address
from portal.db import PreparedStatementsMixin, precompiled
from tickets import reading, services
from tickets.action_views import TicketActionMixin
from tickets.downloads import AttachmentDownload
from tickets.forms import CappedPaginator, add_service_errors, page_slice
from tickets.models import Ticket, TicketStatus
from tickets.paging import ChosenFirstList, PageList, rows_in_order
from tickets.related import fill, load_people

from . import forms, queues
from .choices import desk_choices
from .models import SavedFilter
from .search import search_tickets
from .services import saved_filter_delete, saved_filter_save
from .templatetags.desk_extras import desk_url

# Joined into the ticket queries; the responsible team and user are loaded by
# `tickets.related.load_people` instead (every joined table multiplies planning time).
TICKET_RELATED = ("status", "type", "address", "machine")


def queue_url(query=""):
    url = desk_url("desk:queue")
    return f"{url}?{query}" if query else url


def queue_url_from(raw_query, user):
    """The queue URL for a query string sent back by a form: only the filter's own keys (and a
    page number) survive, so it can never point anywhere else."""
    data = QueryDict(raw_query or "")
    query = forms.QueueFilterForm(data, user=user).normalized_query()
    page = data.get("page", "")
    if page.isdecimal():
        query = f"{query}&page={page}" if query else f"page={page}"
    return queue_url(query)


# ---------------------------------------------------------------------------------------------
# Queues.


class QueueView(DeskAccessMixin, ListView):
    """A queue, narrowed by the filters and the search, sorted and paginated (50 a page)."""

    template_name = "desk/queue.html"
    context_object_name = "tickets"
    paginate_by = 50
    page_ids = None  # the page's ids, when read with the counts (`page_read_with_counts`)
    # What the rows show (desk_extras.queue_rows); the people, status and type are filled from
    # the page's lists by their ids. Building a row's model instances (and parsing the address's
    # dates) was a large part of reading a page.
    row_fields = (
        "number",
        "subject",
        "priority",
        "status",
        "type",
        "address__number",
        "address__name",
        "responsible_user",
        "responsible_team",
        "created_at",
        "updated_at",
    )

    # (sort key, column label); clicking a sorted column again reverses it.
    columns = [
        ("number", gettext_lazy("No.")),
        ("subject", gettext_lazy("Subject")),
        ("status", gettext_lazy("Status")),
        ("priority", gettext_lazy("Priority")),
        (None, gettext_lazy("Type")),
        ("address", gettext_lazy("Customer")),
        (None, gettext_lazy("Responsible")),
        ("created_at", gettext_lazy("Created")),
        ("updated_at", gettext_lazy("Updated")),
    ]

    @cached_property
    def filter_form(self):
        form = forms.QueueFilterForm(self.request.GET, user=self.request.user)
        form.is_valid()  # invalid fields are shown and ignored
        return form

    @cached_property
    def queue(self):
        return self.filter_form.value("queue", queues.DEFAULT_QUEUE)

    def scope(self):
        return Ticket.objects.visible_to(self.request.user)

    def get_queryset(self):
        user, form = self.request.user, self.filter_form
        queryset = self.scope().filter(queues.conditions(user)[self.queue])
        # "My tickets" is one person's open work: search it ticket by ticket (desk.search).
        few = self.queue == queues.MINE
        queryset = search_tickets(form.filter(queryset), user, form.value("q", ""), few=few)
        sort = form.value("sort", forms.DEFAULT_SORT)
        return self.shown(queryset).order_by(*forms.SORTS[sort])

    def shown(self, queryset):
        """`queryset` read as the rows show it. Only the address is joined: statuses and types
        come from the lists the filter form reads anyway (`paginate_queryset`), and the rows
        do not show the machine. Only the columns the rows show are read (`row_fields`)."""
        return queryset.select_related("address").only(*self.row_fields)

    @cached_property
    def page_read_with_counts(self):
        """Whether the page's ids are read with the queue counts (`queues.counts_with_page`): a
        searched "My tickets" (one person's open tickets, each checked) on PostgreSQL."""
        return (
            self.queue == queues.MINE
            and bool(self.filter_form.value("q", ""))
            and connections[self.object_list.db].vendor == "postgresql"
        )

    def page_asked_for(self):
        """The slice of the page number asked for (`?page=`), as the paginator reads it."""
        return page_slice(self.request.GET.get(self.page_kwarg), self.paginate_by)

    @cached_property
    def queue_counts(self):
        """The queue badges and, for a filtered list, its own total ("rows"): one statement
        (with the ids of the page asked for, see `page_read_with_counts`)."""
        user = self.request.user
        if self.page_read_with_counts:
            counts, self.page_ids = queues.counts_with_page(
                self.scope(), user, self.object_list, self.page_asked_for()
            )
            return counts
        extra = {"rows": self.object_list} if self.filter_form.is_filtered() else None
        return queues.counts(self.scope(), user, extra=extra)

    def paginate_queryset(self, queryset, page_size):
        """A page number out of range or not a number shows the nearest page, never a 404.
        Counted up to the cap (past it the page says "more than …"); the total comes with the
        queue counts (`queue_counts`) instead of a statement of its own."""
        number = self.request.GET.get(self.page_kwarg)
        form = self.filter_form
        known = self.queue_counts["rows" if form.is_filtered() else self.queue]
        if self.page_read_with_counts:
            # The page's ids came with the counts; its rows are read by id through the scope.
            rows = PrefetchedPage(
                queryset,
                ids=self.page_ids,
                prefetched=self.page_asked_for(),
                rows=self.shown(self.scope()),
            )
        elif form.value("q", ""):
            rows = queryset
        elif not form.is_filtered():
            # A queue as it is, in a sort order: its first pages through statements compiled
            # once per shape (`QueuePage`), chosen before they are joined as below.
            rows = QueuePage(
                ChosenFirstList(queryset),
                queue=self.queue,
                sort=form.value("sort", forms.DEFAULT_SORT),
                fields=self.row_fields,
                user=self.request.user,
            )
        else:
            # Without a search the page's rows are chosen before they are joined
            # (tickets.paging.ChosenFirstList); a search's conditions would run twice.
            rows = ChosenFirstList(queryset)
        paginator = CappedPaginator(rows, page_size, page=number, count=known)
        page = paginator.get_page(number)
        lists = desk_choices(self.request.user)  # every responsible user is among its people
        page.object_list = load_people(
            list(page.object_list),
            fields=("responsible_user",),
            teams=lists.teams,
            users={person.pk: person for person in lists.people},
        )
        # The rows' statuses and types from the filter form's lists (every status and type,
        # not narrowed by the user) instead of two more joins; one added since is read as usual.
        fill(page.object_list, "status", {status.pk: status for status in lists.statuses})
        fill(page.object_list, "type", {ticket_type.pk: ticket_type for ticket_type in lists.types})
        return paginator, page, page.object_list, page.has_other_pages()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user, form = self.request.user, self.filter_form
        counts = self.queue_counts
        context["queues"] = [
            {
                "key": key,
                "label": label,
                "help": queues.HELP[key],
                "count": counts[key],
                "capped": counts[key].capped,
                "limit": counts[key].limit,
                "active": key == self.queue,
                "url": queue_url(f"queue={key}"),
            }
            for key, label in queues.CHOICES
        ]
        context["queue"] = self.queue
        context["queue_label"] = queues.LABELS[self.queue]
        context["queue_help"] = queues.HELP[self.queue]
        current = form.normalized_query()
        saved_filters = list(SavedFilter.objects.visible_to(user))
        for saved in saved_filters:
            saved.active = saved.query == current
        context["saved_filters"] = saved_filters
        context["save_filter_form"] = forms.SavedFilterForm(user=user, initial={"query": current})
        context["filter_form"] = form
        context["filtered"] = form.is_filtered()
        context["search_query"] = form.value("q", "")
        sort = form.value("sort", forms.DEFAULT_SORT)
        params = self.request.GET.copy()  # each column's link: the same query, sorted by it
        params.pop("page", None)
        context["sort_columns"] = [
            self._column(key, label, sort, params) for key, label in self.columns
        ]
        working = policy.can_work_in_desk(user)
        context["can_bulk"] = bool(working)
        if working:
            context["bulk_form"] = forms.BulkActionForm(
                user=user, initial={"next": self.request.GET.urlencode()}
            )
        return context

    def _column(self, key, label, current, params):
        if key is None:
            return {"label": label}
        ascending = current == key
        descending = current == f"-{key}"
        params["sort"] = f"-{key}" if ascending else key
        return {
            "label": label,
            "url": f"?{params.urlencode()}",
            "direction": "asc" if ascending else "desc" if descending else None,
        }


class PrefetchedPage(PageList):
    """A sliceable stand-in for `queryset` (ordered) for the paginator, whose `prefetched`
    slice's ids were read beforehand (`ids`): that page's rows are read by primary key through
    `rows` (the user's scope, with what the rows show), in the order of `ids`; any other slice
    (a page number past the end shows the last page) through `queryset` itself."""

    def __init__(self, queryset, *, ids, prefetched, rows):
        self.queryset = queryset
        self.ids = ids
        self.prefetched = prefetched
        self.rows = rows

    def page(self, start, stop):
        if start == self.prefetched.start and stop <= self.prefetched.stop:
            return rows_in_order(self.rows, self.ids[: stop - start])
        return list(self.queryset[start:stop])


def _queue_page(queue, sort, fields, start, stop, scope, user_id=None):
    """A page of a queue without filters or search, as `QueueView.get_queryset` and
    `ChosenFirstList` read it, from the user's scope (`policy.ticket_address_scope`) and id."""
    tickets = policy.tickets_in_scope(Ticket.objects.all(), scope)
    listed = (
        tickets.filter(queues.conditions_for_id(user_id)[queue])
        .select_related("address")
        .only(*fields)
        .order_by(*forms.SORTS[sort])
    )
    return listed.filter(pk__in=listed.values("pk")[start:stop])


class QueuePage(PageList):
    """A queue without filters or search, for the paginator: its first `PRECOMPILED_ROWS`
    rows page by page through statements compiled once per shape and page
    (portal.db.Precompiled); deeper pages through `deeper` (a ChosenFirstList of the same
    queryset)."""

    PRECOMPILED_ROWS = 20 * 50

    def __init__(self, deeper, *, queue, sort, fields, user):
        self.queryset = deeper.queryset  # count()
        self.deeper = deeper
        self.constants = (queue, sort, tuple(fields))
        self.values = [policy.ticket_address_scope(user)]
        if queue in queues.BY_USER:  # the queue names the user (and "My teams" its teams)
            self.values.append(user.pk)

    def page(self, start, stop):
        if stop > self.PRECOMPILED_ROWS:
            return self.deeper.page(start, stop)
        return precompiled(_queue_page, *self.constants, start, stop).rows(*self.values)


class AddressAutocompleteView(DeskAccessMixin, View):
    """Addresses for the queue's address filter (Select2's JSON format), over
    `Address.objects.visible_to(user)`. GET `term` (optional), `page` (1-based, 20 a page)."""

    http_method_names = ["get"]
    page_size = 20

    def get(self, request):
        term = request.GET.get("term", "").strip()[:100]
        addresses = Address.objects.visible_to(request.user)
        if term:
            addresses = addresses.filter(
                Q(number__icontains=term)
                | Q(name__icontains=term)
                | Q(name_2__icontains=term)
                | Q(city__icontains=term)
            )
        paginator = Paginator(addresses.order_by("number"), self.page_size)
        page = paginator.get_page(request.GET.get("page"))
        results = [
            {
                "id": address.pk,
                "text": f"{address.number} {address.name}"
                + (f", {address.city}" if address.city else ""),
            }
            for address in page
        ]
        return JsonResponse({"results": results, "more": page.has_next()})


class SavedFilterCreateView(DeskAccessMixin, FormView):
    """Save the current filters under a name (the same name replaces the earlier one)."""

    http_method_names = ["post"]
    form_class = forms.SavedFilterForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def form_valid(self, form):
        try:
            saved, created = saved_filter_save(
                actor=self.request.user,
                name=form.cleaned_data["name"],
                query=form.cleaned_data["query"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
            return self.form_invalid(form)
        if created:
            messages.success(self.request, _("Saved the filter “%(name)s”.") % {"name": saved})
        else:
            messages.success(self.request, _("Updated the filter “%(name)s”.") % {"name": saved})
        return redirect(saved.get_absolute_url())

    def form_invalid(self, form):
        for errors in form.errors.values():
            for error in errors:
                messages.error(self.request, error)
        return redirect(queue_url_from(self.request.POST.get("query", ""), self.request.user))


class SavedFilterDeleteView(DeskAccessMixin, View):
    http_method_names = ["post"]

    def post(self, request, pk):
        saved = get_object_or_404(SavedFilter.objects.visible_to(request.user), pk=pk)
        saved_filter_delete(actor=request.user, saved_filter=saved)
        messages.success(request, _("Deleted the filter “%(name)s”.") % {"name": saved})
        return redirect("desk:queue")


# ---------------------------------------------------------------------------------------------
# Bulk actions on the tickets selected in a queue.

BULK_SUCCESS = {
    forms.TAKE: lambda count: ngettext(
        "You have taken %(count)d ticket.", "You have taken %(count)d tickets.", count
    ),
    forms.FORWARD: lambda count: ngettext(
        "Forwarded %(count)d ticket.", "Forwarded %(count)d tickets.", count
    ),
    forms.SET_STATUS: lambda count: ngettext(
        "Set the status of %(count)d ticket.", "Set the status of %(count)d tickets.", count
    ),
    forms.SET_PRIORITY: lambda count: ngettext(
        "Set the priority of %(count)d ticket.", "Set the priority of %(count)d tickets.", count
    ),
}


class BulkActionView(DeskAccessMixin, FormView):
    """Take, forward, set the status or the priority of the selected tickets, all or none.

    The selection is re-fetched through the user's scope by the form; the service locks every
    ticket, asks the policy for each and changes nothing when any is refused (403 with the list
    of refusals). Input errors go back to the queue as messages.
    """

    http_method_names = ["post"]
    form_class = forms.BulkActionForm

    def post(self, request, *args, **kwargs):
        decision = policy.can_work_in_desk(request.user)
        if not decision:
            raise PermissionDenied(decision.reason)
        return super().post(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def back_url(self):
        return queue_url_from(self.request.POST.get("next", ""), self.request.user)

    def form_invalid(self, form):
        for field, errors in form.errors.items():
            label = form.fields[field].label if field in form.fields else None
            for error in errors:
                messages.error(self.request, f"{label}: {error}" if label else error)
        return redirect(self.back_url())

    def form_valid(self, form):
        data, actor = form.cleaned_data, self.request.user
        action, tickets = data["action"], list(data["tickets"])
        try:
            if action == forms.TAKE:
                services.tickets_bulk_take(actor=actor, tickets=tickets)
            elif action == forms.FORWARD:
                services.tickets_bulk_forward(
                    actor=actor, tickets=tickets, **forms.recipient_kwargs(data["recipient"])
                )
            elif action == forms.SET_STATUS:
                services.tickets_bulk_set_status(
                    actor=actor, tickets=tickets, status=data["status"]
                )
            else:
                services.tickets_bulk_set_priority(
                    actor=actor, tickets=tickets, priority=data["priority"]
                )
        except services.BulkRefused as refused:
            context = {
                "action": dict(form.fields["action"].choices)[action],
                "refusals": refused.refusals,
                "selected": len(tickets),
                "back_url": self.back_url(),
            }
            return render(self.request, "desk/bulk_refused.html", context, status=403)
        except ValidationError as error:
            add_service_errors(form, error)
            return self.form_invalid(form)
        messages.success(self.request, BULK_SUCCESS[action](len(tickets)) % {"count": len(tickets)})
        return redirect(self.back_url())


# ---------------------------------------------------------------------------------------------
# The ticket workspace and the actions posted from it.


class DeskTicketMixin:
    """The ticket (through the user's scope) and everything its workspace shows."""

    template_name = "desk/ticket_detail.html"
    # Actions load the ticket's people with the ticket; the workspace page fills them from
    # what it reads anyway (`_fill_people`).
    people_with_ticket = True
    ticket_related = (*TICKET_RELATED, "address__parent", "contact_person")

    def get_ticket(self):
        if not hasattr(self, "ticket"):
            self.ticket = reading.visible_ticket(
                self.request.user, self.kwargs["number"], self.ticket_related
            )
            if self.ticket is None:
                raise Http404
            if self.people_with_ticket:
                load_people([self.ticket])  # not joined: see tickets.related
        return self.ticket

    def get_page_context(self, **bound):
        """The workspace; `bound` replaces a form by its submitted copy (with its errors)."""
        user, ticket = self.request.user, self.get_ticket()
        conversation = reading.conversation(user, ticket)
        history = reading.history(ticket, public=False)  # the actors: `_fill_people`
        other_open = reading.other_open(user, ticket, OTHER_OPEN_LIMIT + 1)

        working = policy.can_work_on_ticket(user, ticket)
        fields = policy.can_change_ticket_fields(user, ticket)
        flags = {
            "can_take": bool(policy.can_take(user, ticket))
            and ticket.responsible_user_id != user.pk,
            "can_forward": bool(working),
            "can_change_fields": bool(fields),
            "can_set_status": bool(working),
            "can_close": bool(policy.can_close(user, ticket)),
            "can_reopen": bool(policy.can_reopen(user, ticket)),
        }
        message_form = bound.get("message_form") or forms.TicketMessageForm(
            user=user, ticket=ticket
        )
        if not message_form.fields["kind"].choices:
            message_form = None

        def form(name, form_class, flag, **kwargs):
            if not flags[flag]:
                return None
            return bound.get(name) or form_class(user=user, ticket=ticket, **kwargs)

        statuses = desk_choices(user).settable_statuses  # read once for both forms
        context = {
            "ticket": ticket,
            "conversation": conversation,
            "history": history,
            "other_open": other_open[:OTHER_OPEN_LIMIT],
            "more_open": len(other_open) > OTHER_OPEN_LIMIT,
            "address_queue_url": queue_url(f"queue=open&address={ticket.address_id}"),
            # The ticket names its address, machine and contact person; their details are
            # shown to those whose roles grant reading them.
            "show_address": bool(policy.can_see_address(user, ticket.address)),
            "show_contact": bool(
                ticket.contact_person and policy.can_see_contact(user, ticket.contact_person)
            ),
            "show_machine": bool(ticket.machine and policy.can_see_machine(user, ticket.machine)),
            "message_form": message_form,
            "read_only_reason": "" if working else working.reason,
            "take_form": form("take_form", forms.EmptyForm, "can_take"),
            "forward_form": form("forward_form", forms.TicketForwardForm, "can_forward"),
            "type_form": form("type_form", forms.TicketTypeForm, "can_change_fields"),
            "priority_form": form("priority_form", forms.TicketPriorityForm, "can_change_fields"),
            "status_form": form(
                "status_form", forms.TicketStatusForm, "can_set_status", statuses=statuses
            ),
            "close_statuses": [s for s in statuses if s.is_closed] if flags["can_close"] else [],
            "close_form": bound.get("close_form"),
            "reopen_form": form("reopen_form", forms.EmptyForm, "can_reopen"),
            **flags,
        }
        if flags["can_close"] and not context["close_statuses"]:
            context["can_close"] = False
        self._fill_people(ticket, conversation, history, lists_read=flags["can_forward"])
        # The workspace page does not join the status and the type (`TicketDetailView`): they
        # come from the forms' lists when there (else each is read when shown, as before).
        fill([ticket], "status", {status.pk: status for status in statuses})
        if context["type_form"] is not None:
            fill([ticket], "type", {kind.pk: kind for kind in context["type_form"].types})
        return context

    def _fill_people(self, ticket, conversation, history, *, lists_read):
        """The ticket's creator, responsible user and team and the history's actors, from the
        people the page has already read (the messages' authors and, with the forward form, the
        people and teams it offers: desk.choices); whoever is missing in one query, and a team
        that is not among the forward form's in another (tickets.related.load_people)."""
        known = {message.author_id: message.author for message in conversation if message.author}
        teams = None
        if lists_read:
            lists = desk_choices(self.request.user)
            known.update((person.pk, person) for person in lists.forward_people)
            forward_teams = {team.pk: team for team in lists.forward_teams}
            if ticket.responsible_team_id in forward_teams:
                teams = forward_teams
        wanted = {ticket.created_by_id, ticket.responsible_user_id}
        wanted.update(event.actor_id for event in history)
        missing = wanted - known.keys() - {None}
        if missing:
            known.update(get_user_model().objects.in_bulk(missing))
        load_people([ticket], users=known, teams=teams)
        load_people(history, fields=("actor",), team=False, users=known)


OTHER_OPEN_LIMIT = 10


class TicketDetailView(PreparedStatementsMixin, DeskAccessMixin, DeskTicketMixin, DetailView):
    context_object_name = "ticket"
    # Each joined table multiplies the main query's planning time (tickets.related): the
    # people, the status and the type come from lists the page reads anyway. Its statements
    # look rows up by the ticket's number, id and address: prepared (portal.db).
    people_with_ticket = False
    ticket_related = ("address", "machine", "address__parent", "contact_person")

    def get_object(self, queryset=None):
        return self.get_ticket()

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), **self.get_page_context()}


class TicketActionView(DeskAccessMixin, DeskTicketMixin, TicketActionMixin, FormView):
    """A form posted from the workspace (see TicketActionMixin)."""

    detail_url_name = "desk:ticket-detail"


class TicketMessageView(TicketActionView):
    """Reply to the customer or add an internal note, as the required choice says."""

    form_class = forms.TicketMessageForm
    form_context_name = "message_form"
    anchor = "latest"

    def check(self, user, ticket):
        reply = policy.can_reply(user, ticket)
        return reply if reply else policy.can_add_internal_note(user, ticket)

    def perform(self, form):
        data, ticket = form.cleaned_data, self.ticket
        if data["kind"] == forms.NOTE:
            services.ticket_add_internal_note(
                actor=self.request.user, ticket=ticket, body=data["body"], files=data["files"]
            )
            messages.success(self.request, _("Internal note added. The customer does not see it."))
            return
        reopening = ticket.is_closed
        services.ticket_reply(
            actor=self.request.user, ticket=ticket, body=data["body"], files=data["files"]
        )
        if reopening:
            messages.success(
                self.request, _("Reply sent to the customer; the ticket is open again.")
            )
        else:
            messages.success(self.request, _("Reply sent to the customer."))


class TicketTakeView(TicketActionView):
    form_class = forms.EmptyForm
    form_context_name = "take_form"

    def check(self, user, ticket):
        return policy.can_take(user, ticket)

    def perform(self, form):
        services.ticket_take(actor=self.request.user, ticket=self.ticket)
        messages.success(self.request, _("The ticket is now yours."))


class TicketForwardView(TicketActionView):
    form_class = forms.TicketForwardForm
    form_context_name = "forward_form"

    def check(self, user, ticket):
        return policy.can_work_on_ticket(user, ticket)

    def perform(self, form):
        recipient = form.cleaned_data["recipient"]
        services.ticket_forward(
            actor=self.request.user, ticket=self.ticket, **forms.recipient_kwargs(recipient)
        )
        messages.success(self.request, _("Forwarded to %(recipient)s.") % {"recipient": recipient})


class TicketTypeView(TicketActionView):
    form_class = forms.TicketTypeForm
    form_context_name = "type_form"

    def check(self, user, ticket):
        return policy.can_change_ticket_fields(user, ticket)

    def perform(self, form):
        ticket_type = form.cleaned_data["type"]
        services.ticket_change_type(
            actor=self.request.user, ticket=self.ticket, ticket_type=ticket_type
        )
        messages.success(self.request, _("The type is now “%(type)s”.") % {"type": ticket_type})


class TicketPriorityView(TicketActionView):
    form_class = forms.TicketPriorityForm
    form_context_name = "priority_form"

    def check(self, user, ticket):
        return policy.can_change_ticket_fields(user, ticket)

    def perform(self, form):
        priority = form.cleaned_data["priority"]
        services.ticket_change_priority(
            actor=self.request.user, ticket=self.ticket, priority=priority
        )
        label = dict(form.fields["priority"].choices)[priority]
        messages.success(
            self.request, _("The priority is now “%(priority)s”.") % {"priority": label}
        )


class TicketStatusView(TicketActionView):
    """Any status the user may set; a closing status closes the ticket, an open one reopens."""

    form_class = forms.TicketStatusForm
    form_context_name = "status_form"

    def check(self, user, ticket):
        return policy.can_work_on_ticket(user, ticket)

    def perform(self, form):
        status = form.cleaned_data["status"]
        services.ticket_set_status(actor=self.request.user, ticket=self.ticket, status=status)
        messages.success(self.request, _("The status is now “%(status)s”.") % {"status": status})


class TicketCloseView(TicketActionView):
    form_class = forms.TicketCloseForm
    form_context_name = "close_form"

    def check(self, user, ticket):
        return policy.can_close(user, ticket)

    def perform(self, form):
        status = form.cleaned_data["status"]
        services.ticket_set_status(actor=self.request.user, ticket=self.ticket, status=status)
        messages.success(self.request, _("Closed as “%(status)s”.") % {"status": status})


class TicketReopenView(TicketActionView):
    """Reopen: back to the default status (the status every new ticket starts in)."""

    form_class = forms.EmptyForm
    form_context_name = "reopen_form"

    def check(self, user, ticket):
        return policy.can_reopen(user, ticket)

    def perform(self, form):
        status = TicketStatus.objects.default()
        services.ticket_set_status(actor=self.request.user, ticket=self.ticket, status=status)
        messages.success(self.request, _("Reopened as “%(status)s”.") % {"status": status})


class AttachmentDownloadView(DeskAccessMixin, AttachmentDownload):
    """An attachment, fetched through its ticket and that ticket's messages the user may see
    (the same code as the portal's download); always a download, never rendered."""
