"""Characters Python calls digits but `int()` refuses ("²", "③"), where a page reads a number
from its query string or a form: the value is ignored or refused, never a server error."""

import pytest
from django.urls import reverse

from tests.factories import (
    AddressFactory,
    ExternalUserFactory,
    TeamFactory,
    TicketFactory,
    TicketTypeFactory,
    UserFactory,
)
from tickets.models import Message, Ticket, TicketEvent

pytestmark = pytest.mark.django_db

ODD = ["²", "③", "1²"]


@pytest.fixture
def world():
    site = AddressFactory(name="Site Works")
    team = TeamFactory(name="Support")
    fault = TicketTypeFactory(name="Fault")
    agent = UserFactory(roles=["Support agent"])
    customer = ExternalUserFactory(
        roles=["Portal user"], address=site, write=[site], types=[fault], teams=[team]
    )
    ticket = TicketFactory(address=site, responsible_team=team, subject="Press stops")
    return site, team, fault, agent, customer, ticket


@pytest.mark.parametrize("odd", ODD)
def test_customer_pages_ignore_odd_digits(client, world, odd):
    site, _team, _fault, _agent, customer, ticket = world
    client.force_login(customer)
    for url, shows in [
        (reverse("portal:ticket-list") + f"?page={odd}", ticket.subject),
        (reverse("portal:ticket-create") + f"?address={odd}&machine={odd}", "Site Works"),
        (reverse("portal:search") + f"?q={odd}", ""),
        (reverse("portal:search") + f"?q=%23{odd}", ""),
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert shows in response.content.decode(), url
    response = client.get(reverse("portal:autocomplete-machines") + f"?address={odd}")
    assert response.status_code == 200
    assert response.json()["results"] == []


@pytest.mark.parametrize("odd", ODD)
def test_filing_refuses_odd_digits_as_choices(client, world, odd):
    site, team, fault, _agent, customer, _ticket = world
    client.force_login(customer)
    valid = {
        "address": site.pk,
        "type": fault.pk,
        "recipient": f"team:{team.pk}",
        "priority": "normal",
        "subject": "Odd",
        "description": "Odd digits",
    }
    before = Ticket.objects.count()
    for name, value in [("address", odd), ("type", odd), ("recipient", f"team:{odd}")]:
        response = client.post(reverse("portal:ticket-create"), {**valid, name: value})
        assert response.status_code == 200, name
        assert response.context["form"].errors[name], name
    assert Ticket.objects.count() == before
    assert client.post(reverse("portal:ticket-create"), valid).status_code == 302
    assert Ticket.objects.count() == before + 1


@pytest.mark.parametrize("odd", ODD)
def test_desk_and_admin_pages_ignore_odd_digits(client, world, odd):
    _site, team, _fault, agent, _customer, ticket = world
    client.force_login(agent)
    for url in [
        reverse("desk:queue") + f"?page={odd}",
        reverse("desk:queue") + f"?team={odd}&status={odd}&address={odd}",
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
    root = UserFactory(email="root@example.com", is_staff=True, is_superuser=True)
    client.force_login(root)
    response = client.get(reverse("admin:accounts_user_explain") + f"?user={odd}")
    assert response.status_code == 200


@pytest.mark.parametrize("number", ["0", "99999999999999999999999", "9223372036854775808"])
def test_ticket_numbers_out_of_range_are_not_found(client, world, number):
    """A ticket page's number is any run of digits in the URL; past a bigint it is no ticket."""
    _site, _team, _fault, agent, customer, ticket = world
    pages = (
        (customer, "portal:ticket-detail", "portal:ticket-reply"),
        (agent, "desk:ticket-detail", "desk:ticket-take"),
    )
    for user, page, action in pages:
        client.force_login(user)
        assert client.get(reverse(page, args=[ticket.number])).status_code == 200
        wrong = reverse(page, args=[ticket.number]).replace(str(ticket.number), number)
        assert client.get(wrong).status_code == 404
        posted = reverse(action, args=[ticket.number]).replace(str(ticket.number), number)
        before = (Message.objects.count(), TicketEvent.objects.count())
        assert client.post(posted, {"body": "Not for any ticket"}).status_code == 404
        assert (Message.objects.count(), TicketEvent.objects.count()) == before
        ticket.refresh_from_db()
        assert ticket.responsible_user_id is None  # not taken
