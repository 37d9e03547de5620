"""Bulk actions on tickets selected in a queue: each recorded in every ticket's history, and
all or nothing — one refused ticket and none changes."""

import pytest
from django.urls import reverse

from tests.desk.conftest import status
from tickets import services
from tickets.models import Message, Ticket, TicketEvent

pytestmark = pytest.mark.django_db

BULK = reverse("desk:bulk")
Kind = TicketEvent.Kind


@pytest.fixture
def three(file_ticket):
    return [file_ticket(f"Bulk {i}") for i in range(3)]


def snapshot():
    return (
        list(Ticket.objects.order_by("pk").values()),
        Message.objects.count(),
        TicketEvent.objects.count(),
    )


def post(client, tickets, action, **data):
    return client.post(
        BULK,
        {
            "tickets": [t.number for t in tickets],
            "action": action,
            "next": "queue=teams&sort=number&page=1&evil=http://x",
            **data,
        },
    )


def kinds_per_ticket(tickets, kind):
    return [
        list(TicketEvent.objects.filter(ticket=t, kind=kind).values_list("actor_id", "new_value"))
        for t in tickets
    ]


def test_bulk_take(client, world, three):
    client.force_login(world.agent)
    response = post(client, three, "take")
    assert response.status_code == 302
    # Back to the queue the selection came from, with only the queue's own parameters.
    assert response["Location"] == reverse("desk:queue") + "?queue=teams&sort=number&page=1"
    assert {t.responsible_user_id for t in Ticket.objects.all()} == {world.agent.pk}
    assert kinds_per_ticket(three, Kind.TAKEN) == [[(world.agent.pk, "Ada Agent")]] * 3


def test_bulk_forward_to_team_and_to_person(client, world, three):
    client.force_login(world.agent)
    post(client, three, "forward", recipient=f"team:{world.service.pk}")
    assert {t.responsible_team_id for t in Ticket.objects.all()} == {world.service.pk}
    assert kinds_per_ticket(three, Kind.FORWARDED) == [[(world.agent.pk, "Service")]] * 3
    post(client, three[:2], "forward", recipient=f"user:{world.colleague.pk}")
    assert [fresh.responsible_user for fresh in Ticket.objects.order_by("pk")] == [
        world.colleague,
        world.colleague,
        None,
    ]


def test_bulk_set_status_records_close_events(client, world, three):
    client.force_login(world.agent)
    post(client, three, "status", status=status("Closed").pk)
    assert all(t.is_closed for t in Ticket.objects.all())
    assert kinds_per_ticket(three, Kind.STATUS_CHANGED) == [[(world.agent.pk, "Closed")]] * 3
    assert [len(events) for events in kinds_per_ticket(three, Kind.CLOSED)] == [1, 1, 1]


def test_bulk_set_priority(client, world, three):
    client.force_login(world.agent)
    post(client, three, "priority", priority="urgent")
    assert {t.priority for t in Ticket.objects.all()} == {"urgent"}
    assert kinds_per_ticket(three, Kind.PRIORITY_CHANGED) == [[(world.agent.pk, "urgent")]] * 3


def test_one_refused_ticket_changes_none(client, world, three):
    """Taking a closed ticket is refused: the open ones are not taken either."""
    services.ticket_set_status(actor=world.agent, ticket=three[1], status=status("Closed"))
    before = snapshot()
    client.force_login(world.agent)
    response = post(client, three, "take")
    assert response.status_code == 403
    html = response.content.decode()
    assert "Nothing was changed" in html
    assert f"#{three[1].number}" in html
    assert "is closed; reopen it first" in html
    assert f"#{three[0].number}" not in html
    assert snapshot() == before


def test_a_failure_half_way_rolls_back_every_ticket(world, three, monkeypatch):
    """Atomic even when a write fails after the checks passed (database error, crash)."""
    real = services.ticket_change_priority
    calls = []

    def failing(**kwargs):
        calls.append(kwargs["ticket"].pk)
        if len(calls) == 3:
            raise RuntimeError("disk full")
        return real(**kwargs)

    monkeypatch.setattr(services, "ticket_change_priority", failing)
    before = snapshot()
    with pytest.raises(RuntimeError):
        services.tickets_bulk_set_priority(actor=world.agent, tickets=three, priority="high")
    assert len(calls) == 3
    assert snapshot() == before


def test_read_only_desk_user_is_refused(client, world, three):
    before = snapshot()
    client.force_login(world.reader)
    assert client.get(reverse("desk:queue")).context["can_bulk"] is False
    assert post(client, three, "take").status_code == 403
    assert post(client, three, "priority", priority="low").status_code == 403
    assert snapshot() == before


@pytest.mark.parametrize(
    "data",
    [
        {"action": "take"},  # nothing selected
        {"action": "take", "tickets": ["999999999"]},  # no such ticket
        {"action": "take", "tickets": ["abc"]},
        {"action": "take", "tickets": ["99999999999999999999999999"]},
        {"action": "explode", "tickets": ["NUMBER"]},
        {"action": "forward", "tickets": ["NUMBER"]},  # no recipient
        {"action": "forward", "tickets": ["NUMBER"], "recipient": "team:0"},  # no such team
        {"action": "status", "tickets": ["NUMBER"], "status": "abc"},
        {"action": "priority", "tickets": ["NUMBER"]},
        {"action": "priority", "tickets": ["NUMBER"], "priority": "meh"},
    ],
)
def test_bulk_input_errors_go_back_to_the_queue(client, world, three, data):
    data = {
        k: [three[0].number if x == "NUMBER" else x for x in v] if isinstance(v, list) else v
        for k, v in data.items()
    }
    before = snapshot()
    client.force_login(world.agent)
    response = client.post(BULK, {**data, "next": "queue=open"}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("desk:queue") + "?queue=open"
    assert any(m.level_tag == "error" for m in response.context["messages"])
    assert snapshot() == before


def test_bulk_forward_to_someone_who_cannot_use_the_desk_is_refused(client, world, three):
    before = snapshot()
    client.force_login(world.agent)
    response = post(client, three, "forward", recipient=f"user:{world.no_rights.pk}")
    assert response.status_code == 302
    assert snapshot() == before


def test_the_queue_offers_the_bulk_actions_with_checkboxes(client, world, three):
    client.force_login(world.agent)
    response = client.get(reverse("desk:queue"), {"queue": "teams"})
    html = response.content.decode()
    for ticket in three:
        assert f'name="tickets" value="{ticket.number}"' in html
    assert f'action="{BULK}"' in html
    form = response.context["bulk_form"]
    offered = {
        key for _group, choices in form.fields["recipient"].choices[1:] for key, _ in choices
    }
    assert f"team:{world.service.pk}" in offered
    assert f"user:{world.colleague.pk}" in offered
    assert f"user:{world.reader.pk}" in offered  # may enter the desk
    assert f"user:{world.no_rights.pk}" not in offered
    assert f"user:{world.customer.pk}" not in offered
