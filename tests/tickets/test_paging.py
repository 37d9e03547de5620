"""Deep pages of a customer's list are read as a merge of one index range per address
(tickets.paging, PostgreSQL): the same rows in the same order as the plain query, never a row
outside the user's scope, and a bounded read whatever the page."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from access import policy
from tests.factories import AddressFactory, ExternalUserFactory, TicketFactory, TicketStatusFactory
from tickets import paging
from tickets.models import Ticket
from tickets.paging import AddressMergedList, PlainList, can_merge, in_state, plain_state_counts

pytestmark = pytest.mark.django_db

URL = reverse("portal:ticket-list")
NEWEST_FIRST = ("-updated_at", "-pk")


@pytest.fixture
def customer_world():
    """A customer reading three addresses with 70 tickets between them (some sharing an
    `updated_at`, so the id decides), a fifth of them closed, and a foreign address whose
    tickets are newer than all of them."""
    sites = AddressFactory.create_batch(3)
    foreign = AddressFactory()
    closed = TicketStatusFactory(name="Done (paging)", is_closed=True)
    customer = ExternalUserFactory(
        roles=["Portal user"], address=sites[0], read=sites[1:], write=[sites[0]]
    )
    start = timezone.now() - datetime.timedelta(days=100)
    for index in range(70):
        ticket = TicketFactory(address=sites[index % 3])
        moment = start + datetime.timedelta(hours=(index * 7) % 50)  # repeats: ties
        fields = {"updated_at": moment}
        if index % 5 == 0:
            fields.update(status=closed, closed_at=moment)
        Ticket.objects.filter(pk=ticket.pk).update(**fields)
    for _ in range(30):
        ticket = TicketFactory(address=foreign)
        Ticket.objects.filter(pk=ticket.pk).update(updated_at=timezone.now())
    return customer, sites


def test_merge_is_used_on_postgresql_only_for_recency_orders(customer_world):
    customer, sites = customer_world
    queryset = Ticket.objects.all()
    ids = {site.pk for site in sites}
    postgres = connection.vendor == "postgresql"
    assert can_merge(queryset, ids, NEWEST_FIRST) is postgres
    assert can_merge(queryset, ids, ("updated_at", "pk")) is postgres
    assert not can_merge(queryset, ids, ("subject", "-pk"))
    assert not can_merge(queryset, {sites[0].pk}, NEWEST_FIRST)  # one address: its own index


@pytest.mark.postgres_only
@pytest.mark.parametrize("ordering", [NEWEST_FIRST, ("updated_at", "pk")])
def test_every_slice_equals_the_plain_query(customer_world, ordering):
    customer, sites = customer_world
    scope = Ticket.objects.visible_to(customer).order_by(*ordering)
    merged = AddressMergedList(
        scope, [site.pk for site in sites], ordering, ranges=Ticket.objects.all()
    )
    for start, stop in [(0, 25), (25, 50), (50, 75), (10, 11), (69, 100), (80, 90)]:
        assert [t.pk for t in merged[start:stop]] == [t.pk for t in scope[start:stop]]


@pytest.mark.postgres_only
def test_rows_outside_the_scope_are_never_returned(customer_world):
    """Even if the ranges named an address outside the user's scope, its rows would be
    dropped: they are fetched through the scoped queryset."""
    customer, sites = customer_world
    foreign = Ticket.objects.exclude(address__in=sites).first().address
    scope = Ticket.objects.visible_to(customer).order_by(*NEWEST_FIRST)
    merged = AddressMergedList(
        scope, [foreign.pk, *(s.pk for s in sites)], NEWEST_FIRST, ranges=Ticket.objects.all()
    )
    rows = merged[0:100]
    assert rows and all(t.address_id != foreign.pk for t in rows)


@pytest.mark.parametrize("state", ["open", "closed", "all"])
def test_the_list_pages_through_every_visible_ticket_once(client, customer_world, state):
    customer, sites = customer_world
    client.force_login(customer)
    expected = Ticket.objects.visible_to(customer)
    expected = {"open": expected.open(), "closed": expected.closed()}.get(state, expected)
    expected = list(expected.order_by(*NEWEST_FIRST).values_list("number", flat=True))
    seen = []
    for page in (1, 2, 3, 4):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(URL, {"state": state, "page": page})
        assert response.status_code == 200
        numbers = [t.number for t in response.context["tickets"]]
        if response.context["page_obj"].number != page:
            break  # past the last page the list shows the last one again
        seen += numbers
        merged = any(
            "UNION ALL" in q["sql"] and '"tickets_ticket"."updated_at"' in q["sql"]
            for q in queries.captured_queries
        )
        assert merged is (connection.vendor == "postgresql")
    assert seen == expected


def _plain_list(customer, address_ids, ordering, state):
    scoped = in_state(Ticket.objects.visible_to(customer), state).order_by(*ordering)
    ranges = in_state(Ticket.objects.all(), state)
    deeper = AddressMergedList(scoped, address_ids, ordering, ranges=ranges, prepare=True)
    plain = PlainList(
        deeper,
        scope=policy.ticket_address_scope(customer),
        address_ids=address_ids,
        ordering=ordering,
        state=state,
        related=("address",),
    )
    return scoped, plain


@pytest.mark.postgres_only
@pytest.mark.parametrize("state", ["open", "closed", "all"])
@pytest.mark.parametrize("ordering", [NEWEST_FIRST, ("updated_at", "pk")])
@pytest.mark.parametrize("precompiled_rows", [paging.PLAIN_PRECOMPILED_ROWS, 30])
def test_a_plain_list_reads_every_slice_as_the_plain_query(
    customer_world, monkeypatch, state, ordering, precompiled_rows
):
    """Precompiled pages (and, past `PLAIN_PRECOMPILED_ROWS`, the ORM's) equal the plain
    query's, with the address joined in."""
    monkeypatch.setattr(paging, "PLAIN_PRECOMPILED_ROWS", precompiled_rows)
    customer, sites = customer_world
    scoped, plain = _plain_list(customer, [site.pk for site in sites], ordering, state)
    for start, stop in [(0, 25), (25, 50), (50, 75), (10, 11), (20, 40)]:
        rows = plain[start:stop]
        assert [t.pk for t in rows] == [t.pk for t in scoped[start:stop]]
        assert all(t.address.pk == t.address_id for t in rows)


@pytest.mark.postgres_only
def test_a_plain_list_never_returns_a_row_outside_the_scope(customer_world):
    customer, sites = customer_world
    foreign = Ticket.objects.exclude(address__in=sites).first().address
    _scoped, plain = _plain_list(
        customer, [foreign.pk, *(s.pk for s in sites)], NEWEST_FIRST, "all"
    )
    rows = plain[0:100]
    assert len(rows) == 70 and all(t.address_id != foreign.pk for t in rows)


def test_plain_state_counts_are_the_capped_counts(customer_world, settings):
    customer, sites = customer_world
    visible = Ticket.objects.visible_to(customer)
    counts = plain_state_counts(policy.ticket_address_scope(customer), limit=1000)
    assert (counts["open"], counts["closed"]) == (visible.open().count(), visible.closed().count())
    assert (counts["open"], counts["closed"]) == (56, 14)
    capped = plain_state_counts(policy.ticket_address_scope(customer), limit=20)
    assert (capped["open"], capped["open"].capped) == (21, True)
    nothing = plain_state_counts(frozenset(), limit=1000)
    assert (nothing["open"], nothing["closed"]) == (0, 0)
