"""Ticket search, shared by the portal's ticket list and the desk (`desk.search`).

What matches, on PostgreSQL: full-text search with the 'simple' configuration (no stemming, so
German and English text behave the same) in `websearch_to_tsquery` syntax — whole words,
"quoted phrases", `or`, `-word`. A ticket matches when its *search document* holds the words,
wherever they stand: the subject and every message the user may read. External users search
the public document (subject, descriptions and replies); internal users also the internal
notes, a second document matched on its own. A number (optionally with "#") also matches the
ticket with exactly that number.

How: one row per ticket in `desk_search_document` (`ticket_id`, copies of `address_id`,
`machine_id`, `updated_at` and whether it is `open`, `public_document`, `internal_document`),
created and kept current in the same transaction as every write by the triggers of
`desk/migrations/0003_search_documents` and `0004_search_document_state` (read their
docstrings). The condition has three forms (`JOIN`, `INDEX`, `TICKET`, described where they are
defined): the portal lets PostgreSQL choose between the index and a walk of the list (a
semi-join); the desk picks one by the size of the queue and the estimated matches. For an
external user the index scan is keyed by the user's addresses as well as the words
(`ARRAY[address_id] && R(u)` on the index `((ARRAY[address_id]), (ARRAY[machine_id]),
public_document)`), so it reads the customer's matches, not every match of the whole history.
A customer's searched list (`customer_documents`) reads an index keyed by address and word
together (desk/migrations/0006): GIN intersects the two columns of the first index only after
reading the word's posting list across every customer, the keyed one reads the customer's own.

The addresses only narrow the index scan: access is the caller's scope (`visible_to(user)`),
which every result still passes, so a document that were somehow stale could hide a ticket but
never show one. (The counts of a customer's unfiltered searched list are taken from the
documents alone, scoped by `policy.ticket_address_scope`: they trust the documents' addresses,
which the triggers keep; tickets.paging.SearchedList.) Internal notes are in no document an
external user's search reads.

Elsewhere (SQLite, the embedded default) the text matches, case-insensitively, a substring of
the subject or of a message the user may read (`policy.messages_visible`); no index.
"""

import json
import re
import threading
import time

from django.db import connections
from django.db.models import BooleanField, Expression, F, Q, Subquery

from access import policy

from .models import Message

SEARCH_CONFIG = "simple"
MAX_LENGTH = 200
DOCUMENTS_TABLE = "desk_search_document"
_NUMBER = re.compile(r"#?\s*(\d{1,18})")


def clean(text):
    """The search text as searched: stripped, at most MAX_LENGTH characters."""
    return (text or "").strip()[:MAX_LENGTH]


def number_condition(text):
    """`Q(number=…)` when `text` is a ticket number ("123456", "#123456"), else None."""
    number = _NUMBER.fullmatch(text)
    return Q(number=int(number.group(1))) if number else None


# The forms of the same condition (`DocumentMatch.form`):
# * JOIN: `pk IN (SELECT ticket_id FROM documents WHERE …)`. As a condition of its own (ANDed
#   with the rest) PostgreSQL plans it as a semi-join and chooses, from the documents'
#   statistics, between scanning the index for every match (rare words) and walking the list in
#   its order, checking each ticket's document (common words: a page is found at once). Under an
#   OR it could only hash every match of the history: use INDEX or TICKET there.
# * INDEX: `pk = ANY (ARRAY (SELECT …))`: one index scan, its matches then looked up by primary
#   key. Never walks the list, so its cost is the number of matches: for words that match few.
# * TICKET: an `EXISTS` on the ticket's own document (by primary key): for a list of few
#   tickets, or a common word (the walk finds a page at once). `OFFSET 0` keeps it per ticket,
#   where PostgreSQL would otherwise be free to hash every match of the history instead.
JOIN, INDEX, TICKET = "join", "index", "ticket"
COLUMNS = ("pk", "address_id", "machine_id")  # the ticket's columns DocumentMatch reads


