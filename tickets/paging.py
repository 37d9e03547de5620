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
"""

from django.db import connections

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


class AddressMergedList:
    """A sliceable stand-in for `queryset` (the user's scope, filtered, ordered by `ordering`,
    with its select_related) for the paginator: a slice is read as the merge of one index
    range per address of `ranges` (the same filters without the scope) and its rows are then
    fetched through `queryset`, in page order. Rows outside `queryset` are never returned."""

    ordered = True  # the paginator checks that pages are stable

    def __init__(self, queryset, address_ids, ordering, *, ranges):
        self.queryset = queryset
        self.ranges = ranges
        self.address_ids = sorted(address_ids)
        self.ordering = tuple(ordering)

    def __getitem__(self, item):
        if not isinstance(item, slice) or item.step not in (None, 1):
            raise TypeError("AddressMergedList supports plain slices only")
        start, stop = item.start or 0, item.stop
        if stop is None or stop <= start:
            return []
        columns = MERGEABLE[self.ordering]
        base = self.ranges.order_by().values_list(*columns)
        branches = [
            base.filter(address_id=address_id).order_by(*self.ordering)[:stop]
            for address_id in self.address_ids
        ]
        merged = branches[0].union(*branches[1:], all=True).order_by(*self.ordering)
        ids = [row[0] for row in merged[start:stop]]
        rows = self.queryset.order_by().in_bulk(ids)
        return [rows[pk] for pk in ids if pk in rows]

    def count(self):
        return self.queryset.count()
