"""Desk search: ticket number, subject, message text (internal notes included: staff see them),
address number and name, machine number.

On PostgreSQL it is full-text search with the 'simple' configuration (no stemming, so it works
the same for German and English text): `websearch_to_tsquery` matches whole words, "quoted
phrases", `or` and `-word`. Each document expression below is exactly the expression of a GIN
index that `desk/migrations/0002_search_indexes` creates on PostgreSQL, so each branch is one
index lookup; the branches are `IN (subquery)` conditions, which PostgreSQL runs once each as
hashed subplans instead of computing a document for every ticket (for a small queue the
caller may ask for the per-ticket form instead: `search_tickets(…, few=True)`). Keep the
expressions and the migration in step (a PostgreSQL test checks that the indexes are used).

Elsewhere (SQLite, the embedded default) every branch is a case-insensitive substring match.

A number (optionally with "#") also matches the ticket with exactly that number.
"""

import re

from django.contrib.postgres.search import SearchQuery, SearchVector
from django.db import connections
from django.db.models import Exists, OuterRef, Q

from access import policy
from addresses.models import Address, Machine
from tickets.models import Message, Ticket

SEARCH_CONFIG = "simple"
MAX_LENGTH = 200
_NUMBER = re.compile(r"#?\s*(\d{1,18})")


def documents():
    """(model, document expression) for every searched table; the migration indexes these."""
    return {
        "ticket": SearchVector("subject", config=SEARCH_CONFIG),
        "message": SearchVector("body", config=SEARCH_CONFIG),
        "address": SearchVector("number", "name", config=SEARCH_CONFIG),
        "machine": SearchVector("number", config=SEARCH_CONFIG),
    }


def _postgres_condition(text, user):
    query = SearchQuery(text, config=SEARCH_CONFIG, search_type="websearch")
    docs = documents()

    def matching(queryset, name):
        return queryset.alias(document=docs[name]).filter(document=query)

    messages = policy.messages_visible(matching(Message.objects.all(), "message"), user)
    return (
        Q(pk__in=matching(Ticket.objects.all(), "ticket").values("pk"))
        | Q(pk__in=messages.values("ticket_id"))
        | Q(address_id__in=matching(Address.objects.all(), "address").values("pk"))
        | Q(machine_id__in=matching(Machine.objects.all(), "machine").values("pk"))
    )


def _postgres_condition_per_ticket(text, user):
    """The same condition, checked ticket by ticket: the subject's document on the row and an
    `EXISTS` over the ticket's own messages (through the message index). For a queryset of few
    tickets (one agent's open tickets) this beats the index branches above, whose hashed sets
    hold every matching ticket and message of the whole history (tens of thousands at 1M)."""
    query = SearchQuery(text, config=SEARCH_CONFIG, search_type="websearch")
    docs = documents()

    def matching(queryset, name):
        return queryset.alias(document=docs[name]).filter(document=query)

    messages = policy.messages_visible(
        matching(Message.objects.filter(ticket=OuterRef("pk")), "message"), user
    )
    return (
        Q(search_subject=query)
        | Q(Exists(messages))
        | Q(address_id__in=matching(Address.objects.all(), "address").values("pk"))
        | Q(machine_id__in=matching(Machine.objects.all(), "machine").values("pk"))
    )


def _fallback_condition(text, user):
    messages = policy.messages_visible(Message.objects.filter(body__icontains=text), user)
    addresses = Address.objects.filter(Q(number__icontains=text) | Q(name__icontains=text))
    machines = Machine.objects.filter(number__icontains=text)
    return (
        Q(subject__icontains=text)
        | Q(pk__in=messages.values("ticket_id"))
        | Q(address_id__in=addresses.values("pk"))
        | Q(machine_id__in=machines.values("pk"))
    )


def search_tickets(queryset, user, text, *, few=False):
    """The tickets of `queryset` that match `text` (see the module docstring). `queryset` must
    already be scoped to `user`; messages are matched through `policy.messages_visible`.
    `few`: the queryset holds few tickets (an open queue of one person), so the condition is
    checked per ticket instead of through the GIN indexes (same matches, another plan)."""
    text = (text or "").strip()[:MAX_LENGTH]
    if not text:
        return queryset
    if connections[queryset.db].vendor == "postgresql":
        if few:
            queryset = queryset.alias(search_subject=documents()["ticket"])
            condition = _postgres_condition_per_ticket(text, user)
        else:
            condition = _postgres_condition(text, user)
    else:
        condition = _fallback_condition(text, user)
    number = _NUMBER.fullmatch(text)
    if number:
        condition |= Q(number=int(number.group(1)))
    return queryset.filter(condition)
