"""What the portal's and the desk's ticket pages read, as statements compiled once per shape
(portal.db.Precompiled): building and compiling them with the ORM cost the pages more CPU than
PostgreSQL spent running them (docs/performance.md, seventh pass).

Every statement is built from the user's scope as a value (`policy.ticket_address_scope`:
None for an internal user, else the addresses whose tickets the user may see) and ids, never
from the user, so the policy's decision is made before and passed in."""

from access import policy
from portal.db import Precompiled, precompiled

from .models import Message, Ticket, TicketEvent

# Ticket numbers are bigints; a URL's <int:number> may hold any number of digits.
NUMBER_MAX = 2**63 - 1


def _ticket(related, scope, number):
    tickets = policy.tickets_in_scope(Ticket.objects.all(), scope)
    return tickets.select_related(*related).filter(number=number)


def visible_ticket(user, number, related):
    """The ticket numbered `number` with `related` joined, if `user` may see it; else None."""
    if not 0 < number <= NUMBER_MAX:
        return None
    rows = precompiled(_ticket, tuple(related)).rows(policy.ticket_address_scope(user), number)
    return rows[0] if rows else None


def _conversation(scope, ticket_id):
    messages = Message.objects.filter(ticket_id=ticket_id)
    return (
        policy.messages_in_scope(messages, scope)
        .select_related("author")
        .prefetch_related("attachments")
    )


_CONVERSATION = Precompiled(_conversation)


def conversation(user, ticket):
    """The messages of `ticket` that `user` may see (`policy.messages_visible`), oldest first,
    with their authors and attachments; each knows its ticket."""
    messages = _CONVERSATION.rows(policy.ticket_address_scope(user), ticket.pk)
    return _with_ticket(messages, Message, ticket)


def _history(public, ticket_id):
    events = TicketEvent.objects.filter(ticket_id=ticket_id)
    if public:
        events = events.filter(kind__in=TicketEvent.PUBLIC_KINDS).select_related("actor")
    return events


def history(ticket, *, public):
    """The events of `ticket`, oldest first: `public`, those customers see, with their actors;
    else all (the desk fills in the actors itself). The caller has checked that the ticket may
    be seen."""
    return _with_ticket(precompiled(_history, public).rows(ticket.pk), TicketEvent, ticket)


def _other_open(count, scope, address_id, ticket_id):
    tickets = policy.tickets_in_scope(Ticket.objects.all(), scope)
    return (
        tickets.open()
        .filter(address_id=address_id)
        .exclude(pk=ticket_id)
        .select_related("status")
        .order_by("-updated_at", "-pk")[:count]
    )


def other_open(user, ticket, count):
    """Up to `count` other open tickets at `ticket`'s address that `user` may see, most
    recently updated first, with their status."""
    scope = policy.ticket_address_scope(user)
    return precompiled(_other_open, count).rows(scope, ticket.address_id, ticket.pk)


def _with_ticket(rows, model, ticket):
    field = model._meta.get_field("ticket")
    for row in rows:
        field.set_cached_value(row, ticket)  # as `ticket.messages.all()` does
    return rows
