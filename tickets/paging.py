"""Pages of a customer's tickets in "recently updated" order that stay cheap at any depth.

A customer's list is `address_id IN R(u)` ordered by `updated_at`. PostgreSQL answers it in
one of two ways: read all of the customer's tickets and sort them, or walk the global
`updated_at` index and skip every other customer's tickets. It picks the walk when it expects
the customer's tickets to be spread evenly through time; for a customer whose tickets are old,
or for a deep page, the walk reads a large part of the whole table (at 1,000,000 tickets,
page 40 of the benchmark customer skipped 72,000 rows; docs/performance.md).

`AddressMergedList` fetches a page instead as the merge of one index range per address: each
address contributes at most `offset + page size` rows from the `(address_id, updated_at DESC)`
indexes, so a page costs at most that many index entries per address, whatever the table
holds. Then the page's rows are read by primary key. It is used only where it is safe and
pays: PostgreSQL (SQLite cannot order the branches of a UNION), an `updated_at` order, a
bounded number of addresses and no text search (whose conditions should not run once per
address).

`SearchedList` (further down) reads a customer's *searched* list: the page's ids and both
capped counts (open, closed) in one statement that reads the matching search documents once
(for an unfiltered list in recency order, from the documents alone), then the page's rows by
primary key (docs/performance.md, third and fifth optimisation passes).
"""

from contextlib import nullcontext

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import BooleanField, Expression, F, Q, Subquery
from django.db.models.expressions import RawSQL

from access import policy
from portal.db import precompiled, prepared

from . import search
from .forms import (
    CLOSED,
    OPEN,
    CappedCount,
    capped_count_columns,
    capped_counts_statement,
    list_count_cap,
    page_slice,
)
from .models import Ticket

# Up to this many addresses the merge is used; more sites than that and the planner's own
# choice (reading the customer's tickets and sorting them) is the right one anyway.
MERGE_MAX_ADDRESSES = 64

# Orderings the per-address indexes serve: (ORDER BY of the page, columns to read per branch).
MERGEABLE = {
    ("-updated_at", "-pk"): ("pk", "updated_at"),
    ("updated_at", "pk"): ("pk", "updated_at"),
}


def can_merge(queryset, address_ids, ordering):
    return (
        connections[queryset.db].vendor == "postgresql"
        and tuple(ordering) in MERGEABLE
        and 1 < len(address_ids) <= MERGE_MAX_ADDRESSES
    )


class PageList:
    """What the paginator's stand-ins below share: plain slices only, each read by
    `page(start, stop)`; `count()` is `queryset`'s (the views give the paginator the count)."""

    ordered = True  # the paginator checks that pages are stable

    def __getitem__(self, item):
        if not isinstance(item, slice) or item.step not in (None, 1):
            raise TypeError(f"{type(self).__name__} supports plain slices only")
        start, stop = item.start or 0, item.stop
        if stop is None or stop <= start:
            return []
        return self.page(start, stop)

    def count(self):
        return self.queryset.count()


def rows_in_order(queryset, ids):
    """The rows of `queryset` with primary keys `ids`, in that order (one query); an id outside
    `queryset` is left out. Read by primary key, the statement's plan is the same for any ids:
    prepared (portal.db)."""
    with prepared(queryset.db):
        rows = queryset.order_by().in_bulk(ids)
    return [rows[pk] for pk in ids if pk in rows]


class AddressMergedList(PageList):
    """A sliceable stand-in for `queryset` (the user's scope, filtered, ordered by `ordering`,
    with its select_related) for the paginator: a slice is read as the merge of one index
    range per address of `ranges` (the same filters without the scope) and its rows are then
    fetched through `queryset`, in page order. Rows outside `queryset` are never returned."""

    def __init__(self, queryset, address_ids, ordering, *, ranges, prepare=False):
        self.queryset = queryset
        self.ranges = ranges
        self.prepare = prepare
        self.address_ids = sorted(address_ids)
        self.ordering = tuple(ordering)

    def page(self, start, stop):
        merged = merged_ids(self.ranges, self.address_ids, self.ordering, start, stop)
        # With ranges by address and open/closed alone (`prepare`): one index range per
        # address, whatever it holds, the same plan for every customer, so the statement is
        # prepared (portal.db). Not with other filters: how far a range is walked for a status
        # or a type depends on how common it is, which only the values tell the planner.
        with prepared(self.queryset.db) if self.prepare else nullcontext():
            ids = [row[0] for row in merged]
        return rows_in_order(self.queryset, ids)


