"""The portal's start page: my open tickets, tickets waiting for our answer, recent activity."""

from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import (
    AddressFactory,
    ExternalUserFactory,
    TeamFactory,
    TicketTypeFactory,
    UserFactory,
)
from tickets import services
from tickets.models import TicketStatus

pytestmark = pytest.mark.django_db

URL = reverse("portal:dashboard")


# ---------------------------------------------------------------------------------------------
# Shared fixtures.


@pytest.fixture
def world():
    """`site` (write), `branch` (read only), `foreign` (neither); an agent; the customer and a
    colleague with the same rights."""
    site = AddressFactory(name="Site Works")
    branch = AddressFactory(name="Branch Office")
    foreign = AddressFactory(name="Foreign Corp")
    team = TeamFactory(name="Support")
    fault = TicketTypeFactory(name="Fault")
    agent = UserFactory(roles=["Support agent"], first_name="Agnes", last_name="Agent")
    rights = {
        "roles": ["Portal user"],
        "address": site,
        "write": [site],
        "read": [branch],
        "types": [fault],
        "teams": [team],
    }
    return SimpleNamespace(
        site=site,
        branch=branch,
        foreign=foreign,
        team=team,
        fault=fault,
        agent=agent,
        customer=ExternalUserFactory(first_name="Carla", **rights),
        colleague=ExternalUserFactory(first_name="Colin", **rights),
    )


def file_ticket(world, actor, address=None, subject="Press stops"):
    return services.ticket_create(
        actor=actor,
        address=address or world.site,
        ticket_type=world.fault,
        subject=subject,
        description=f"{subject}: description",
        team=world.team,
    )


def numbers(tickets):
    return {ticket.number for ticket in tickets}


# ---------------------------------------------------------------------------------------------


def test_anonymous_and_internal_users(client, world):
    assert client.get(URL)["Location"].startswith("/accounts/login/")
    client.force_login(world.agent)
    assert client.get(URL)["Location"] == reverse("home")


def test_empty_dashboard_says_what_to_do(client, world):
    client.force_login(world.customer)
    response = client.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="new-ticket"' in html
    assert 'id="mine-empty"' in html
    assert 'id="awaiting-empty"' in html
    assert 'id="activity-empty"' in html
    assert reverse("portal:ticket-create") in html


def test_my_open_tickets(client, world):
    mine = file_ticket(world, world.customer, subject="Mine and open")
    closed = file_ticket(world, world.customer, subject="Mine but closed")
    services.ticket_set_status(
        actor=world.agent, ticket=closed, status=TicketStatus.objects.get(name="Closed")
    )
    file_ticket(world, world.colleague, subject="Colleague's")
    client.force_login(world.customer)
    response = client.get(URL)
    assert numbers(response.context["my_open_tickets"]) == {mine.number}


def test_waiting_for_my_answer(client, world):
    """Open, writable tickets whose latest public message is by an internal user."""
    answered = file_ticket(world, world.customer, subject="Agent answered")
    services.ticket_reply(actor=world.agent, ticket=answered, body="Which model is it?")

    customer_last = file_ticket(world, world.customer, subject="Customer wrote last")
    services.ticket_reply(actor=world.agent, ticket=customer_last, body="Which model?")
    services.ticket_reply(actor=world.colleague, ticket=customer_last, body="The big one")

    note_last = file_ticket(world, world.customer, subject="Internal note last")
    services.ticket_add_internal_note(actor=world.agent, ticket=note_last, body="hmm")

    read_only = file_ticket(world, world.agent, address=world.branch, subject="Branch ticket")
    services.ticket_reply(actor=world.agent, ticket=read_only, body="Answer at the branch")

    closed = file_ticket(world, world.customer, subject="Answered and closed")
    services.ticket_reply(actor=world.agent, ticket=closed, body="Done")
    services.ticket_set_status(
        actor=world.agent, ticket=closed, status=TicketStatus.objects.get(name="Solved")
    )

    foreign = file_ticket(world, world.agent, address=world.foreign, subject="Foreign")
    services.ticket_reply(actor=world.agent, ticket=foreign, body="Foreign answer")

    client.force_login(world.customer)
    response = client.get(URL)
    assert numbers(response.context["awaiting_tickets"]) == {answered.number}
    html = response.content.decode()
    assert "Foreign" not in html


