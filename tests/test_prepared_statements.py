"""portal.db.prepared: on PostgreSQL the block's statements are prepared once per connection and
reused; outside it, and on SQLite, statements run as before. What the policy and the ticket
pages read through it is what they read without it. portal.db.row_by_pk reads what the ORM
reads."""

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

from access import policy
from accounts.models import Team, User
from addresses.models import Address
from portal.db import prepared, row_by_pk
from tests.factories import (
    AddressFactory,
    ExternalUserFactory,
    TeamFactory,
    TicketFactory,
    TicketTypeFactory,
)
from tickets.models import TicketType

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


@pytest.mark.parametrize(
    ("model", "make"),
    [
        (Address, lambda: AddressFactory(name="Row by key", phone="+49 1")),
        (User, lambda: ExternalUserFactory(first_name="Üla", language="de")),
        (TicketType, lambda: TicketTypeFactory(name="Fault", is_active=False)),
        (Team, lambda: TeamFactory(name="Support")),
    ],
)
def test_row_by_pk_reads_what_the_orm_reads(model, make):
    """Every concrete field, with the database's values converted as the ORM converts them
    (dates and times, booleans), and a row that is not there is None."""
    made = make()
    make()  # another row, not read
    expected = model.objects.get(pk=made.pk)
    for _ in range(2):  # compiled on the first call, reused on the second
        with CaptureQueriesContext(connection) as captured:
            row = row_by_pk(model, made.pk)
        assert len(captured) == 1
        assert type(row) is model and not row._state.adding and row._state.db == "default"
        for field in model._meta.concrete_fields:
            assert getattr(row, field.attname) == getattr(expected, field.attname), field.name
    assert row_by_pk(model, made.pk + 1000) is None


@on_postgresql
def test_row_by_pk_is_a_prepared_statement():
    address = AddressFactory()
    assert row_by_pk(Address, address.pk) == address
    assert any('FROM "addresses_address"' in text for text in prepared_statements("$1"))
