"""tickets.paging.ChosenFirstList: a page's rows chosen in a subquery, then joined (issue 5)."""

import pytest

from tests.factories import AddressFactory, TicketFactory
from tickets.models import Ticket
from tickets.paging import ChosenFirstList

pytestmark = pytest.mark.django_db


def test_every_slice_is_the_querysets_slice_in_its_order():
    TicketFactory.create_batch(7, address=AddressFactory())
    queryset = Ticket.objects.select_related("address").order_by("-updated_at", "-pk")
    chosen = ChosenFirstList(queryset)
    for start, stop in ((0, 3), (3, 6), (6, 9), (20, 30)):
        assert chosen[start:stop] == list(queryset[start:stop])
    assert chosen.count() == 7
    with pytest.raises(TypeError):
        chosen[2]


def test_rows_outside_the_queryset_never_come_back():
    mine, other = AddressFactory(), AddressFactory()
    TicketFactory.create_batch(3, address=mine)
    TicketFactory.create_batch(3, address=other)
    queryset = Ticket.objects.filter(address=mine).order_by("number")
    assert {ticket.address_id for ticket in ChosenFirstList(queryset)[0:10]} == {mine.pk}
