"""Admin for ticket types, statuses (one default, switched in one go) and read-mostly tickets."""

import pytest
from django.contrib.messages import constants as message_levels
from django.urls import reverse

from tests.factories import (
    AddressFactory,
    ContactPersonFactory,
    MachineFactory,
    MessageFactory,
    TeamFactory,
    TicketFactory,
    TicketStatusFactory,
    TicketTypeFactory,
    UserFactory,
)
from tickets.models import Message, Ticket, TicketEvent, TicketStatus, TicketType

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def status_url(status):
    return reverse("admin:tickets_ticketstatus_change", args=[status.pk])


def status_post(status, **fields):
    data = {"name": status.name, "order": status.order}
    for flag in ("is_active", "is_closed"):
        if getattr(status, flag):
            data[flag] = "on"
    if status.is_default:
        data["make_default"] = "on"
    for key, value in fields.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data


def shown_messages(response):
    return [(message.level, str(message)) for message in response.context["messages"]]


# --------------------------------------------------------------------------------------------
# Ticket statuses: exactly one default.


def test_making_a_status_the_default_unsets_the_old_one(staff_client):
    new = TicketStatus.objects.get(is_default=True)
    in_progress = TicketStatus.objects.get(name="In progress")

    response = staff_client.post(
        status_url(in_progress), status_post(in_progress, make_default="on"), follow=True
    )

    assert response.status_code == 200
    assert list(TicketStatus.objects.filter(is_default=True)) == [in_progress]
    new.refresh_from_db()
    assert not new.is_default
    assert (
        message_levels.INFO,
        "“In progress” is now the default status instead of “New”.",
    ) in shown_messages(response)
    # New tickets now start in it.
    assert TicketFactory().status == in_progress


def test_a_new_status_can_be_added_as_the_default(staff_client):
    response = staff_client.post(
        reverse("admin:tickets_ticketstatus_add"),
        {"name": "Received", "order": 5, "is_active": "on", "make_default": "on"},
    )
    assert response.status_code == 302
    assert TicketStatus.objects.get(is_default=True).name == "Received"


def test_the_default_cannot_be_unticked(staff_client):
    new = TicketStatus.objects.get(is_default=True)
    response = staff_client.post(status_url(new), status_post(new, make_default=None))
    assert response.status_code == 200
    assert "make another status the default instead" in response.content.decode()
    new.refresh_from_db()
    assert new.is_default


@pytest.mark.parametrize(
    "change", [{"is_closed": "on"}, {"is_active": None}], ids=["closing", "inactive"]
)
def test_the_default_must_be_active_and_open(staff_client, change):
    solved = TicketStatus.objects.get(name="In progress")
    response = staff_client.post(
        status_url(solved), status_post(solved, make_default="on", **change)
    )
    assert response.status_code == 200
    assert "The default status must be active and must not close tickets." in (
        response.content.decode()
    )
    assert TicketStatus.objects.get(is_default=True).name == "New"


def test_the_default_status_cannot_be_deleted(staff_client):
    new = TicketStatus.objects.get(is_default=True)
    delete_url = reverse("admin:tickets_ticketstatus_delete", args=[new.pk])
    assert staff_client.get(delete_url).status_code == 403
    assert staff_client.post(delete_url, {"post": "yes"}).status_code == 403
    assert delete_url not in staff_client.get(status_url(new)).content.decode()
    assert TicketStatus.objects.filter(pk=new.pk).exists()


def test_bulk_delete_explains_and_keeps_the_default(staff_client):
    new = TicketStatus.objects.get(is_default=True)
    spare = TicketStatusFactory(name="Spare")
    changelist = reverse("admin:tickets_ticketstatus_changelist")
    response = staff_client.post(
        changelist,
        {"action": "delete_selected", "_selected_action": [new.pk, spare.pk], "post": "yes"},
    )
    assert response.status_code == 200
    assert "the default status for new tickets cannot be deleted" in response.content.decode()
    assert TicketStatus.objects.filter(pk__in=[new.pk, spare.pk]).count() == 2


def test_an_ordinary_status_can_be_deleted(staff_client):
    spare = TicketStatusFactory(name="Spare")
    response = staff_client.post(
        reverse("admin:tickets_ticketstatus_delete", args=[spare.pk]), {"post": "yes"}
    )
    assert response.status_code == 302
    assert not TicketStatus.objects.filter(pk=spare.pk).exists()


# --------------------------------------------------------------------------------------------
# Ticket types.


def test_ticket_types_list_search_and_edit(staff_client):
    TicketTypeFactory(name="Repair")
    TicketTypeFactory(name="Spare parts")
    url = reverse("admin:tickets_tickettype_changelist")
    response = staff_client.get(url, {"q": "Repa"})
    assert [t.name for t in response.context["cl"].result_list] == ["Repair"]
    response = staff_client.post(
        reverse("admin:tickets_tickettype_add"), {"name": "Training", "order": 3, "is_active": "on"}
    )
    assert response.status_code == 302
    assert TicketType.objects.get(name="Training").order == 3


# --------------------------------------------------------------------------------------------
# Tickets: read-mostly.


@pytest.fixture
def tickets():
    address = AddressFactory(number="40001")
    agent = UserFactory(first_name="Anna", last_name="Agent")
    first = TicketFactory(subject="Press leaks oil", address=address, priority="high")
    second = TicketFactory(
        subject="Spare part needed",
        responsible_team=TeamFactory(name="Service"),
        responsible_user=agent,
        status=TicketStatus.objects.get(name="In progress"),
    )
    return {"address": address, "agent": agent, "first": first, "second": second}


