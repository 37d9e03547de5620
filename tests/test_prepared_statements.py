"""portal.db.prepared: on PostgreSQL the block's statements are prepared once per connection and
reused; outside it, and on SQLite, statements run as before. What the policy and the ticket
pages read through it is what they read without it."""

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

from access import policy
from portal.db import prepared
from tests.factories import AddressFactory, ExternalUserFactory, TicketFactory

pytestmark = pytest.mark.django_db

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="prepared statements are PostgreSQL's"
)


def prepared_statements(marker):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT statement FROM pg_prepared_statements WHERE statement LIKE %s",
            [f"%{marker}%"],
        )
        return [row[0] for row in cursor.fetchall()]


@on_postgresql
def test_a_statement_in_the_block_is_prepared_once_and_reused():
    marker = "prepared_marker_1"
    with prepared():
        for value in (1, 2, 3):
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT %s::int + 1 AS {marker}", [value])
                assert cursor.fetchone() == (value + 1,)
    statements = prepared_statements(marker)
    assert len(statements) == 1
    assert "$1" in statements[0]  # the value is bound, not written into the text


@on_postgresql
def test_outside_the_block_nothing_is_prepared():
    marker = "prepared_marker_2"
    for value in (1, 2, 3, 4, 5, 6):
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT %s::int + 1 AS {marker}", [value])
    assert prepared_statements(marker) == []
    # and the connection's own settings are back after a block
    with prepared():
        pass
    assert connection.connection.prepare_threshold is None
    assert connection.connection.cursor_factory.__name__ != "PreparingCursor"


@on_postgresql
def test_the_grants_statement_is_prepared():
    user = ExternalUserFactory()
    policy.grants_for(user).read_ids  # noqa: B018 - loads the grants
    assert prepared_statements('AS "grant"')


def test_the_block_returns_the_same_rows_as_without_it():
    address = AddressFactory()
    user = ExternalUserFactory(address=address, read=[address], roles=["Portal user"])
    ticket = TicketFactory(address=address)
    TicketFactory()  # at an address the user may not read
    outside = list(policy.tickets_visible(ticket.__class__.objects.all(), user).values_list("pk"))
    with prepared():
        inside = list(
            policy.tickets_visible(ticket.__class__.objects.all(), user).values_list("pk")
        )
    assert inside == outside == [(ticket.pk,)]


def test_queries_in_the_block_are_still_logged_and_counted():
    with CaptureQueriesContext(connection) as captured, prepared():
        Permission.objects.filter(codename="view_ticket").exists()
    assert len(captured) == 1
    assert '"auth_permission"' in captured[0]["sql"]  # the text is logged, not None
