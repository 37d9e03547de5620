"""Server-side prepared statements for the few statements whose plan never depends on the values.

On PostgreSQL, planning a ticket page's statements cost more than running them: 2 ms to plan
the ticket with its five joined tables, 0.1 ms to run it (docs/performance.md, fourth pass).
Django sends every statement as text with its values written in (psycopg's client-side
binding) and switches psycopg's prepared statements off, so every request plans every statement
again. Inside `prepared()`, the statements a block runs are prepared instead: sent once per
connection with placeholders and executed with the values; from the sixth execution on,
PostgreSQL keeps a generic plan when it is no more costly than planning anew.

A generic plan is chosen without the values, so this is for statements whose best plan is the
same for every value: a row by its primary key or unique number, a ticket's messages and
events, the grants of a user by id. It is not for a list filtered by a user's addresses: a
customer with 12,000 tickets and one with 40 need different plans (measured: the dashboard's
"my open tickets" went from 0.4 to 12 ms under a generic plan).

Statements still go through Django's cursor wrappers (query logging, the preview's write
guard). Elsewhere (SQLite, psycopg 2) `prepared()` changes nothing.

Some statements cost more to build with the ORM than to run; those are compiled once per
process and run with each request's values: `compile_for_any_id` (the grants, the desk's queue
counts) and `row_by_pk` (one row by primary key, e.g. a filing form's checked choices).
"""

import copy
import datetime
import functools
import weakref
from contextlib import contextmanager

from django.core.exceptions import EmptyResultSet
from django.db import DEFAULT_DB_ALIAS, connections, router

try:
    import psycopg
except ImportError:  # pragma: no cover - psycopg 3 is in requirements.lock
    psycopg = None


if psycopg is not None:

    class PreparingCursor(psycopg.Cursor):
        """psycopg's server-side binding cursor that prepares the queries and writes it runs
        (psycopg keeps up to `prepared_max` of them per connection and reuses them by text).
        Savepoints and other commands are sent as they are: each has a name of its own, and
        preparing it would cost a round trip for nothing."""

        def execute(self, query, params=None, *, prepare=None, binary=None):
            if prepare is None:
                prepare = isinstance(query, str) and query.lstrip("( ").startswith(_PREPARABLE)
            return super().execute(query, params, prepare=prepare, binary=binary)

        def _send_query_prepared(self, name, pgq, *, binary=None):
            # psycopg leaves the cursor's query unset for a prepared statement; Django's query
            # log (tests, debug) reads it: the statement's text, with $n for the values.
            self._query = pgq
            return super()._send_query_prepared(name, pgq, binary=binary)


_PREPARABLE = ("SELECT", "INSERT", "UPDATE", "DELETE", "WITH")


# Timestamps. Django reads every `timestamptz` through psycopg's pure-Python parser (its
# BaseTzLoader), about 4 µs a value: a dashboard reads some 230 of them. The server sends them
# in the session's time zone, which Django sets to UTC, so each value ends in "+00" and
# `datetime.fromisoformat` (C) reads it, with Django's tzinfo (`datetime.timezone.utc`), in a
# fifth of the time. Anything else (another offset, a BC date, a year past 9999, infinity)
# takes Django's own path.
if psycopg is not None:
    from django.db.backends.postgresql.psycopg_any import BaseTzLoader

    class UTCTimestamptzLoader(BaseTzLoader):
        timezone = datetime.UTC

        def load(self, data):
            text = bytes(data)
            if text.endswith(b"+00"):
                try:
                    return datetime.datetime.fromisoformat(text.decode())
                except ValueError:
                    pass
            return super().load(data)


def read_timestamps_natively(sender, connection, **kwargs):
    """`connection_created` receiver: a new PostgreSQL connection whose values Django reads in
    UTC (USE_TZ, no TIME_ZONE of its own) reads its timestamps with `UTCTimestamptzLoader`.
    Django's cursors check that the loader's `timezone` is the connection's, as before."""
    if psycopg is None or connection.vendor != "postgresql":
        return
    raw = connection.connection
    if isinstance(raw, psycopg.Connection) and connection.timezone is datetime.UTC:
        raw.adapters.register_loader("timestamptz", UTCTimestamptzLoader)