def test_waiting_list_follows_the_conversation(client, world):
    """The list changes with every answer: ours puts the ticket on it, the customer's side
    takes it off, internal notes change nothing, closing takes it off, and our reply to a
    closed ticket reopens it onto the list."""
    ticket = file_ticket(world, world.customer, subject="Press stops")
    client.force_login(world.customer)

    def waiting():
        return numbers(client.get(URL).context["awaiting_tickets"])

    assert waiting() == set()
    services.ticket_reply(actor=world.agent, ticket=ticket, body="Which model?")
    assert waiting() == {ticket.number}
    services.ticket_reply(actor=world.colleague, ticket=ticket, body="The big one")
    assert waiting() == set()
    services.ticket_add_internal_note(actor=world.agent, ticket=ticket, body="Order parts")
    assert waiting() == set()
    services.ticket_reply(actor=world.agent, ticket=ticket, body="Parts are ordered")
    services.ticket_add_internal_note(actor=world.agent, ticket=ticket, body="Arrive Monday")
    assert waiting() == {ticket.number}
    services.ticket_set_status(
        actor=world.agent, ticket=ticket, status=TicketStatus.objects.get(name="Solved")
    )
    assert waiting() == set()
    services.ticket_reply(actor=world.agent, ticket=ticket, body="Did it help?")
    assert waiting() == {ticket.number}


def test_nothing_waits_for_a_user_who_may_only_read(client, world):
    answered = file_ticket(world, world.customer, subject="Agent answered")
    services.ticket_reply(actor=world.agent, ticket=answered, body="Which model?")
    reader = ExternalUserFactory(roles=["Portal user"], address=world.site, read=[world.site])
    client.force_login(reader)
    response = client.get(URL)
    assert response.context["awaiting_tickets"] == []
    assert 'id="awaiting-empty"' in response.content.decode()
    client.force_login(world.customer)
    assert numbers(client.get(URL).context["awaiting_tickets"]) == {answered.number}


def test_waiting_list_shows_ten_and_links_to_the_rest(client, world):
    tickets = []
    for index in range(11):
        ticket = file_ticket(world, world.customer, subject=f"Question {index}")
        services.ticket_reply(actor=world.agent, ticket=ticket, body="Which model?")
        tickets.append(ticket)
    client.force_login(world.customer)
    response = client.get(URL)
    # Newest answer first; the eleventh is behind the link.
    assert [t.number for t in response.context["awaiting_tickets"]] == [
        t.number for t in reversed(tickets[1:])
    ]
    assert response.context["awaiting_more"]


def test_recent_activity_on_visible_tickets(client, world):
    ticket = file_ticket(world, world.customer, subject="Visible ticket")
    services.ticket_reply(actor=world.agent, ticket=ticket, body="Public answer text")
    services.ticket_add_internal_note(actor=world.agent, ticket=ticket, body="Secret note text")
    services.ticket_set_status(
        actor=world.agent, ticket=ticket, status=TicketStatus.objects.get(name="In progress")
    )
    foreign = file_ticket(world, world.agent, address=world.foreign, subject="Foreign ticket")
    services.ticket_reply(actor=world.agent, ticket=foreign, body="Foreign answer text")
    client.force_login(world.customer)
    response = client.get(URL)
    html = response.content.decode()
    assert "Public answer text" in html
    assert "In progress" in html
    assert "Secret note text" not in html
    assert "Foreign" not in html
    activity = response.context["activity"]
    assert activity[0]["kind"] == "event"  # the status change is the newest
    whens = [item["when"] for item in activity]
    assert whens == sorted(whens, reverse=True)


def test_recent_activity_shows_ten_items(client, world):
    for index in range(8):
        file_ticket(world, world.customer, subject=f"Ticket {index}")
    client.force_login(world.customer)
    assert len(client.get(URL).context["activity"]) == 8
    for index in range(8):
        file_ticket(world, world.customer, subject=f"More {index}")
    assert len(client.get(URL).context["activity"]) == 10


def test_without_the_right_to_file_the_reason_is_shown(client, world):
    reader = ExternalUserFactory(roles=["Portal user"], address=world.site, read=[world.site])
    client.force_login(reader)
    response = client.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="new-ticket"' not in html
    assert "no active address in the write set" in html
    assert reverse("portal:ticket-create") not in html


def test_without_the_tickets_right(client, world):
    user = ExternalUserFactory(address=world.site, read=[world.site])
    client.force_login(user)
    response = client.get(URL)
    assert response.status_code == 200
    assert "no right to see tickets" in response.content.decode()


def test_query_count_does_not_grow_with_rows(client, world, django_assert_max_num_queries):
    def grow(count):
        for index in range(count):
            ticket = file_ticket(world, world.customer, subject=f"T{index}")
            services.ticket_reply(actor=world.agent, ticket=ticket, body="answer")
            file_ticket(world, world.agent, address=world.branch, subject=f"B{index}")

    client.force_login(world.customer)
    grow(3)
    client.get(URL)  # warm up
    with CaptureQueriesContext(connection) as small:
        client.get(URL)
    grow(15)
    with django_assert_max_num_queries(len(small)):
        response = client.get(URL)
    assert len(response.context["my_open_tickets"]) == 10
    assert response.context["my_open_more"]
    # session, user, grants, two short lists (one statement each), recent tickets, replies,
    # events.
    assert len(small) <= 8, [query["sql"] for query in small.captured_queries]