def merged_ids(ranges, address_ids, ordering, start, stop):
    """The (id, sort column) rows of the `start:stop` slice of `ranges` in `ordering`, as the
    merge of one index range per address of `address_ids` (at most `stop` entries each)."""
    base = ranges.order_by().values_list(*MERGEABLE[ordering])
    branches = [
        base.filter(address_id=address_id).order_by(*ordering)[:stop] for address_id in address_ids
    ]
    return branches[0].union(*branches[1:], all=True).order_by(*ordering)[start:stop]


def in_state(tickets, state):
    """`tickets` open (OPEN), closed (CLOSED) or all (anything else)."""
    if state == OPEN:
        return tickets.open()
    if state == CLOSED:
        return tickets.closed()
    return tickets


# Pages of a plain list (below) up to this deep are read by precompiled statements; each page
# depth is a statement of its own, so deeper pages are read by the ORM as before.
PLAIN_PRECOMPILED_ROWS = 50 * 25


def _plain_ids(ordering, state, start, stop, address_ids):
    """`merged_ids` of a list with no filter but `state`."""
    return merged_ids(in_state(Ticket.objects.all(), state), address_ids, ordering, start, stop)


def _plain_rows(state, related, scope, ids):
    tickets = in_state(policy.tickets_in_scope(Ticket.objects.all(), scope), state)
    return tickets.select_related(*related).filter(pk__in=ids)


def plain_state_counts(scope, limit=None):
    """{OPEN: CappedCount, CLOSED: CappedCount} of the tickets of `scope` (a
    `policy.ticket_address_scope` value), as `capped_counts` counts them, in one statement
    compiled once per shape."""
    limit = list_count_cap() if limit is None else limit
    ((open_count, closed_count),) = precompiled(_plain_counts, limit).rows(scope)
    return {OPEN: CappedCount(open_count, limit), CLOSED: CappedCount(closed_count, limit)}


def _plain_counts(limit, scope):
    tickets = policy.tickets_in_scope(Ticket.objects.all(), scope)
    return capped_counts_statement([tickets.open(), tickets.closed()], tickets.db, limit)


class PlainList(PageList):
    """A customer's list with no filter but open/closed (`state`) and no search, in a
    mergeable order over 2 to MERGE_MAX_ADDRESSES addresses, for the paginator: a page's ids
    are read as `AddressMergedList` reads them and its rows by id through the user's scope
    (`scope`, a `policy.ticket_address_scope` value; a row outside it is never returned),
    with statements compiled once per shape and page (portal.db.Precompiled). Pages deeper
    than PLAIN_PRECOMPILED_ROWS are read by `deeper` (an AddressMergedList)."""

    def __init__(self, deeper, *, scope, address_ids, ordering, state, related):
        self.queryset = deeper.queryset  # count()
        self.deeper = deeper
        self.scope, self.address_ids = scope, frozenset(address_ids)
        self.ordering, self.state, self.related = tuple(ordering), state, tuple(related)

    def page(self, start, stop):
        if stop > PLAIN_PRECOMPILED_ROWS:
            return self.deeper.page(start, stop)
        ids_of = precompiled(_plain_ids, self.ordering, self.state, start, stop)
        rows_of = precompiled(_plain_rows, self.state, self.related)
        # One index range per address and rows by id: prepared, as AddressMergedList's.
        with prepared(self.queryset.db):
            ids = [row[0] for row in ids_of.rows(self.address_ids)]
            rows = {row.pk: row for row in rows_of.rows(self.scope, ids)}
        return [rows[pk] for pk in ids if pk in rows]


# ---------------------------------------------------------------------------------------------
# A customer's searched list, with its open and closed counts, in one statement.

