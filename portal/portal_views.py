"""The portal's start page."""

from operator import itemgetter

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import F
from django.db.models.expressions import RawSQL
from django.views.generic import TemplateView

from access import policy
from access.mixins import PortalAccessMixin
from portal.db import Precompiled, precompiled
from tickets.models import Message, Ticket, TicketEvent
from tickets.paging import MERGE_MAX_ADDRESSES, AmongChosen, chosen_first_query

DASHBOARD_ROWS = 10


def awaiting_answer(tickets):
    """Those of `tickets` that wait for the customer's answer (see `tickets_awaiting_answer`)."""
    return tickets.open().filter(awaiting_customer=True)


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
    return awaiting_answer(Ticket.objects.writable_by(user))


def newest_per_address(tickets, address_ids, count):
    """(sql, params) of one statement giving the ids and `updated_at` of the `count` most
    recently updated of `tickets` at `address_ids`, newest first, read as one index range per
    address (at most `count` entries each) merged; None where that is not how they are read:
    not PostgreSQL, or no or too many addresses (the caller then lets the planner choose).

    Without it, PostgreSQL answers "the newest of a customer's tickets" by walking a recency
    index of every ticket and skipping other customers' (at 1,000,000 tickets: 3,400 rows read
    for the 50 tickets "recent activity" looks at, 1.5 ms instead of 0.4; 5,000 for the 11 of
    "waiting for your answer", 2.8 ms instead of 0.2). Each address's range is read from its
    `(address, updated_at)` index, the order the indexes keep."""
    if (
        connections[tickets.db].vendor != "postgresql"
        or not 0 < len(address_ids) <= MERGE_MAX_ADDRESSES
        or tickets.query.is_empty()
    ):
        return None
    branch = (
        tickets.filter(address_id=RawSQL("site.id", ()))  # noqa: S611 (no value in it)
        .order_by("-updated_at", "-pk")
        .values_list("pk", "updated_at")[:count]
    )
    try:
        sql, params = branch.query.get_compiler(using=tickets.db).as_sql()
    except EmptyResultSet:
        return "SELECT NULL::bigint AS id, NULL::timestamptz AS updated_at WHERE false", ()
    # SQL compiled by Django from `tickets`; every value is a parameter.
    merged = (
        "SELECT chosen.id, chosen.updated_at FROM unnest(%s::bigint[]) AS site(id) "  # noqa: S608
        f"CROSS JOIN LATERAL ({sql}) AS chosen(id, updated_at) "
        "ORDER BY chosen.updated_at DESC, chosen.id DESC LIMIT %s"
    )
    return merged, (sorted(address_ids), *params, count)


# How many of the most recently updated tickets "recent activity" looks at first (it stays
# exact: when that look cannot prove its answer complete, every visible ticket is read).
RECENT_TICKETS = 5 * DASHBOARD_ROWS


def recent_activity(user):
    """The latest public happenings on tickets the user may see, newest first: replies
    (descriptions are covered by the "created" event; internal notes never appear) and
    customer-visible history events.

    Every public reply and event moves its ticket's `updated_at` forward (tickets.services),
    so the newest `DASHBOARD_ROWS` happenings are on recently updated tickets: they are looked
    for among the `RECENT_TICKETS` most recently updated visible tickets first (three small
    queries instead of reading the whole history). When those cannot prove the answer
    complete — the oldest of them was updated after the last happening found — all visible
    tickets are read as before.

    The statements are built from the user's scope (`policy.ticket_address_scope`) and the
    tickets' ids alone, and compiled once per shape (portal.db.Precompiled)."""
    limit = DASHBOARD_ROWS
    scope = policy.ticket_address_scope(user)
    recent = _RECENT.rows(scope)
    items = _activity(scope, [pk for pk, _ in recent])
    complete = len(recent) < RECENT_TICKETS or (
        len(items) == limit and recent[-1][1] < items[-1]["when"]
    )
    if complete:
        return items
    visible = policy.tickets_in_scope(Ticket.objects.all(), scope)
    return _items(list(_replies(scope, visible)), list(_events(visible)))


def _recent_tickets(scope):
    """(id, updated_at) of the `RECENT_TICKETS` most recently updated tickets of `scope`,
    newest first; read per address where that is cheaper (`newest_per_address`: through the
    scope, each address's index holds the id as well, so they are read in order and stop at
    the limit)."""
    visible = policy.tickets_in_scope(Ticket.objects.all(), scope)
    merged = newest_per_address(visible, () if scope is None else scope, RECENT_TICKETS)
    if merged is None:
        return visible.order_by("-updated_at", "-pk").values_list("pk", "updated_at")[
            :RECENT_TICKETS
        ]
    return merged


