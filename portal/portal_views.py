"""The portal's start page."""

from operator import itemgetter

from django.views.generic import TemplateView

from access import policy
from access.mixins import PortalAccessMixin
from tickets.models import Message, Ticket, TicketEvent
from tickets.paging import ChosenFirstList

DASHBOARD_ROWS = 10


def tickets_awaiting_answer(user):
    """Open tickets that wait for an answer from the customer's side.

    Precisely: open tickets the user may reply to (`Ticket.objects.writable_by(user)`; a user
    who may only read cannot answer, so nothing waits for them) whose latest public message
    (the description or a reply; internal notes never count) was written by an internal user.
    A ticket whose latest public message comes from any external user (the user or a
    colleague) waits for the support team instead; messages without an author count for no side.

    That condition is stored on the ticket (`Ticket.awaiting_customer`, kept by the messages;
    `tickets.models.awaiting_customer_condition` defines it) and indexed per address for open
    tickets, so the list costs an index range per address instead of reading the conversation
    of every open ticket.

    The status name ("Waiting for customer") is deliberately not used: statuses are renamed
    and added by administrators and carry no flag that means "waiting for the customer".
    """
    return Ticket.objects.writable_by(user).open().filter(awaiting_customer=True)


# How many of the most recently updated tickets "recent activity" looks at first (it stays
# exact: when that look cannot prove its answer complete, every visible ticket is read).
RECENT_TICKETS = 5 * DASHBOARD_ROWS


def recent_activity(user, limit=DASHBOARD_ROWS):
    """The latest public happenings on tickets the user may see, newest first: replies
    (descriptions are covered by the "created" event; internal notes never appear) and
    customer-visible history events.

    Every public reply and event moves its ticket's `updated_at` forward (tickets.services),
    so the newest `limit` happenings are on recently updated tickets: they are looked for among
    the `RECENT_TICKETS` most recently updated visible tickets first (three small queries
    instead of reading the whole history). When those cannot prove the answer complete — the
    oldest of them was updated after the `limit`-th happening found — all visible tickets are
    read as before."""
    visible = Ticket.objects.visible_to(user)
    recent = list(
        visible.order_by("-updated_at", "-pk").values_list("pk", "updated_at")[:RECENT_TICKETS]
    )
    items = _activity(user, [pk for pk, _ in recent], limit)
    complete = len(recent) < RECENT_TICKETS or (
        len(items) == limit and recent[-1][1] < items[-1]["when"]
    )
    return items if complete else _activity(user, visible, limit)


def _activity(user, tickets, limit):
    replies = (
        policy.messages_visible(Message.objects.filter(ticket__in=tickets), user)
        .filter(kind=Message.Kind.REPLY)
        .select_related("ticket", "author")
        .order_by("-created_at", "-pk")[:limit]
    )
    # The newest events are chosen before they are joined to their ticket and actor (joined
    # before the LIMIT, PostgreSQL hashed every user to keep ten rows).
    events = ChosenFirstList(
        TicketEvent.objects.filter(ticket__in=tickets, kind__in=TicketEvent.PUBLIC_KINDS)
        .select_related("ticket", "actor")
        .order_by("-created_at", "-pk")
    )[:limit]
    items = [{"kind": "message", "when": m.created_at, "message": m} for m in replies]
    items += [{"kind": "event", "when": e.created_at, "event": e} for e in events]
    items.sort(key=itemgetter("when"), reverse=True)
    return items[:limit]


def first_rows(tickets, count, related=("status", "type", "address")):
    """The `count` most recently updated of `tickets`, with `related` joined, in one statement
    whose ids are chosen before the join (tickets.paging.ChosenFirstList). Joined before the
    LIMIT, PostgreSQL may hash every address to keep a few hundred candidate rows (10 ms
    instead of 1 ms at 1,000,000 tickets)."""
    return ChosenFirstList(tickets.select_related(*related).order_by("-updated_at", "-pk"))[:count]


class DashboardView(PortalAccessMixin, TemplateView):
    """My open tickets, tickets waiting for our answer, recent activity, and filing."""

    template_name = "portal/dashboard.html"
    extra_context = {"active_nav": "dashboard"}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        # One row more than shown tells whether a "show all" link is needed, without a COUNT.
        mine = first_rows(
            Ticket.objects.visible_to(user).open().filter(created_by=user), DASHBOARD_ROWS + 1
        )
        awaiting = first_rows(tickets_awaiting_answer(user), DASHBOARD_ROWS + 1)
        context.update(
            {
                "can_see_tickets": policy.grants_for(user).has(policy.TICKETS_READ),
                "filing": policy.can_file(user),
                "my_open_tickets": mine[:DASHBOARD_ROWS],
                "my_open_more": len(mine) > DASHBOARD_ROWS,
                "awaiting_tickets": awaiting[:DASHBOARD_ROWS],
                "awaiting_more": len(awaiting) > DASHBOARD_ROWS,
                "activity": recent_activity(user),
            }
        )
        return context
