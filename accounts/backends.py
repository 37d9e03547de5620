"""E-mail login. Model-level permissions (the roles' basic rights) come from ModelBackend."""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.db import connections, router

# The SELECT of a user by primary key, written once per process and database (see get_user).
_USER_STATEMENTS = {}


def _user_statement(model, connection):
    statement = _USER_STATEMENTS.get(connection.alias)
    if statement is None:
        opts = model._meta
        quote = connection.ops.quote_name
        fields = opts.concrete_fields
        columns = ", ".join(quote(field.column) for field in fields)
        sql = f"SELECT {columns} FROM {quote(opts.db_table)} WHERE {quote(opts.pk.column)} = %s"  # noqa: S608
        # The converters the ORM applies to each column (SQLite's booleans and datetimes).
        converters = []
        for index, field in enumerate(fields):
            column = field.get_col(opts.db_table)
            found = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
            if found:
                converters.append((index, found, column))
        statement = _USER_STATEMENTS[connection.alias] = (
            sql,
            [field.attname for field in fields],
            converters,
        )
    return statement


class EmailBackend(ModelBackend):
    """ModelBackend with a case-insensitive e-mail as the user name.

    `get_user` returns nobody for an inactive user (ModelBackend's `user_can_authenticate`),
    so a deactivated user is signed out on the next request.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            username = kwargs.get("email")
        return super().authenticate(request, username=username, password=password, **kwargs)

    def get_user(self, user_id):
        """ModelBackend's, with the row read by a statement written once per process: every
        signed-in request loads its user, and building the query with the ORM cost twice as
        much CPU as running it (docs/performance.md)."""
        model = get_user_model()
        connection = connections[router.db_for_read(model)]
        sql, names, converters = _user_statement(model, connection)
        pk = model._meta.pk.get_db_prep_value(user_id, connection)  # int(), as filter(pk=) does
        with connection.cursor() as cursor:
            cursor.execute(sql, [pk])
            row = cursor.fetchone()
        if row is None:
            return None
        if converters:
            row = list(row)
            for index, found, column in converters:
                for convert in found:
                    row[index] = convert(row[index], column, connection)
        user = model.from_db(connection.alias, names, row)
        return user if self.user_can_authenticate(user) else None