@contextmanager
def prepared(using=DEFAULT_DB_ALIAS):
    """Run the block's statements on `using` as prepared statements (PostgreSQL only)."""
    connection = connections[using]
    if psycopg is None or connection.vendor != "postgresql":
        yield
        return
    connection.ensure_connection()
    raw = connection.connection
    if not isinstance(raw, psycopg.Connection) or raw.cursor_factory is PreparingCursor:
        yield  # psycopg 2, or already inside prepared()
        return
    # Django makes each cursor with the connection's cursor factory (create_cursor) and turns
    # psycopg's preparing off (prepare_threshold None: a cursor's `prepare=True` is then ignored
    # too). The connection belongs to this thread, so both are swapped for the block only;
    # Django's own cursors bind on the client and never prepare.
    previous = raw.cursor_factory, raw.prepare_threshold
    raw.cursor_factory = PreparingCursor
    if raw.prepare_threshold is None:
        raw.prepare_threshold = 1_000_000  # only what the block runs is prepared
    try:
        yield
    finally:
        raw.cursor_factory, raw.prepare_threshold = previous


class PreparedStatementsMixin:
    """For a view whose statements all look rows up by key or by the user's own ids: the
    request's statements, those of its template included, run inside `prepared()`."""

    def dispatch(self, request, *args, **kwargs):
        with prepared():
            response = super().dispatch(request, *args, **kwargs)
            if callable(getattr(response, "render", None)) and not response.is_rendered:
                response.render()
            return response


# Statements the ORM compiles once per process, with a stand-in for the user's id, and that
# then run with each request's id: building them cost more than running them (the grants'
# UNION ALL, the desk's queue counts; docs/performance.md). Each parameter equal to the
# stand-in is the user's id.
STAND_IN_ID = -2_000_000_017


def compile_for_any_id(compile_sql):
    """`compile_sql(user_id)` -> (sql, params), compiled for the stand-in id: (sql, params,
    slots), `slots` the positions of the id among the parameters (see `for_id`)."""
    sql, params = compile_sql(STAND_IN_ID)
    slots = tuple(i for i, param in enumerate(params) if param == STAND_IN_ID)
    if not slots or any(type(params[i]) is not int for i in slots):
        raise ValueError("the stand-in must appear as the user's id and nowhere else")
    return sql, tuple(params), slots


def for_id(compiled, user_id):
    """(sql, params) of a `compile_for_any_id` result, for `user_id`."""
    sql, params, slots = compiled
    params = list(params)
    for i in slots:
        params[i] = user_id
    return sql, params


# One row by primary key, with a SELECT written once per connection and model: the ORM spends
# more time building such a query than the database spends on the row. Weak keys: a connection
# that is gone takes its statements with it.
_BY_PK = weakref.WeakKeyDictionary()


def _by_pk_statement(model, connection):
    """(SELECT of every concrete column by primary key, the fields' attnames, the converters
    the ORM applies to each column's value: SQLite's booleans and datetimes, for instance)."""
    statements = _BY_PK.setdefault(connection, {})
    statement = statements.get(model)
    if statement is None:
        opts = model._meta
        quote = connection.ops.quote_name
        fields = opts.concrete_fields
        columns = ", ".join(quote(field.column) for field in fields)
        sql = f"SELECT {columns} FROM {quote(opts.db_table)} WHERE {quote(opts.pk.column)} = %s"  # noqa: S608
        converters = []
        for index, field in enumerate(fields):
            column = field.get_col(opts.db_table)
            found = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
            if found:
                converters.append((index, found, column))
        statement = statements[model] = (sql, [field.attname for field in fields], converters)
    return statement


