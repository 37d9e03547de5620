"""The desk's queues. They narrow the tickets a desk user may see by person and team for
convenience; access itself is `Ticket.objects.visible_to(user)` (every ticket, for the desk)."""

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import Team
from portal.db import compile_for_any_id, for_id
from tickets.forms import CappedCount, capped_count_columns, list_count_cap

MINE, TEAMS, OPEN, CLOSED, ALL = "mine", "teams", "open", "closed", "all"
DEFAULT_QUEUE = MINE

LABELS = {
    MINE: _("My tickets"),
    TEAMS: _("My teams"),
    OPEN: _("All open"),
    CLOSED: _("Closed"),
    ALL: _("All tickets"),
}
HELP = {
    MINE: _("Open tickets I am responsible for."),
    TEAMS: _("Open tickets of my teams that nobody has taken yet."),
    OPEN: _("Every open ticket."),
    CLOSED: _("Every closed ticket."),
    ALL: _("Every ticket, open or closed."),
}
CHOICES = list(LABELS.items())


# The queues whose condition names the user.
BY_USER = (MINE, TEAMS)


def conditions(user):
    """queue -> Q over Ticket. "My teams" are the teams `user` is a member of; the team ids are
    a subquery, so a queue (or all the counts) is still one query."""
    return conditions_for_id(user.pk)


def conditions_for_id(user_id):
    """`conditions` for a user's id (the queues of BY_USER name it; the others do not)."""
    is_open = Q(closed_at__isnull=True)
    my_teams = Team.objects.filter(members=user_id).values("pk")
    return {
        MINE: is_open & Q(responsible_user=user_id),
        TEAMS: is_open & Q(responsible_user__isnull=True, responsible_team__in=my_teams),
        OPEN: is_open,
        CLOSED: Q(closed_at__isnull=False),
        ALL: Q(),
    }


def counts(queryset, user, extra=None):
    """The number of tickets in every queue, in one query over `queryset` (the user's scope).
    Each is counted up to the list cap (as `tickets.forms.capped_counts` counts): "Closed" and
    "All tickets" grow with the years of history and show "more than 1,000" instead of a count
    of the whole table; the open queues are served by the partial indexes on open tickets.
    `extra` ({name: queryset}) is counted in the same statement (a filtered list's own total).

    When the scope narrows nothing (the desk's users see every ticket) the queue counts' SQL is
    the same for every user but the user's id: it is compiled once per process and database
    (`_queue_counts_sql`), which spared a desk page about 2 ms of CPU. A scope with any
    condition is compiled as it is, on every request."""
    return _counts(queryset, user, extra)[0]


def counts_with_page(queryset, user, listed, page):
    """(counts, ids): the queue counts as `counts` counts them, with the capped count of
    `listed` as "rows", and the ids of the `page` slice of `listed` (an ordered queryset of
    few tickets, already scoped; PostgreSQL), in ONE statement that reads `listed` once.

    For a searched "My tickets": counting the matches and finding a page of them each walked
    the person's open tickets and checked their search documents; reading the list's first
    ids once (up to the cap, or to the page's end) gives both (1M tickets, "hydraulic": 9 + 5
    ms of SQL became 7)."""
    return _counts(queryset, user, None, listed=listed, page=page)


def _counts(queryset, user, extra, *, listed=None, page=None):
    limit = list_count_cap()
    using = queryset.db
    if _narrows_nothing(queryset):
        columns, params = _queue_counts_sql(queryset, user.pk, limit)
    else:
        scoped = [queryset.filter(condition) for condition in conditions(user).values()]
        columns, params = capped_count_columns(scoped, using, limit)
    names = [name for name, _label in CHOICES]
    if extra:
        extra_columns, extra_params = capped_count_columns(
            extra.values(), using, limit, start=len(columns)
        )
        names, columns, params = (
            [*names, *extra],
            [*columns, *extra_columns],
            [*params, *extra_params],
        )
    statement = f"SELECT {', '.join(columns)}"
    ids = None
    if listed is not None:
        names = [*names, "rows"]
        first = listed.values_list("pk", flat=True)[: max(limit + 1, page.stop)]
        try:
            sql, listed_params = first.query.get_compiler(using=using).as_sql()
        except EmptyResultSet:
            sql, listed_params = "SELECT NULL::bigint WHERE false", ()
        # The list's first ids in its order, read once (MATERIALIZED: a CTE used twice would
        # otherwise be read twice), then counted and sliced.
        statement = (
            f"WITH listed AS MATERIALIZED (SELECT ARRAY({sql}) AS ids) "  # noqa: S608
            f"{statement}, LEAST(cardinality(listed.ids), %s), listed.ids[%s:%s] FROM listed"
        )
        params = [*listed_params, *params, limit + 1, page.start + 1, page.stop]
    with connections[using].cursor() as cursor:
        cursor.execute(statement, params)
        row = cursor.fetchone()
    if listed is not None:
        row, ids = row[:-1], row[-1]
    counts = {name: CappedCount(value, limit) for name, value in zip(names, row, strict=True)}
    return counts, ids


def _narrows_nothing(queryset):
    """Whether `queryset` is every ticket: no condition, slice, DISTINCT or set operation."""
    query = queryset.query
    return not (query.where or query.is_sliced or query.distinct or query.combinator)


_COMPILED = {}  # (model, database, limit) -> portal.db.compile_for_any_id's result


def _queue_counts_sql(queryset, user_id, limit):
    """(columns, params) of the queue counts over every ticket, for `user_id`."""
    key = (queryset.model, queryset.db, limit)
    compiled = _COMPILED.get(key)
    if compiled is None:

        def compile_sql(stand_in):
            columns, params = capped_count_columns(
                [queryset.filter(q) for q in conditions_for_id(stand_in).values()],
                queryset.db,
                limit,
            )
            return tuple(columns), params

        compiled = _COMPILED[key] = compile_for_any_id(compile_sql)
    columns, params = for_id(compiled, user_id)
    return list(columns), params