def shown_numbers(response):
    return {ticket.number for ticket in response.context["cl"].result_list}


def test_ticket_list_columns(staff_client, tickets):
    html = staff_client.get(reverse("admin:tickets_ticket_changelist")).content.decode()
    for header in ("Number", "Subject", "Address", "Status", "Type", "Priority", "Responsible"):
        assert header in html
    assert "Service / Anna Agent" in html


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"q": "leaks"}, {"first"}),
        ({"q": "40001"}, {"first"}),
        ({"q": "number:second"}, {"second"}),
        ({"q": "no such words"}, set()),
        ({"priority__exact": "high"}, {"first"}),
        ({"status__id__exact": "in_progress"}, {"second"}),
    ],
)
def test_ticket_search_and_filters(staff_client, tickets, params, expected):
    params = dict(params)
    if params.get("q", "").startswith("number:"):
        params["q"] = str(tickets[params["q"].removeprefix("number:")].number)
    if params.get("status__id__exact") == "in_progress":
        params["status__id__exact"] = TicketStatus.objects.get(name="In progress").pk
    response = staff_client.get(reverse("admin:tickets_ticket_changelist"), params)
    assert response.status_code == 200
    assert shown_numbers(response) == {tickets[name].number for name in expected}


def test_ticket_filter_by_type(staff_client, tickets):
    response = staff_client.get(
        reverse("admin:tickets_ticket_changelist"), {"type__id__exact": tickets["first"].type_id}
    )
    assert shown_numbers(response) == {tickets["first"].number}


def test_ticket_list_runs_a_bounded_number_of_queries(
    staff_client, tickets, django_assert_max_num_queries
):
    team, agent = TeamFactory(), UserFactory()
    for _index in range(30):
        TicketFactory(responsible_team=team, responsible_user=agent)
    url = reverse("admin:tickets_ticket_changelist")
    staff_client.get(url)
    with django_assert_max_num_queries(10):
        response = staff_client.get(url)
    assert response.context["cl"].result_count == 32


def test_tickets_are_not_added_in_admin(staff_client):
    assert staff_client.get(reverse("admin:tickets_ticket_add")).status_code == 403


def test_ticket_page_shows_conversation_and_history_read_only(staff_client, tickets):
    ticket = tickets["first"]
    MessageFactory(ticket=ticket, kind=Message.Kind.DESCRIPTION, body="Oil under the press")
    MessageFactory(ticket=ticket, kind=Message.Kind.INTERNAL_NOTE, body="Seal kit is in stock")
    TicketEvent.objects.create(
        ticket=ticket, actor=tickets["agent"], kind=TicketEvent.Kind.TAKEN, new_value="Anna"
    )
    html = staff_client.get(reverse("admin:tickets_ticket_change", args=[ticket.pk]))
    html = html.content.decode()
    assert "Oil under the press" in html and "Seal kit is in stock" in html
    assert "taken" in html
    # Nothing in the conversation or history is editable.
    assert 'name="messages-0-body"' not in html
    assert 'name="events-0-kind"' not in html
    assert 'name="status"' not in html and 'name="priority"' not in html
    # Where the ticket belongs is corrected with search-as-you-type.
    for field in ("address", "machine", "contact_person"):
        assert f'id="id_{field}"' in html
    assert "admin-autocomplete" in html


def ticket_post(ticket, **fields):
    data = {
        "subject": ticket.subject,
        "address": ticket.address_id,
        "machine": ticket.machine_id or "",
        "contact_person": ticket.contact_person_id or "",
        "messages-TOTAL_FORMS": "0",
        "messages-INITIAL_FORMS": "0",
        "events-TOTAL_FORMS": "0",
        "events-INITIAL_FORMS": "0",
    }
    data.update(fields)
    return data


def test_ticket_subject_and_place_can_be_corrected(staff_client, tickets):
    ticket = tickets["first"]
    machine = MachineFactory(address=ticket.address)
    contact = ContactPersonFactory(address=ticket.address)
    response = staff_client.post(
        reverse("admin:tickets_ticket_change", args=[ticket.pk]),
        ticket_post(
            ticket,
            subject="Press leaks hydraulic oil",
            machine=machine.pk,
            contact_person=contact.pk,
        ),
    )
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.subject == "Press leaks hydraulic oil"
    assert (ticket.machine, ticket.contact_person) == (machine, contact)


def test_ticket_machine_must_stand_at_its_address(staff_client, tickets):
    ticket = tickets["first"]
    elsewhere = MachineFactory()
    response = staff_client.post(
        reverse("admin:tickets_ticket_change", args=[ticket.pk]),
        ticket_post(ticket, machine=elsewhere.pk),
    )
    assert response.status_code == 200
    assert "The machine must stand at the ticket&#x27;s address." in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.machine is None


def test_ticket_autocompletes_offer_active_recipients(staff_client, tickets):
    TeamFactory(name="Service old", is_active=False)
    UserFactory(first_name="Anna", last_name="Former", is_active=False)

    def offered(field, term):
        response = staff_client.get(
            reverse("admin:autocomplete"),
            {"app_label": "tickets", "model_name": "ticket", "field_name": field, "term": term},
        )
        return {result["text"] for result in response.json()["results"]}

    assert offered("responsible_team", "Service") == {"Service"}
    assert offered("responsible_user", "Anna") == {"Anna Agent"}
    assert Ticket.objects.count() == 2