def row_by_pk(model, pk, *, using=None):
    """The `model` instance with primary key `pk` (every concrete field loaded), or None: what
    `model._base_manager.filter(pk=pk).first()` returns, from a statement written once per
    connection (prepared on PostgreSQL). For a caller that has already decided the row may be
    read: the signed-in user of a session (`accounts.backends`), a filing form's choices
    checked against the policy's id sets (`tickets.forms.ChosenByIdField`)."""
    db = using or router.db_for_read(model)
    connection = connections[db]
    sql, attnames, converters = _by_pk_statement(model, connection)
    key = model._meta.pk.get_db_prep_value(pk, connection)  # int(), as filter(pk=) does
    with prepared(db), connection.cursor() as cursor:
        cursor.execute(sql, [key])
        row = cursor.fetchone()
    if row is None:
        return None
    if converters:
        row = list(row)
        for index, found, column in converters:
            for convert in found:
                row[index] = convert(row[index], column, connection)
    return model.from_db(db, attnames, row)


# Statements built from a few integer values (a user's id, the ids of its addresses, the
# tickets a page shows), compiled by the ORM once per connection and shape and then run with
# each request's values: on the dashboard, building and compiling its querysets cost more
# than PostgreSQL spent running them (docs/performance.md, seventh pass).
_STAND_IN_STRIDE = 100_000  # the largest id set a precompiled statement takes, plus one
_EMPTY = object()


def _stand_ins(values):
    """The stand-ins `build` is compiled with, one value each: an int for an int, None for
    None, a tuple of increasing ints for an id set (in the order of the set's sorted ids)."""
    stand_ins = []
    for index, value in enumerate(values):
        base = STAND_IN_ID - _STAND_IN_STRIDE * (index + 1)
        if value is None:
            stand_ins.append(None)
        elif type(value) is int:
            stand_ins.append(base)
        elif len(value) < _STAND_IN_STRIDE:
            stand_ins.append(tuple(base + 1 + position for position in range(len(value))))
        else:
            raise ValueError("too many ids for a precompiled statement")
    return stand_ins


