"""Desk search: ticket number, subject and message text (internal notes included: staff see
them), address number and name, machine number.

The ticket text is `tickets.search` (shared with the portal; read its docstring): on PostgreSQL
full-text search with the 'simple' configuration in `websearch_to_tsquery` syntax (whole words,
"quoted phrases", `or`, `-word`) over one search document per ticket, kept by the triggers of
`desk/migrations/0003_search_documents`. Addresses and machines are matched through GIN
expression indexes that `desk/migrations/0002_search_indexes` creates (each document expression
below is exactly an index's expression); a ticket at a matching address or about a matching
machine is found through the copy of its `address_id` and `machine_id` in its search document,
so that the text, address and machine branches are one subquery (a PostgreSQL test checks that
the indexes are used).

Which plan: one agent's open tickets (`few=True`, "My tickets") are checked ticket by ticket.
Other queues hold up to the whole history, and the right plan depends on how many tickets the
text matches: few, and one index scan finds them all (walking the queue would read all of it
before it gave up); many, and walking the queue in list order, ticket by ticket, fills a page at
once (collecting every match would read tens of thousands). So the planner's estimate of the
matches (`EXPLAIN`, from the documents' statistics) chooses (`WALK_FACTOR`); it is kept a few
minutes per search text, so paging through results costs no extra query.

Elsewhere (SQLite, the embedded default) every branch is a case-insensitive substring match.
"""

from django.contrib.postgres.search import SearchQuery, SearchVector
from django.db import connections
from django.db.models import Q

from addresses.models import Address, Machine
from tickets import search as ticket_search

SEARCH_CONFIG = ticket_search.SEARCH_CONFIG
MAX_LENGTH = ticket_search.MAX_LENGTH

# When to walk a queue instead of collecting every match first: for M estimated matches among
# N tickets, when M * M >= WALK_FACTOR * N. Measured at 1,000,000 tickets: collecting costs
# about 4 µs a match, for the page and again for its count (8 µs * M); the walk finds a page at
# once, and to count 1,001 matches it reads about 1,001 * N / M tickets at about 2 µs each. The
# two meet at M * M = 250 * N: 15,800 matches at 1,000,000 tickets, 1,600 at 10,000.
WALK_FACTOR = 250


def documents():
    """(model, document expression) for the searched tables besides the tickets' own documents;
    the migration indexes these."""
    return {
        "address": SearchVector("number", "name", config=SEARCH_CONFIG),
        "machine": SearchVector("number", config=SEARCH_CONFIG),
    }


def _matching(text, using):
    """The addresses and the machines that match `text`: full-text on PostgreSQL (through the
    indexes of 0002), else by substring."""
    if connections[using].vendor == "postgresql":
        query = SearchQuery(text, config=SEARCH_CONFIG, search_type="websearch")
        docs = documents()
        return (
            Address.objects.alias(document=docs["address"]).filter(document=query),
            Machine.objects.alias(document=docs["machine"]).filter(document=query),
        )
    return (
        Address.objects.filter(Q(number__icontains=text) | Q(name__icontains=text)),
        Machine.objects.filter(number__icontains=text),
    )


def estimated_matches(text, using):
    """(matches, documents): the planner's estimates of the tickets whose documents match `text`
    and of all tickets (PostgreSQL), kept a few minutes per text
    (`tickets.search.planner_estimate`): they only choose a plan, never what is found."""
    query = f"websearch_to_tsquery('{SEARCH_CONFIG}', %s)"
    return ticket_search.planner_estimate(
        ("desk", text),
        using,
        "SELECT 1 FROM desk_search_document AS doc "  # noqa: S608
        f"WHERE doc.public_document @@ {query} OR doc.internal_document @@ {query} "
        "UNION ALL SELECT 1 FROM desk_search_document",
        [text, text],
        lambda plan: tuple(branch["Plan Rows"] for branch in plan["Plans"]),
    )


def search_tickets(queryset, user, text, *, few=False):
    """The tickets of `queryset` that match `text` (see the module docstring). `queryset` must
    already be scoped to `user`; the text is matched in what `user` may read.
    `few`: the queryset holds few tickets (an open queue of one person), so each ticket's own
    document is read; otherwise the estimated matches choose (see the module docstring)."""
    text = ticket_search.clean(text)
    if not text:
        return queryset
    using = queryset.db
    form = ticket_search.TICKET
    if not few and connections[using].vendor == "postgresql":
        matching, everything = estimated_matches(text, using)
        if matching * matching < WALK_FACTOR * everything:
            form = ticket_search.INDEX
    addresses, machines = _matching(text, using)
    condition = ticket_search.text_condition(
        user, text, using=using, form=form, addresses=addresses, machines=machines
    )
    number = ticket_search.number_condition(text)
    if number is not None:
        condition |= number
    return queryset.filter(condition)