# When to walk the customer's tickets instead of collecting every match first: for M estimated
# matches among the customer's N documents, when M * M >= WALK_FACTOR * (cap + 1) * N.
# Collecting costs about 6 µs a match, however few are counted or shown; the walk about 4.5 µs
# a ticket, and it stops at cap + 1 matches per count: about 2 * (cap + 1) * N / M tickets.
# Measured at 1,000,000 tickets (benchmark customer: 13,620 tickets), whole statement:
# collected "hydraulic" (12 %) 10-14 ms, "sensor" (20 %) 16, "error" (41 %) 24, "machine" (73 %)
# 50; walked 46, 35, 22-24 and 15-17 ms. They meet near "error": M * M = 2.25 * 1,001 * N.
WALK_FACTOR = 2
# The same choice when the documents alone serve the list (no join with the tickets): about
# 2.7 µs a match. Measured at 1,000,000 tickets, same customer: "hydraulic" 6.7 ms (walked
# 48.5), "sensor" 8.8 (35.6), "error" (41 %) 14.9 (24.3), "machine" (73 %) 25.2 (17.5); they
# meet near 56 %: M * M = 4.2 * 1,001 * N.
ALONE_WALK_FACTOR = 4


def searched_list(queryset, *, counted, user, text, page=None, page_size=25, unfiltered=None):
    """A `SearchedList` of `queryset` searched for `text`, when that is how the list is read
    (PostgreSQL, an external user, words rather than a ticket number); else None.

    `queryset`: the page's tickets *without* the text search, already scoped to `user`,
    filtered, ordered and with its `select_related`. `counted`: the same tickets without the
    open/closed choice (the two counts are taken from it). `page`: the page number asked for
    (`?page=`), read in the same statement as the counts; `page_size`: rows a page.
    `unfiltered`: when the list is narrowed by nothing but the user's scope and open/closed,
    which of them it shows (OPEN, CLOSED or ALL from tickets.forms); None when other filters
    apply. Such a list in recency order is read from the matching documents alone."""
    text = search.clean(text)
    grants = policy.grants_for(user)
    if (
        not text
        or connections[queryset.db].vendor != "postgresql"
        or not grants.external
        or not grants.read_ids
        or search.number_condition(text) is not None
        or not queryset.query.order_by
        or not all(isinstance(name, str) for name in queryset.query.order_by)
    ):
        return None
    scope = policy.ticket_address_scope(user)
    direction = DOCUMENT_ORDERS.get(tuple(queryset.query.order_by))
    alone = unfiltered is not None and scope is not None and direction is not None
    matches, documents = search.estimated_customer_matches(text, grants.read_ids, queryset.db)
    factor = ALONE_WALK_FACTOR if alone else WALK_FACTOR
    walk = matches * matches >= factor * (list_count_cap() + 1) * documents
    return SearchedList(
        queryset,
        counted=counted,
        user=user,
        text=text,
        walk=walk,
        prefetch=page_slice(page, page_size),
        alone=(unfiltered, direction, sorted(scope)) if alone and not walk else None,
    )


# The list orders the documents serve by themselves (their `updated_at`, desk/migrations/0004).
DOCUMENT_ORDERS = {("-updated_at", "-pk"): "DESC", ("updated_at", "pk"): "ASC"}


