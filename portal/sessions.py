"""Django's database sessions, read with a statement written once per process.

Every signed-in request reads its session first. Django's store builds that read with the ORM
each time (`Session.objects.get(session_key=…, expire_date__gt=now)`): about 0.4 ms of CPU,
four times what running the statement costs (docs/performance.md). This store is Django's own
in every other respect (same table, rows, expiry, saving, `clearsessions`); `load` runs the
same SELECT, written out once per database.
"""

from django.contrib.sessions.backends import db
from django.db import connections, router
from django.utils import timezone

_STATEMENTS = {}  # database alias -> the SELECT of a session's data


def _statement(model, connection):
    statement = _STATEMENTS.get(connection.alias)
    if statement is None:
        opts = model._meta
        quote = connection.ops.quote_name
        key = opts.get_field("session_key").column
        data = opts.get_field("session_data").column
        expiry = opts.get_field("expire_date").column
        statement = _STATEMENTS[connection.alias] = (
            f"SELECT {quote(data)} FROM {quote(opts.db_table)} "  # noqa: S608 (names only)
            f"WHERE {quote(key)} = %s AND {quote(expiry)} > %s"
        )
    return statement


class SessionStore(db.SessionStore):
    def load(self):
        """The session's data, or {} (and no key) when it is missing or expired, as Django's."""
        model = self.model
        connection = connections[router.db_for_read(model)]
        # The value a DateTimeField filter sends (an aware datetime, or UTC text on SQLite).
        now = model._meta.get_field("expire_date").get_db_prep_value(timezone.now(), connection)
        with connection.cursor() as cursor:
            cursor.execute(_statement(model, connection), [self.session_key, now])
            row = cursor.fetchone()
        if row is None:
            self._session_key = None
            return {}
        return self.decode(row[0])