def _is_id(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _shape(value):
    if value is None:
        return None
    if type(value) is int:
        return "id"
    if isinstance(value, (tuple, list, set, frozenset)) and all(type(v) is int for v in value):
        return len(value)
    raise TypeError(f"a precompiled statement takes ints, id sets and None, not {value!r}")


class Precompiled:
    """The rows of `build(*values)`, a queryset that is a pure function of `values`, from a
    statement the ORM compiled once per connection and *shape* (which values are None, the
    size of each id set) with stand-ins, and that each call runs with its own values.

    `values` are ints, None, or sets of ints (ids). `build` must derive the statement from
    them alone: whatever else it depends on is fixed when it is first compiled. So access
    decisions are made before, by the policy, and passed in as values (the scope of
    `access.policy.ticket_address_scope` is None, an empty set or the address ids, and each
    is its own shape). A value that `build` does not pass to the statement as a parameter
    (a LIMIT, a value written into the SQL) makes the compile fail instead of being fixed.

    Rows are what `list(build(*values))` gives (model instances with their select_related,
    values_list tuples); `sql(*values)` is the statement for a raw cursor. `build` may also
    give (sql, params), a statement it compiled itself; its rows are then a cursor's.

    One per process and `build` (module level), or `precompiled(build, *constants)`."""

    def __init__(self, build):
        self.build = build
        self._by_connection = weakref.WeakKeyDictionary()
        _EVERY_PRECOMPILED.add(self)

    def _compiled(self, values, using):
        shape = tuple(_shape(value) for value in values)
        connection = connections[using or DEFAULT_DB_ALIAS]
        entry = self._by_connection.get(connection, {}).get(shape)
        if entry is None:
            if _KEPT["count"] >= MAX_COMPILED:
                forget_precompiled()
            entry = self._compile(values, using)
            self._by_connection.setdefault(connection, {})[shape] = entry
            _KEPT["count"] += 1
        return entry

    def _compile(self, values, using):
        stand_ins = _stand_ins(values)
        queryset = self.build(*stand_ins)
        if isinstance(queryset, tuple):  # (sql, params) already: run by a cursor
            (sql, params), queryset, compiler = queryset, None, None
        else:
            if using:
                queryset = queryset.using(using)
            compiler = queryset.query.get_compiler(using=queryset.db)
            try:
                sql, params = compiler.as_sql()
            except EmptyResultSet:
                return _EMPTY
        where = {}
        for index, stand_in in enumerate(stand_ins):
            if type(stand_in) is int:
                where[stand_in] = (index, None)
            elif stand_in is not None:
                where.update({one: (index, position) for position, one in enumerate(stand_in)})
        slots, seen = [], set()
        for place, param in enumerate(params):
            if _is_id(param) and param in where:
                # The parameter's own type too: on PostgreSQL a bigint's is psycopg's Int8.
                slots.append((place, where[param], type(param)))
                seen.add(param)
            elif isinstance(param, (list, tuple)) and param and all(p in where for p in param):
                slots.append((place, [where[p] for p in param], list))
                seen.update(param)
        if seen != set(where) or any(str(-one) in sql for one in where):
            raise ValueError("each value must reach the statement as a parameter")
        return queryset, compiler, sql, tuple(params), slots

    @staticmethod
    def _fill(params, slots, values):
        values = [v if v is None or type(v) is int else sorted(v) for v in values]
        params = list(params)
        for place, slot, kind in slots:
            if kind is list:
                params[place] = [values[i] if p is None else values[i][p] for i, p in slot]
            else:
                index, position = slot
                params[place] = kind(values[index] if position is None else values[index][position])
        return params

    def sql(self, *values, using=None):
        """(sql, params) of `build(*values)`; None when it selects nothing."""
        entry = self._compiled(values, using)
        if entry is _EMPTY:
            return None
        _queryset, _compiler, sql, params, slots = entry
        return sql, self._fill(params, slots, values)

    def rows(self, *values, using=None):
        """`list(build(*values))`; for a `build` that gives (sql, params), the rows of a cursor."""
        entry = self._compiled(values, using)
        if entry is _EMPTY:
            return []
        queryset, compiler, sql, params, slots = entry
        statement = sql, self._fill(params, slots, values)
        if compiler is None:
            with connections[using or DEFAULT_DB_ALIAS].cursor() as cursor:
                cursor.execute(*statement)
                return cursor.fetchall()
        run = copy.copy(compiler)
        run.as_sql = lambda *args, **kwargs: statement
        clone = queryset._chain()
        clone.query.get_compiler = lambda *args, **kwargs: run
        return list(clone)


_PRECOMPILED = {}
_EVERY_PRECOMPILED = weakref.WeakSet()

# How many compiled statements a process keeps: each holds its queryset and compiler, 30-50
# KiB (a desk queue's page, a customer's list page over 8 addresses), and page depths, sorts
# and id-set sizes multiply them; past the bound every statement is compiled anew when next
# used (about 20 MB at most, the hot statements back after one request each).
MAX_COMPILED = 400
_KEPT = {"count": 0}


def forget_precompiled():
    """Compile every precompiled statement anew when next used: for statements that hold ids
    read when they were compiled (the desk permissions' in `access.policy.desk_users`), which a
    migration or a flush may give to other rows (tests do), and to bound the memory kept."""
    for statement in list(_EVERY_PRECOMPILED):
        statement._by_connection.clear()
    _KEPT["count"] = 0


def precompiled(build, *constants):
    """The `Precompiled` of `build` with its first arguments fixed to `constants` (a LIMIT,
    which the ORM writes into the SQL), one per process and constants."""
    key = (build, constants)
    found = _PRECOMPILED.get(key)
    if found is None:
        found = _PRECOMPILED[key] = Precompiled(functools.partial(build, *constants))
    return found