class SearchedList(PageList):
    """A sliceable stand-in for a customer's searched ticket list (PostgreSQL), read together
    with its open and closed counts (`state_counts`) in ONE statement: the page's ids with
    both capped counts; then the page's rows by primary key through `queryset`.

    Two forms, chosen by `searched_list` from the planner's estimate of the matches:

    * collected (a word most of the customer's tickets lack): the matching documents' ids are
      read once, by one scan of the index keyed by address and word together
      (search.customer_documents), into the statement's CTE (`search.FOUND`); the counts and
      the page join them to the customer's tickets, which an index serves without reading
      the tickets (for the recency orders).
      `alone` (a list with no filter but the scope and open/closed, in recency order): the
      documents' own `updated_at` and `open` give the counts and the page, no join at all;
      the documents are read for the addresses of the user's scope
      (`policy.ticket_address_scope`), so the counts are the scope's.
    * walked (a word most tickets hold): the tickets are walked (the page in list order), each
      ticket's own document checked, until the count's cap or the page is full.

    The documents only narrow: every id comes out of `queryset` or `counted`, the user's scope,
    and the rows are read through `queryset` again, so a row outside it is never returned."""

    def __init__(self, queryset, *, counted, user, text, walk, prefetch, alone=None):
        self.base = queryset
        self.counted = counted
        self.text = text
        self.walk = walk
        self.address_ids = sorted(policy.grants_for(user).read_ids)
        self.queryset = search.search_tickets(queryset, user, text)  # what it stands for
        self.prefetch = prefetch
        self.alone = alone  # (OPEN/CLOSED/ALL, "ASC"/"DESC", the scope's address ids) or None
        self._read = None  # (open, closed, page's ids) once read

    @property
    def state_counts(self):
        """{"open": CappedCount, "closed": CappedCount} of the matching tickets, each counted up
        to the list's cap (read with the page's ids asked for, in the same statement)."""
        opened, closed, _ids = self._statement()
        limit = list_count_cap()
        return {"open": CappedCount(opened, limit), "closed": CappedCount(closed, limit)}

    def page(self, start, stop):
        prefetched = self.prefetch
        if start == prefetched.start and stop <= prefetched.stop:
            ids = self._statement()[2][: stop - start]
        else:  # a page other than the one asked for (past the end: the last one)
            ids = self._statement(slice(start, stop), counts=False)[2]
        return rows_in_order(self.base, ids)

    def _statement(self, page=None, *, counts=True):
        """(open, closed, ids of `page`) in one statement (`page`: the prefetched slice)."""
        if page is None and self._read is not None:
            return self._read
        if self.alone is not None:
            statement, params = self._documents_alone(page or self.prefetch, counts=counts)
        else:
            statement, params = self._joined(page or self.prefetch, counts=counts)
        with connections[self.base.db].cursor() as cursor:
            cursor.execute(statement, params)
            row = cursor.fetchone()
        result = (row[0], row[1], row[2]) if counts else (None, None, row[0])
        if page is None:
            self._read = result
        return result

    def _documents_alone(self, page, *, counts):
        """(sql, params) of `_statement` read from the matching documents alone (`alone`)."""
        shown, direction, scope = self.alone
        documents, params = search.customer_documents(self.text, scope, state=True)
        parts, params = [], list(params)
        limit = list_count_cap() + 1
        for condition in ("open", "NOT open") if counts else ():
            parts.append(
                f"(SELECT COUNT(*) FROM (SELECT FROM {search.FOUND} "  # noqa: S608 (constants)
                f"WHERE {condition} LIMIT %s) AS capped_{len(parts)})"
            )
            params.append(limit)
        where = {OPEN: "WHERE open", CLOSED: "WHERE NOT open"}.get(shown, "")
        parts.append(
            f"ARRAY(SELECT ticket_id FROM {search.FOUND} {where} "  # noqa: S608 (constants)
            f"ORDER BY updated_at {direction}, ticket_id {direction} LIMIT %s OFFSET %s)"
        )
        params.extend((page.stop - page.start, page.start))
        statement = f"WITH {search.FOUND} AS MATERIALIZED ({documents}) SELECT {', '.join(parts)}"
        return statement, params

    def _joined(self, page, *, counts):
        """(sql, params) of `_statement` joining the matches with the tickets."""
        using = self.base.db
        found = self._found()
        opened = self.counted.open()
        # The closed ones as "not open": the same tickets, but read from the indexes of the
        # list's order and of the open tickets alone (no index holds `closed_at` with the id).
        closed = self.counted.exclude(pk__in=opened.values("pk"))
        counted = [opened.filter(found), closed.filter(found)] if counts else []
        parts, params = capped_count_columns(counted, using, list_count_cap())
        sql, part_params = self._page_ids(found, page, using)
        parts.append(f"ARRAY({sql})")
        params.extend(part_params)
        statement = f"SELECT {', '.join(parts)}"
        if not self.walk:
            documents, documents_params = search.customer_documents(self.text, self.address_ids)
            statement = f"WITH {search.FOUND} AS MATERIALIZED ({documents}) {statement}"
            params = [*documents_params, *params]
        return statement, params

    def _found(self):
        """The condition on a ticket: its document matches (see the class docstring)."""
        if self.walk:
            return Q(search.DocumentMatch(self.text, within=self.address_ids, form=search.TICKET))
        found = f"SELECT ticket_id FROM {search.FOUND}"  # noqa: S608 (a constant)
        return Q(pk__in=RawSQL(found, ()))  # noqa: S611 (no value in it)

    def _page_ids(self, found, page, using):
        """(sql, params): the ids of the `page` slice of the matching tickets, in list order."""
        ordering = self.base.query.order_by
        if not self.walk:
            ids = self.base.filter(found).values_list("pk", flat=True)[page.start : page.stop]
            try:
                return ids.query.get_compiler(using=using).as_sql()
            except EmptyResultSet:
                return "SELECT NULL::bigint WHERE false", ()
        # Walked: the tickets in list order (only their ids and sort columns; for the recency
        # orders from an index alone), then each one's document checked until the page is full.
        # `OFFSET 0` keeps the check out of the ordered list (else the planner would check
        # every ticket before it sorted them); the ORDER BY outside repeats the one inside, so
        # the rows are not sorted again.
        columns = {f"o{index}": F(name.lstrip("-")) for index, name in enumerate(ordering)}
        listed = self.base.values(ticket=F("pk"), **columns)
        try:
            sql, params = listed.query.get_compiler(using=using).as_sql()
        except EmptyResultSet:
            return "SELECT NULL::bigint WHERE false", ()
        check, check_params = search.customer_document_matches(
            "listed.ticket", self.text, self.address_ids
        )
        order = ", ".join(
            f"listed.o{index} {'DESC' if name.startswith('-') else 'ASC'}"
            for index, name in enumerate(ordering)
        )
        return (
            f"SELECT listed.ticket FROM ({sql} OFFSET 0) AS listed "  # noqa: S608 (see above)
            f"WHERE {check} ORDER BY {order} LIMIT %s OFFSET %s",
            (*params, *check_params, page.stop - page.start, page.start),
        )