class DocumentMatch(Expression):
    """True for a ticket whose search document matches `text` (PostgreSQL only).

    `internal`: the internal notes' document matches too (staff only). `within`: key the index
    scan by these address ids (an external user's R(u); narrows, never grants). `addresses`,
    `machines`: querysets of addresses and machines; a ticket at one of them matches too (the
    desk's branches, read from the document's `address_id` and `machine_id` so that the whole
    condition is one subquery). `form`: JOIN, INDEX or TICKET (see above)."""

    output_field = BooleanField()

    def __init__(
        self, text, *, internal=False, within=None, addresses=None, machines=None, form=JOIN
    ):
        super().__init__()
        self.columns = [F(column) for column in COLUMNS]
        self.text = text
        self.internal = internal
        self.within = None if within is None else sorted(within)
        self.related = [
            (column, Subquery(queryset.order_by().values("pk")))
            for column, queryset in (("address_id", addresses), ("machine_id", machines))
            if queryset is not None
        ]
        self.form = form

    def get_source_expressions(self):
        return [*self.columns, *(subquery for _column, subquery in self.related)]

    def set_source_expressions(self, exprs):
        self.columns, subqueries = list(exprs[: len(COLUMNS)]), exprs[len(COLUMNS) :]
        self.related = [
            (column, subquery)
            for (column, _old), subquery in zip(self.related, subqueries, strict=True)
        ]

    def as_sql(self, compiler, connection):
        ticket_sql, ticket_params = compiler.compile(self.columns[0])
        names = ["public_document", "internal_document"] if self.internal else ["public_document"]
        query = f"websearch_to_tsquery('{SEARCH_CONFIG}', %s)"
        arms = [f"doc.{name} @@ {query}" for name in names]
        params = [self.text] * len(names)
        outside, outside_params = [], []  # TICKET: the address and machine branches
        for column, subquery in self.related:
            subquery_sql, subquery_params = compiler.compile(subquery)
            if self.form == TICKET:
                # On the ticket's own column, outside the per-ticket subquery: the addresses
                # and machines are then read once, and costed once.
                column_sql, column_params = compiler.compile(self.columns[COLUMNS.index(column)])
                outside.append(f"{column_sql} = ANY (ARRAY {subquery_sql})")
                outside_params.extend([*column_params, *subquery_params])
            else:
                arms.append(f"ARRAY[doc.{column}] && ARRAY {subquery_sql}")
                params.extend(subquery_params)
        match = " OR ".join(arms)
        if self.within is not None:
            match = f"ARRAY[doc.address_id] && %s::bigint[] AND ({match})"
            params = [self.within, *params]
        # Only constants and SQL compiled by Django are interpolated; every value is a parameter.
        documents = f"SELECT doc.ticket_id FROM {DOCUMENTS_TABLE} AS doc"  # noqa: S608
        if self.form == TICKET:
            exists = (
                f"EXISTS ({documents} WHERE doc.ticket_id = {ticket_sql} AND ({match}) OFFSET 0)"
            )
            sql = f"({' OR '.join([exists, *outside])})"
            return sql, (*ticket_params, *params, *outside_params)
        if self.form == INDEX:
            sql = f"{ticket_sql} = ANY (ARRAY ({documents} WHERE {match}))"
        else:
            sql = f"{ticket_sql} IN ({documents} WHERE {match})"
        return sql, (*ticket_params, *params)


def text_condition(user, text, *, using, form=JOIN, addresses=None, machines=None):
    """A condition on Ticket: the text of the ticket that `user` may read matches `text` (an
    already cleaned, non-empty search text), or the ticket is at one of `addresses` or about one
    of `machines` (optional querysets, matched on the document's copy of the ticket's columns on
    PostgreSQL). `using`: the database alias the query runs on; `form`: how PostgreSQL
    evaluates it (JOIN, INDEX or TICKET, see above)."""
    grants = policy.grants_for(user)
    if connections[using].vendor == "postgresql":
        # The documents mirror `policy.messages_visible`: external users never see internal
        # notes (tests/tickets/test_search.py checks every message kind against the policy).
        return Q(
            DocumentMatch(
                text,
                internal=grants.internal,
                within=grants.read_ids if grants.external else None,
                addresses=addresses,
                machines=machines,
                form=form,
            )
        )
    messages = policy.messages_visible(Message.objects.filter(body__icontains=text), user)
    condition = Q(subject__icontains=text) | Q(pk__in=messages.values("ticket_id"))
    if addresses is not None:
        condition |= Q(address_id__in=addresses.values("pk"))
    if machines is not None:
        condition |= Q(machine_id__in=machines.values("pk"))
    return condition


# A customer's search as one statement (`tickets.paging.SearchedList`, PostgreSQL): the pieces
# of SQL it is assembled from, and the estimate that chooses between its two forms.
FOUND = "search_found"  # the statement's CTE: the ids of the customer's matching documents


