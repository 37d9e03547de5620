"""The ticket workspace: the conversation with internal notes set apart, the one reply/note
form with its required choice, take, forward, type, priority, status, close and reopen — each
writing its history event — and refusals that save nothing."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.desk.conftest import status
from tests.factories import MessageFactory, TicketFactory
from tickets import services
from tickets.models import Attachment, Message, Ticket, TicketEvent, TicketStatus

pytestmark = pytest.mark.django_db

Kind = TicketEvent.Kind


def url(name, ticket):
    return reverse(f"desk:{name}", kwargs={"number": ticket.number})


def fresh(ticket):
    return Ticket.objects.get(pk=ticket.pk)


def snapshot(ticket):
    return (
        Ticket.objects.filter(pk=ticket.pk).values().get(),
        Message.objects.count(),
        Attachment.objects.count(),
        TicketEvent.objects.count(),
    )


def events(ticket, kind):
    return list(
        fresh(ticket).events.filter(kind=kind).values_list("actor_id", "old_value", "new_value")
    )


# ---------------------------------------------------------------------------------------------
# The page.


def test_workspace_shows_conversation_with_internal_notes_set_apart(client, world, file_ticket):
    ticket = file_ticket(actor=world.customer, description="Belt squeaks <b>loud</b>")
    services.ticket_reply(actor=world.agent, ticket=ticket, body="Grease the bearings.")
    services.ticket_add_internal_note(actor=world.agent, ticket=ticket, body="Known issue, cheap")
    client.force_login(world.agent)
    response = client.get(url("ticket-detail", ticket))
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('class="desk-message desk-message-internal"') == 1
    assert "Internal note — not visible to the customer" in html
    assert 'class="desk-message desk-message-customer"' in html
    assert 'class="desk-message desk-message-staff"' in html
    assert "Known issue, cheap" in html
    assert "Belt squeaks &lt;b&gt;loud&lt;/b&gt;" in html
    # The customer's page never shows the note.
    client.force_login(world.customer)
    portal = client.get(reverse("portal:ticket-detail", kwargs={"number": ticket.number}))
    assert "Known issue, cheap" not in portal.content.decode()


def test_workspace_shows_the_customer_context(client, world, file_ticket):
    ticket = file_ticket(machine=world.machine, contact_person=world.contact)
    others = [file_ticket(f"Other {i}") for i in range(12)]  # 11 open, one closed below
    services.ticket_set_status(actor=world.agent, ticket=others[0], status=status("Closed"))
    elsewhere = file_ticket("Elsewhere", address=world.other)
    client.force_login(world.agent)
    response = client.get(url("ticket-detail", ticket))
    html = response.content.decode()
    assert "Werk Kiel" in html
    assert "Site of" in html and "(10001)" in html  # the headquarters
    assert "Lars Jensen" in html and "Plant manager" in html
    assert "NW-2001" in html and "Laser cutter LC-3015" in html
    listed = response.context["other_open"]
    assert len(listed) == 10
    assert response.context["more_open"] is True
    assert ticket not in listed and others[0] not in listed and elsewhere not in listed
    assert reverse("desk:ticket-detail", kwargs={"number": listed[0].number}) in html


def test_history_shows_every_event_including_internal_ones(client, world, file_ticket):
    ticket = file_ticket()
    services.ticket_take(actor=world.agent, ticket=ticket)
    services.ticket_forward(actor=world.agent, ticket=ticket, team=world.service)
    services.ticket_change_priority(actor=world.agent, ticket=ticket, priority="urgent")
    services.ticket_change_type(actor=world.agent, ticket=ticket, ticket_type=world.question)
    services.ticket_set_status(actor=world.agent, ticket=ticket, status=status("Closed"))
    client.force_login(world.agent)
    response = client.get(url("ticket-detail", ticket))
    kinds = [event.kind for event in response.context["history"]]
    assert kinds == [
        Kind.CREATED,
        Kind.TAKEN,
        Kind.FORWARDED,
        Kind.PRIORITY_CHANGED,
        Kind.TYPE_CHANGED,
        Kind.STATUS_CHANGED,
        Kind.CLOSED,
    ]
    html = response.content.decode()
    assert "Taken by Ada Agent" in html
    assert "Forwarded from Support · Ada Agent to Service" in html
    assert "Priority changed from “normal” to “urgent”" in html
    assert "Type changed from “Malfunction” to “Question about the invoice”" in html


# ---------------------------------------------------------------------------------------------
# Reply or internal note: one form, an explicit required choice.


def test_reply_to_customer(client, world, file_ticket):
    ticket = file_ticket()
    client.force_login(world.agent)
    response = client.post(
        url("ticket-message", ticket),
        {
            "kind": "reply",
            "body": "We come on Monday.",
            "files": [SimpleUploadedFile("offer.pdf", b"%PDF")],
        },
    )
    assert response.status_code == 302
    assert response["Location"].endswith("#latest")
    message = fresh(ticket).messages.last()
    assert (message.kind, message.body, message.author) == (
        "reply",
        "We come on Monday.",
        world.agent,
    )
    assert message.attachments.get().original_name == "offer.pdf"


def test_internal_note(client, world, file_ticket):
    ticket = file_ticket()
    before = fresh(ticket).updated_at
    client.force_login(world.agent)
    response = client.post(
        url("ticket-message", ticket), {"kind": "internal_note", "body": "Call them first."}
    )
    assert response.status_code == 302
    message = fresh(ticket).messages.last()
    assert (message.kind, message.body) == ("internal_note", "Call them first.")
    assert fresh(ticket).updated_at == before  # customers see no activity


@pytest.mark.parametrize("kind", [None, "", "public", "description", "reply internal_note"])
def test_message_without_a_valid_choice_is_refused(client, world, file_ticket, kind):
    ticket = file_ticket()
    before = snapshot(ticket)
    client.force_login(world.agent)
    data = {"body": "Which one is it?"}
    if kind is not None:
        data["kind"] = kind
    response = client.post(url("ticket-message", ticket), data)
    assert response.status_code == 200
    assert response.context["message_form"].errors["kind"]
    # What was typed is kept, and nothing was saved.
    assert "Which one is it?" in response.content.decode()
    assert snapshot(ticket) == before


def test_message_choice_has_no_default(client, world, file_ticket):
    ticket = file_ticket()
    client.force_login(world.agent)
    html = client.get(url("ticket-detail", ticket)).content.decode()
    assert 'value="reply"' in html and 'value="internal_note"' in html
    assert "checked" not in html.split('id="compose"')[1].split("</fieldset>")[0]


def test_empty_message_is_refused(client, world, file_ticket):
    ticket = file_ticket()
    before = snapshot(ticket)
    client.force_login(world.agent)
    response = client.post(url("ticket-message", ticket), {"kind": "reply", "body": "   "})
    assert response.status_code == 200
    assert response.context["message_form"].errors["body"]
    assert snapshot(ticket) == before


def test_reply_to_a_closed_ticket_reopens_it_a_note_does_not(client, world, file_ticket):
    ticket = file_ticket()
    services.ticket_set_status(actor=world.agent, ticket=ticket, status=status("Closed"))
    client.force_login(world.agent)
    client.post(url("ticket-message", ticket), {"kind": "internal_note", "body": "FYI"})
    assert fresh(ticket).is_closed
    client.post(url("ticket-message", ticket), {"kind": "reply", "body": "One more thing"})
    assert not fresh(ticket).is_closed
    assert events(ticket, Kind.REOPENED) == [(world.agent.pk, "", "")]


# ---------------------------------------------------------------------------------------------
# Take, forward, type, priority, status, close, reopen: each writes its event.


def test_take(client, world, file_ticket):
    ticket = file_ticket()
    client.force_login(world.agent)
    assert client.get(url("ticket-detail", ticket)).context["take_form"] is not None
    response = client.post(url("ticket-take", ticket))
    assert response.status_code == 302
    ticket = fresh(ticket)
    assert ticket.responsible_user == world.agent
    assert ticket.responsible_team == world.support  # the team stays
    assert events(ticket, Kind.TAKEN) == [(world.agent.pk, "", "Ada Agent")]
    # Once mine, the button is gone; taking again changes nothing.
    assert client.get(url("ticket-detail", ticket)).context["take_form"] is None
    client.post(url("ticket-take", ticket))
    assert len(events(ticket, Kind.TAKEN)) == 1


def test_take_from_a_colleague_records_who_had_it(client, world, file_ticket):
    ticket = file_ticket(recipient=world.colleague)
    client.force_login(world.agent)
    client.post(url("ticket-take", ticket))
    assert events(ticket, Kind.TAKEN) == [(world.agent.pk, "Cole Colleague", "Ada Agent")]


def test_forward_to_a_team_leaves_it_unassigned_there(client, world, file_ticket):
    ticket = file_ticket(recipient=world.agent)
    client.force_login(world.agent)
    response = client.post(url("ticket-forward", ticket), {"recipient": f"team:{world.service.pk}"})
    assert response.status_code == 302
    ticket = fresh(ticket)
    assert (ticket.responsible_team, ticket.responsible_user) == (world.service, None)
    assert events(ticket, Kind.FORWARDED) == [(world.agent.pk, "Support · Ada Agent", "Service")]


def test_forward_to_a_person_keeps_the_team(client, world, file_ticket):
    ticket = file_ticket()
    client.force_login(world.agent)
    client.post(url("ticket-forward", ticket), {"recipient": f"user:{world.colleague.pk}"})
    ticket = fresh(ticket)
    assert (ticket.responsible_team, ticket.responsible_user) == (world.support, world.colleague)
    assert events(ticket, Kind.FORWARDED) == [
        (world.agent.pk, "Support", "Support · Cole Colleague")
    ]


@pytest.mark.parametrize(
    "who", ["customer", "external_agent", "no_rights", "inactive", "inactive_team", "junk"]
)
def test_forward_only_to_desk_teams_and_users(client, world, file_ticket, who):
    ticket = file_ticket()
    inactive = type(world.agent).objects.get(pk=world.colleague.pk)
    recipients = {
        "customer": f"user:{world.customer.pk}",
        # An external user given the Support agent role is still no desk user.
        "external_agent": f"user:{world.external_agent.pk}",
        "no_rights": f"user:{world.no_rights.pk}",
        "inactive": f"user:{inactive.pk}",
        "inactive_team": f"team:{world.service.pk}",
        "junk": "team:abc",
    }
    if who == "inactive":
        inactive.is_active = False
        inactive.save()
    if who == "inactive_team":
        world.service.is_active = False
        world.service.save()
    before = snapshot(ticket)
    client.force_login(world.agent)
    response = client.post(url("ticket-forward", ticket), {"recipient": recipients[who]})
    assert response.status_code == 200
    assert response.context["forward_form"].errors["recipient"]
    assert snapshot(ticket) == before


def test_change_type(client, world, file_ticket):
    ticket = file_ticket()
    client.force_login(world.agent)
    assert client.post(url("ticket-type", ticket), {"type": world.question.pk}).status_code == 302
    assert fresh(ticket).type == world.question
    assert events(ticket, Kind.TYPE_CHANGED) == [
        (world.agent.pk, "Malfunction", "Question about the invoice")
    ]


def test_change_type_refuses_an_inactive_type(client, world, file_ticket):
    ticket = file_ticket()
    world.question.is_active = False
    world.question.save()
    before = snapshot(ticket)
    client.force_login(world.agent)
    response = client.post(url("ticket-type", ticket), {"type": world.question.pk})
    assert response.status_code == 200
    assert response.context["type_form"].errors["type"]
    assert snapshot(ticket) == before


def test_change_priority(client, world, file_ticket):
    ticket = file_ticket()
    client.force_login(world.agent)
    assert client.post(url("ticket-priority", ticket), {"priority": "high"}).status_code == 302
    assert fresh(ticket).priority == "high"
    assert events(ticket, Kind.PRIORITY_CHANGED) == [(world.agent.pk, "normal", "high")]
    before = snapshot(ticket)
    response = client.post(url("ticket-priority", ticket), {"priority": "apocalyptic"})
    assert response.status_code == 200
    assert snapshot(ticket) == before


def test_set_status(client, world, file_ticket):
    ticket = file_ticket()
    client.force_login(world.agent)
    in_progress = status("In progress")
    assert client.post(url("ticket-status", ticket), {"status": in_progress.pk}).status_code == 302
    assert fresh(ticket).status == in_progress
    assert events(ticket, Kind.STATUS_CHANGED) == [(world.agent.pk, "New", "In progress")]


def test_set_status_refuses_an_inactive_status(client, world, file_ticket):
    ticket = file_ticket()
    retired = TicketStatus.objects.create(name="Retired", order=99, is_active=False)
    before = snapshot(ticket)
    client.force_login(world.agent)
    response = client.post(url("ticket-status", ticket), {"status": retired.pk})
    assert response.status_code == 200
    assert snapshot(ticket) == before


def test_close_and_reopen(client, world, file_ticket):
    ticket = file_ticket()
    client.force_login(world.agent)
    page = client.get(url("ticket-detail", ticket)).context
    assert [s.name for s in page["close_statuses"]] == ["Solved", "Closed"]
    assert page["reopen_form"] is None
    solved = status("Solved")
    assert client.post(url("ticket-close", ticket), {"status": solved.pk}).status_code == 302
    ticket = fresh(ticket)
    assert ticket.is_closed and ticket.status == solved
    assert events(ticket, Kind.CLOSED) == [(world.agent.pk, "", "")]

    page = client.get(url("ticket-detail", ticket)).context
    assert page["can_close"] is False and page["reopen_form"] is not None
    assert client.post(url("ticket-reopen", ticket)).status_code == 302
    ticket = fresh(ticket)
    assert not ticket.is_closed and ticket.status == TicketStatus.objects.default()
    assert events(ticket, Kind.REOPENED) == [(world.agent.pk, "", "")]


def test_close_refuses_an_open_status_and_an_already_closed_ticket(client, world, file_ticket):
    ticket = file_ticket()
    client.force_login(world.agent)
    before = snapshot(ticket)
    response = client.post(url("ticket-close", ticket), {"status": status("In progress").pk})
    assert response.status_code == 200
    assert snapshot(ticket) == before
    services.ticket_set_status(actor=world.agent, ticket=ticket, status=status("Closed"))
    before = snapshot(ticket)
    assert (
        client.post(url("ticket-close", ticket), {"status": status("Solved").pk}).status_code == 403
    )
    assert client.post(url("ticket-take", ticket)).status_code == 403
    assert snapshot(ticket) == before


def test_reopen_refuses_an_open_ticket(client, world, file_ticket):
    ticket = file_ticket()
    before = snapshot(ticket)
    client.force_login(world.agent)
    assert client.post(url("ticket-reopen", ticket)).status_code == 403
    assert snapshot(ticket) == before


# ---------------------------------------------------------------------------------------------
# The wrong audience: a desk user who may read but not change tickets.

ACTIONS = [
    ("ticket-message", {"kind": "reply", "body": "hi"}),
    ("ticket-message", {"kind": "internal_note", "body": "hi"}),
    ("ticket-take", {}),
    ("ticket-forward", {"recipient": "team:SERVICE"}),
    ("ticket-type", {"type": "QUESTION"}),
    ("ticket-priority", {"priority": "urgent"}),
    ("ticket-status", {"status": "IN_PROGRESS"}),
    ("ticket-close", {"status": "CLOSED"}),
]


@pytest.mark.parametrize("name,data", ACTIONS)
def test_read_only_desk_user_is_refused_and_nothing_is_saved(
    client, world, file_ticket, name, data
):
    ticket = file_ticket()
    values = {
        "team:SERVICE": f"team:{world.service.pk}",
        "QUESTION": world.question.pk,
        "IN_PROGRESS": status("In progress").pk,
        "CLOSED": status("Closed").pk,
    }
    data = {key: values.get(value, value) for key, value in data.items()}
    before = snapshot(ticket)
    client.force_login(world.reader)
    page = client.get(url("ticket-detail", ticket))
    assert page.status_code == 200
    context = page.context
    assert context["message_form"] is None and context["take_form"] is None
    assert context["forward_form"] is None and context["status_form"] is None
    assert "You can read this ticket but not work on it" in page.content.decode()
    assert client.post(url(name, ticket), data).status_code == 403
    assert snapshot(ticket) == before


def test_reopen_by_a_read_only_desk_user_is_refused(client, world, file_ticket):
    ticket = file_ticket()
    services.ticket_set_status(actor=world.agent, ticket=ticket, status=status("Closed"))
    before = snapshot(ticket)
    client.force_login(world.reader)
    assert client.post(url("ticket-reopen", ticket)).status_code == 403
    assert snapshot(ticket) == before


def test_services_refuse_the_wrong_audience_too(world, file_ticket):
    """The services ask the policy again whatever the view checked."""
    ticket = file_ticket()
    before = snapshot(ticket)
    calls = [
        lambda who: services.ticket_take(actor=who, ticket=ticket),
        lambda who: services.ticket_forward(actor=who, ticket=ticket, team=world.service),
        lambda who: services.ticket_change_type(
            actor=who, ticket=ticket, ticket_type=world.question
        ),
        lambda who: services.ticket_change_priority(actor=who, ticket=ticket, priority="high"),
    ]
    for who in (world.reader, world.customer, world.no_rights):
        for call in calls:
            with pytest.raises(services.AccessDenied):
                call(who)
    assert snapshot(ticket) == before


# ---------------------------------------------------------------------------------------------
# Query count: bounded whatever the length of the conversation and history.


def test_workspace_query_count_does_not_grow_with_rows(
    client, world, file_ticket, django_assert_max_num_queries
):
    ticket = file_ticket(machine=world.machine, contact_person=world.contact)
    client.force_login(world.agent)
    client.get(url("ticket-detail", ticket))  # warm up (session, content types)
    with CaptureQueriesContext(connection) as small:
        assert client.get(url("ticket-detail", ticket)).status_code == 200

    for i in range(20):
        author = world.customer if i % 2 else world.agent
        kind = "internal_note" if i % 3 == 0 else "reply"
        message = MessageFactory(ticket=ticket, author=author, kind=kind)
        if i % 5 == 0:
            services._save_attachments(message, [SimpleUploadedFile(f"f{i}.txt", b"x")])
    for i in range(20):
        services.ticket_change_priority(
            actor=world.agent if i % 2 else world.colleague,
            ticket=ticket,
            priority=["high", "low"][i % 2],
        )
    TicketFactory.create_batch(
        15, address=world.site, responsible_team=world.support, type=world.fault
    )
    with django_assert_max_num_queries(len(small)):
        response = client.get(url("ticket-detail", ticket))
    assert len(response.context["conversation"]) == 21
    assert len(response.context["history"]) == 21
    assert len(small) <= 12, [query["sql"] for query in small.captured_queries]


def test_customer_details_follow_the_readers_rights(client, world, file_ticket):
    """A desk role without the Addresses, Machines and Contact-person rights sees the names the
    ticket carries, not the address's phone, the contact's e-mail or the serial number."""
    world.site.phone = "+49 431 555"
    world.site.save()
    world.machine.serial_number = "SN-SECRET-1"
    world.machine.save()
    ticket = file_ticket(machine=world.machine, contact_person=world.contact)
    client.force_login(world.agent)
    html = client.get(url("ticket-detail", ticket)).content.decode()
    assert "+49 431 555" in html and "SN-SECRET-1" in html and world.contact.email in html
    client.force_login(world.reader)  # Desk reader: tickets only
    html = client.get(url("ticket-detail", ticket)).content.decode()
    assert "Nordwerk Maschinenbau GmbH" in html and "NW-2001" in html and "Lars Jensen" in html
    assert "+49 431 555" not in html
    assert "SN-SECRET-1" not in html
    assert world.contact.email not in html