def _replies(scope, tickets):
    # Not chosen first: choosing them, PostgreSQL joined the scope's condition on the ticket
    # by hashing all of the customer's tickets (19 ms instead of 0.6 at 1,000,000 tickets).
    return (
        policy.messages_in_scope(Message.objects.filter(ticket__in=tickets), scope)
        .filter(kind=Message.Kind.REPLY)
        .select_related("ticket", "author")
        .order_by("-created_at", "-pk")[:DASHBOARD_ROWS]
    )


def _events(tickets):
    # The newest events are chosen before they are joined to their ticket and actor (joined
    # before the LIMIT, PostgreSQL hashed every user to keep ten rows). `tickets` are visible.
    return chosen_first_query(
        TicketEvent.objects.filter(ticket__in=tickets, kind__in=TicketEvent.PUBLIC_KINDS)
        .select_related("ticket", "actor")
        .order_by("-created_at", "-pk"),
        DASHBOARD_ROWS,
    )


_RECENT = Precompiled(_recent_tickets)
_REPLIES = Precompiled(_replies)
_EVENTS = Precompiled(_events)


def _activity(scope, ticket_ids):
    return _items(_REPLIES.rows(scope, ticket_ids), _EVENTS.rows(ticket_ids))


def _items(replies, events):
    items = [{"kind": "message", "when": m.created_at, "message": m} for m in replies]
    items += [{"kind": "event", "when": e.created_at, "event": e} for e in events]
    items.sort(key=itemgetter("when"), reverse=True)
    return items[:DASHBOARD_ROWS]


LIST_RELATED = ("status", "type", "address")


def first_rows(tickets, count, related=LIST_RELATED):
    """The statement of the `count` most recently updated of `tickets`, with `related`
    joined, whose ids are chosen before the join (`chosen_first`). Joined before the LIMIT,
    PostgreSQL may hash every address to keep a few hundred candidate rows (10 ms instead of
    1 ms at 1,000,000 tickets)."""
    ordered = tickets.select_related(*related).order_by("-updated_at", "-pk")
    return chosen_first_query(ordered, count)


def _my_open(count, scope, user_id):
    """The user's own open tickets among those it may see (`first_rows`)."""
    tickets = policy.tickets_in_scope(Ticket.objects.all(), scope)
    return first_rows(tickets.open().filter(created_by_id=user_id), count)


def _awaiting(count, write_scope):
    """`awaiting_rows` for a `policy.ticket_write_scope` value.

    The ranges are taken without the user's scope (with `address_id IN W(u)` beside
    `address_id = a` the planner expected one row per address and read each address's waiting
    tickets whole to sort them), so the ids only narrow: the rows come out of the scope's
    waiting tickets, and a ticket outside it is never returned (as
    tickets.paging.AddressMergedList)."""
    tickets = awaiting_answer(policy.tickets_in_scope(Ticket.objects.all(), write_scope))
    merged = newest_per_address(
        awaiting_answer(Ticket.objects.all()), () if write_scope is None else write_scope, count
    )
    if merged is None:
        return first_rows(tickets, count)
    sql, params = merged
    # `newest_per_address`'s statement (compiled by Django; every value a parameter).
    chosen = RawSQL(f"SELECT id FROM ({sql}) AS chosen", params)  # noqa: S608, S611
    return (
        tickets.filter(AmongChosen(F("pk"), chosen))
        .select_related(*LIST_RELATED)
        .order_by("-updated_at", "-pk")
    )


def awaiting_rows(user, count):
    """The `count` most recently updated of `tickets_awaiting_answer(user)`, with the list's
    related rows, in one statement; their ids chosen per address of the user's write set
    where that is cheaper (`newest_per_address`), compiled once per shape of the write set
    (portal.db.Precompiled)."""
    return precompiled(_awaiting, count).rows(policy.ticket_write_scope(user))


class DashboardView(PortalAccessMixin, TemplateView):
    """My open tickets, tickets waiting for our answer, recent activity, and filing."""

    template_name = "portal/dashboard.html"
    extra_context = {"active_nav": "dashboard"}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        # One row more than shown tells whether a "show all" link is needed, without a COUNT.
        mine = precompiled(_my_open, DASHBOARD_ROWS + 1).rows(
            policy.ticket_address_scope(user), user.pk
        )
        awaiting = awaiting_rows(user, DASHBOARD_ROWS + 1)
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