def customer_documents(text, address_ids, *, state=False):
    """(sql, params): the ids of the tickets at `address_ids` whose public document matches
    `text`, read by one scan of the index keyed by address and word together
    (desk/migrations/0006): the customer's own posting lists, not the word's across every
    customer. The keyed query may find more than `text` does (negations dropped, phrases
    loosened); `text` itself is then applied to each document read (`ts_match_vq`: a function,
    so the planner does not scan the unkeyed index for it as well). A query with no indexable
    part (only negations) reads the addresses' documents by `desk_search_public_idx` instead;
    the choice is made while planning, from the values. `state`: with the tickets'
    `updated_at` and `open` kept on the documents (desk/migrations/0004)."""
    columns = "doc.ticket_id, doc.updated_at, doc.open" if state else "doc.ticket_id"
    query = f"websearch_to_tsquery('{SEARCH_CONFIG}', %s)"
    # The keyed query is computed while planning, once: the CASE asks only whether the query
    # has an indexable part (`desk_search_indexable`, which the keyed query asks too).
    sql = (
        f"SELECT {columns} FROM {DOCUMENTS_TABLE} AS doc "  # noqa: S608 (constants only)
        f"WHERE CASE WHEN NOT desk_search_indexable({query}) "
        f"THEN ARRAY[doc.address_id] && %s::bigint[] "
        f"ELSE desk_search_keyed(doc.address_id, doc.public_document) "
        f"@@ desk_search_keyed_query(%s::bigint[], {query}) "
        f"AND doc.address_id = ANY (%s::bigint[]) END "
        f"AND ts_match_vq(doc.public_document, {query})"
    )
    addresses = sorted(address_ids)
    return sql, [text, addresses, addresses, text, addresses, text]


def address_documents(text, address_ids):
    """(sql, params): as `customer_documents`, by the unkeyed index over the addresses and the
    words: the form the planner estimates well (`estimated_customer_matches`), and the one a
    check of a single ticket's document reads by primary key (`customer_document_matches`)."""
    sql = (
        f"SELECT doc.ticket_id FROM {DOCUMENTS_TABLE} AS doc "  # noqa: S608 (constants only)
        f"WHERE ARRAY[doc.address_id] && %s::bigint[] "
        f"AND doc.public_document @@ websearch_to_tsquery('{SEARCH_CONFIG}', %s)"
    )
    return sql, [sorted(address_ids), text]


def customer_document_matches(ticket_sql, text, address_ids):
    """(sql, params): true when the public document of the ticket `ticket_sql` (a column)
    matches `text`, read by primary key for that one ticket (`OFFSET 0` keeps it so: the
    planner may not turn it into a scan of every match)."""
    documents, params = address_documents(text, address_ids)
    return f"EXISTS ({documents} AND doc.ticket_id = {ticket_sql} OFFSET 0)", params


ESTIMATE_SECONDS = 300
_estimates = {}  # (database alias, *key) -> (valid until, what `read` took from the plan)
_estimates_lock = threading.Lock()


def planner_estimate(key, using, sql, params, read):
    """`read(plan)` of PostgreSQL's plan for `sql` (EXPLAIN only: the statement never runs),
    kept ESTIMATE_SECONDS per `key` (at most 1,000 keys) and database. Estimates only choose
    how a search is read, never what it finds; the desk's search and a customer's use them."""
    key, now = (using, *key), time.monotonic()
    with _estimates_lock:
        cached = _estimates.get(key)
    if cached and cached[0] > now:
        return cached[1]
    with connections[using].cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):  # Django has psycopg return json as text
        plan = json.loads(plan)
    estimate = read(plan[0]["Plan"])
    with _estimates_lock:
        if len(_estimates) > 1000:
            _estimates.clear()
        _estimates[key] = (now + ESTIMATE_SECONDS, estimate)
    return estimate


def estimated_customer_matches(text, address_ids, using):
    """(matches, documents): the planner's estimates of the documents at `address_ids` that
    match `text` and of all documents there (PostgreSQL; from the statistics of the documents'
    index expressions, close to the truth for rare and common words alike)."""
    addresses = tuple(sorted(address_ids))
    documents, params = address_documents(text, addresses)

    def read(everything):
        plans = everything["Plans"]
        (count,) = (node for node in plans if node["Parent Relationship"] == "InitPlan")
        return count["Plans"][0]["Plan Rows"], everything["Plan Rows"]

    # The matches as an InitPlan of the scan of all the customer's documents: two estimates
    # in one plan that is never parallel (a UNION ALL could be, with rows per worker).
    return planner_estimate(
        ("customer", text, addresses),
        using,
        f"SELECT (SELECT COUNT(*) FROM ({documents}) AS matching) "  # noqa: S608 (constants only)
        f"FROM {DOCUMENTS_TABLE} AS doc WHERE ARRAY[doc.address_id] && %s::bigint[]",
        [*params, list(addresses)],
        read,
    )


def search_tickets(queryset, user, text):
    """The tickets of `queryset` (already scoped to `user`) whose number is `text`, or whose
    subject and messages `user` may read match it (see the module docstring)."""
    text = clean(text)
    if not text:
        return queryset
    number = number_condition(text)
    if number is None:
        return queryset.filter(text_condition(user, text, using=queryset.db))
    return queryset.filter(number | text_condition(user, text, using=queryset.db, form=INDEX))