# ---------------------------------------------------------------------------------------------
# A page whose rows are chosen before they are joined.


class ChosenFirstList(PageList):
    """A sliceable stand-in for an ordered `queryset` (with its select_related) for the
    paginator: a slice is one statement that chooses the page's ids in a subquery of its own
    (ordered and limited: PostgreSQL can read them from an index alone) and joins and returns
    only those rows, in the queryset's order. Joined before the LIMIT, PostgreSQL preferred
    walking every open ticket by recency for the desk's "My tickets" (6,900 rows read for a
    page of 50 at 1,000,000 tickets). The outer statement applies `queryset`'s conditions again,
    so a row outside it is never returned."""

    def __init__(self, queryset):
        self.queryset = queryset

    def page(self, start, stop):
        return list(self.queryset.filter(pk__in=self.queryset.values("pk")[start:stop]))


class AmongChosen(Expression):
    """`<column> = ANY(ARRAY(<subquery>))` (PostgreSQL): the subquery runs once as an initial
    step, and the statement around it is planned for a short list of ids. As `IN (<subquery>)`
    PostgreSQL plans a join with the subquery instead, which cost the dashboard's statements
    0.2–0.75 ms more planning each (1,000,000 tickets) for the same plan."""

    conditional = True

    def __init__(self, column, subquery):
        super().__init__(output_field=BooleanField())
        self.column, self.subquery = column, subquery

    def get_source_expressions(self):
        return [self.column, self.subquery]

    def set_source_expressions(self, expressions):
        self.column, self.subquery = expressions

    def as_sql(self, compiler, connection):
        column, column_params = compiler.compile(self.column)
        subquery, subquery_params = compiler.compile(self.subquery)  # "(SELECT …)"
        return f"{column} = ANY(ARRAY{subquery})", (*column_params, *subquery_params)


def chosen_first(queryset, count):
    """The first `count` rows of the ordered `queryset` (with its select_related) in one
    statement whose ids are chosen before the join, as tickets.paging.ChosenFirstList reads
    them (on PostgreSQL with `AmongChosen`). The statement applies `queryset`'s conditions
    again, so a row outside it is never returned."""
    return list(chosen_first_query(queryset, count))


def chosen_first_query(queryset, count):
    """The queryset `chosen_first` reads (count >= 1)."""
    if connections[queryset.db].vendor != "postgresql":
        return queryset.filter(pk__in=queryset.values("pk")[:count])  # as ChosenFirstList
    return queryset.filter(AmongChosen(F("pk"), Subquery(queryset.values("pk")[:count])))
