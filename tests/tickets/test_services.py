"""The ticket write paths (`tickets.services`): what each writes when allowed, and that a
refusal or invalid input writes nothing at all."""

import threading
import time
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction

from access import policy
from tests.factories import (
    AddressFactory,
    ContactPersonFactory,
    ExternalUserFactory,
    MachineFactory,
    TeamFactory,
    TicketFactory,
    TicketTypeFactory,
    UserFactory,
)
from tickets.models import Attachment, Message, Priority, Ticket, TicketEvent, TicketStatus
from tickets.services import (
    AccessDenied,
    ticket_add_internal_note,
    ticket_create,
    ticket_reply,
    ticket_set_status,
)

pytestmark = pytest.mark.django_db

Kind = TicketEvent.Kind


def status(name):
    return TicketStatus.objects.get(name=name)


def stored_files(settings):
    root = Path(settings.MEDIA_ROOT)
    return sorted(path for path in root.rglob("*") if path.is_file()) if root.exists() else []


class Snapshot:
    """Row counts of everything a service writes, the ticket's row and the stored files."""

    def __init__(self, settings, ticket=None):
        self.settings = settings
        self.ticket = ticket
        self.state = self.take()

    def take(self):
        return {
            "tickets": Ticket.objects.count(),
            "messages": Message.objects.count(),
            "attachments": Attachment.objects.count(),
            "events": TicketEvent.objects.count(),
            "ticket": Ticket.objects.filter(pk=self.ticket.pk).values().get()
            if self.ticket
            else None,
            "files": stored_files(self.settings),
        }

    def assert_unchanged(self):
        assert self.take() == self.state


@pytest.fixture
def setup():
    """A customer address, its writer (Portal user) and a support agent."""
    address = AddressFactory()
    team = TeamFactory(name="Support")
    agent = UserFactory(roles=["Support agent"])
    team.members.add(agent)
    ticket_type = TicketTypeFactory(name="Malfunction")
    contact = ContactPersonFactory(address=address)
    writer = ExternalUserFactory(
        roles=["Portal user"],
        address=address,
        contact_person=contact,
        write=[address],
        types=[ticket_type],
        teams=[team],
        recipients=[agent],
    )
    machine = MachineFactory(address=address)

    class Setup:
        pass

    s = Setup()
    s.address, s.team, s.agent, s.type, s.contact = address, team, agent, ticket_type, contact
    s.writer, s.machine = writer, machine
    return s


def file_ticket(s, **kwargs):
    values = {
        "actor": s.writer,
        "address": s.address,
        "ticket_type": s.type,
        "subject": "Press stops",
        "description": "It stops after ten cycles.",
        "team": s.team,
    }
    values.update(kwargs)
    return ticket_create(**values)


def existing_ticket(s, **kwargs):
    values = {"address": s.address, "type": s.type, "responsible_team": s.team}
    values.update(kwargs)
    return TicketFactory(**values)


def closed_ticket(s):
    ticket = existing_ticket(s)
    return ticket_set_status(actor=s.agent, ticket=ticket, status=status("Closed"))


# ---------------------------------------------------------------------------------------------
# ticket_create


def test_create_writes_ticket_description_and_event(setup):
    ticket = file_ticket(
        setup,
        subject="  Press stops  ",
        description="\n It stops after ten cycles. \n",
        machine=setup.machine,
        priority=Priority.HIGH,
    )

    ticket.refresh_from_db()
    assert ticket.number >= 100001
    assert ticket.subject == "Press stops"
    assert ticket.status == TicketStatus.objects.default()
    assert ticket.closed_at is None
    assert ticket.created_by == setup.writer
    assert ticket.contact_person == setup.contact  # the writer's own linked contact person
    assert ticket.machine == setup.machine
    assert ticket.priority == Priority.HIGH
    assert ticket.responsible_team == setup.team
    [message] = ticket.messages.all()
    assert message.kind == Message.Kind.DESCRIPTION
    assert message.body == "It stops after ten cycles."
    assert message.author == setup.writer
    [event] = ticket.events.all()
    assert (event.kind, event.actor, event.new_value) == (Kind.CREATED, setup.writer, "New")


def test_create_to_a_responsible_user_only(setup):
    ticket = file_ticket(setup, team=None, recipient=setup.agent)
    assert ticket.responsible_user == setup.agent
    assert ticket.responsible_team is None


def test_create_with_an_explicit_contact_person_of_the_address(setup):
    other = ContactPersonFactory(address=setup.address)
    assert file_ticket(setup, contact_person=other).contact_person == other


def test_create_without_own_contact_at_that_address_leaves_it_empty(setup):
    site = AddressFactory(parent=setup.address)
    setup.writer.write_addresses.add(site)
    assert file_ticket(setup, address=site).contact_person is None


def test_create_without_an_active_own_contact_leaves_it_empty(setup):
    """The writer's own linked contact person is used only while it is active."""
    setup.contact.is_active = False
    setup.contact.save()
    assert file_ticket(setup).contact_person is None


def test_agent_files_a_ticket_for_any_address_and_type(setup):
    other_type = TicketTypeFactory(name="Question")
    ticket = file_ticket(setup, actor=setup.agent, address=AddressFactory(), ticket_type=other_type)
    assert ticket.created_by == setup.agent
    assert ticket.contact_person is None


REFUSED_FILINGS = {
    "read-only user": lambda s: {
        "actor": ExternalUserFactory(
            roles=["Portal user"],
            address=s.address,
            read=[s.address],
            types=[s.type],
            teams=[s.team],
        )
    },
    "foreign address": lambda s: {"address": AddressFactory()},
    "inactive address": lambda s: {"address": _deactivated(s.address)},
    "wrong type": lambda s: {"ticket_type": TicketTypeFactory(name="Spare parts")},
    "foreign team": lambda s: {"team": TeamFactory(name="Service")},
    "foreign recipient user": lambda s: {"team": None, "recipient": UserFactory()},
    "no recipient at all": lambda s: {"team": None},
    "foreign machine": lambda s: {"machine": MachineFactory()},
    "contact person of a foreign address": lambda s: {"contact_person": ContactPersonFactory()},
    "inactive user": lambda s: {"actor": _deactivated(s.writer)},
    "no role": lambda s: {"actor": _without_roles(s.writer)},
}


def _deactivated(obj):
    """`obj` switched off, read anew as the next request would (grants load once per object)."""
    obj.is_active = False
    obj.save()
    return type(obj).objects.get(pk=obj.pk)


def _without_roles(user):
    user.groups.clear()
    return user


@pytest.mark.parametrize("case", REFUSED_FILINGS)
def test_refused_filing_writes_nothing(setup, settings, case):
    changes = REFUSED_FILINGS[case](setup)
    before = Snapshot(settings)
    upload = SimpleUploadedFile("log.txt", b"log")

    with pytest.raises(PermissionDenied) as caught:
        file_ticket(setup, files=[upload], **changes)

    assert isinstance(caught.value, AccessDenied)
    assert not caught.value.decision
    assert str(caught.value) == caught.value.decision.reason
    before.assert_unchanged()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"subject": "   "}, "subject"),
        ({"subject": "x" * 201}, "subject"),
        ({"description": " \n "}, "description"),
        ({"priority": "whenever"}, "priority"),
    ],
)
def test_invalid_filing_writes_nothing(setup, settings, changes, field):
    before = Snapshot(settings)
    with pytest.raises(ValidationError) as caught:
        file_ticket(setup, files=[SimpleUploadedFile("log.txt", b"log")], **changes)
    assert field in caught.value.message_dict
    before.assert_unchanged()


def test_contact_person_of_another_visible_address_is_a_form_error(setup, settings):
    site = AddressFactory()
    setup.writer.read_addresses.add(site)
    before = Snapshot(settings)
    with pytest.raises(ValidationError) as caught:
        file_ticket(setup, contact_person=ContactPersonFactory(address=site))
    assert "contact_person" in caught.value.message_dict
    before.assert_unchanged()


# ---------------------------------------------------------------------------------------------
# Attachments


def test_attachments_are_stored_with_their_basename_size_and_type(setup, settings):
    report = SimpleUploadedFile("report.pdf", b"%PDF-1.4 demo", content_type="application/pdf")
    windows = SimpleUploadedFile("photo.jpg", b"\xff\xd8\xff", content_type="image/jpeg")
    windows.name = "C:\\Users\\erika\\Pictures\\photo.jpg"  # old browsers send the full path

    ticket = file_ticket(setup, files=[report, windows])

    first, second = Attachment.objects.filter(message__ticket=ticket)
    assert (first.original_name, first.size, first.content_type) == (
        "report.pdf",
        len(b"%PDF-1.4 demo"),
        "application/pdf",
    )
    assert (second.original_name, second.size, second.content_type) == (
        "photo.jpg",
        3,
        "image/jpeg",
    )
    # Stored under a generated name, never the client's.
    assert first.file.name.startswith("attachments/")
    assert "report" not in first.file.name and first.file.name.endswith(".pdf")
    assert "erika" not in second.file.name
    with first.file.open("rb") as stored:
        assert stored.read() == b"%PDF-1.4 demo"
    assert len(stored_files(settings)) == 2


def test_too_many_files_are_refused_before_anything_is_written(setup, settings):
    settings.ATTACHMENT_MAX_COUNT = 2
    uploads = [SimpleUploadedFile(f"f{n}.txt", b"x") for n in range(3)]
    before = Snapshot(settings)

    with pytest.raises(ValidationError) as caught:
        file_ticket(setup, files=uploads)

    [message] = caught.value.message_dict["files"]
    assert message == "Attach at most 2 files to a message (you chose 3)."
    before.assert_unchanged()


def test_too_large_file_is_refused_naming_the_file_and_the_limit(setup, settings):
    settings.ATTACHMENT_MAX_SIZE = 1024
    small = SimpleUploadedFile("ok.txt", b"x" * 1024)
    big = SimpleUploadedFile("scan.tiff", b"x" * 2048)
    before = Snapshot(settings)

    with pytest.raises(ValidationError) as caught:
        file_ticket(setup, files=[small, big])

    [message] = caught.value.message_dict["files"]
    assert message.replace("\xa0", " ") == (
        "The file “scan.tiff” is 2.0 KB; a file may be at most 1.0 KB."
    )
    before.assert_unchanged()


def test_too_large_file_on_a_reply_leaves_the_ticket_untouched(setup, settings):
    settings.ATTACHMENT_MAX_SIZE = 10
    ticket = closed_ticket(setup)
    before = Snapshot(settings, ticket)
    with pytest.raises(ValidationError) as caught:
        ticket_reply(
            actor=setup.writer,
            ticket=ticket,
            body="See the photo",
            files=[SimpleUploadedFile("photo.png", b"x" * 11)],
        )
    assert "photo.png" in caught.value.message_dict["files"][0]
    before.assert_unchanged()


# ---------------------------------------------------------------------------------------------
# ticket_reply


def test_reply_adds_public_message_and_bumps_updated_at(setup, settings):
    ticket = existing_ticket(setup)
    before_update = ticket.updated_at
    files = [SimpleUploadedFile("a.txt", b"a")]

    message = ticket_reply(actor=setup.writer, ticket=ticket, body="  More details  ", files=files)

    assert (message.kind, message.author, message.body) == (
        Message.Kind.REPLY,
        setup.writer,
        "More details",
    )
    assert message.attachments.get().original_name == "a.txt"
    ticket.refresh_from_db()
    assert ticket.updated_at > before_update
    assert ticket.status.is_default
    assert not ticket.events.exists()


def test_agent_replies_to_any_ticket(setup):
    ticket = existing_ticket(setup, address=AddressFactory())
    assert ticket_reply(actor=setup.agent, ticket=ticket, body="On our way").author == setup.agent


def test_reply_to_closed_ticket_reopens_it(setup):
    ticket = closed_ticket(setup)
    assert ticket.closed_at is not None
    ticket.events.all().delete()

    message = ticket_reply(actor=setup.writer, ticket=ticket, body="It is broken again.")

    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.objects.default()
    assert ticket.closed_at is None
    assert message.ticket.status == ticket.status
    events = {(e.kind, e.old_value, e.new_value, e.actor) for e in ticket.events.all()}
    assert events == {
        (Kind.STATUS_CHANGED, "Closed", "New", setup.writer),
        (Kind.REOPENED, "", "", setup.writer),
    }


REFUSED_REPLIERS = {
    "read-only user": lambda s: ExternalUserFactory(
        roles=["Portal user"], address=s.address, read=[s.address]
    ),
    "user of another address": lambda s: ExternalUserFactory(
        roles=["Portal editor"], write=[AddressFactory()]
    ),
    "inactive user": lambda s: _deactivated(s.writer),
    "internal user without desk rights": lambda s: UserFactory(),
    "inactive agent": lambda s: _deactivated(s.agent),
}


@pytest.mark.parametrize("case", REFUSED_REPLIERS)
@pytest.mark.parametrize("closed", [False, True], ids=["open", "closed"])
def test_refused_reply_writes_nothing(setup, settings, case, closed):
    ticket = closed_ticket(setup) if closed else existing_ticket(setup)
    actor = REFUSED_REPLIERS[case](setup)
    before = Snapshot(settings, ticket)

    with pytest.raises(PermissionDenied):
        ticket_reply(
            actor=actor, ticket=ticket, body="Hello", files=[SimpleUploadedFile("a.txt", b"a")]
        )

    before.assert_unchanged()


def test_reply_needs_a_body(setup, settings):
    ticket = existing_ticket(setup)
    before = Snapshot(settings, ticket)
    with pytest.raises(ValidationError) as caught:
        ticket_reply(actor=setup.writer, ticket=ticket, body="  ")
    assert caught.value.message_dict == {"body": ["This field is required."]}
    before.assert_unchanged()


# ---------------------------------------------------------------------------------------------
# ticket_set_status


def test_set_status_records_old_and_new_names(setup):
    ticket = existing_ticket(setup)

    changed = ticket_set_status(actor=setup.writer, ticket=ticket, status=status("In progress"))

    assert changed.status == status("In progress")
    ticket.refresh_from_db()
    assert ticket.status == status("In progress")
    assert ticket.closed_at is None
    [event] = ticket.events.all()
    assert (event.kind, event.old_value, event.new_value, event.actor) == (
        Kind.STATUS_CHANGED,
        "New",
        "In progress",
        setup.writer,
    )


def test_closing_sets_closed_at_and_records_closed(setup):
    ticket = existing_ticket(setup)
    ticket_set_status(actor=setup.agent, ticket=ticket, status=status("Solved"))
    ticket.refresh_from_db()
    closed_at = ticket.closed_at
    assert closed_at is not None
    assert [e.kind for e in ticket.events.all()] == [Kind.STATUS_CHANGED, Kind.CLOSED]

    # From one closed status to another: still closed since the first time, not closed again.
    ticket_set_status(actor=setup.agent, ticket=ticket, status=status("Closed"))
    ticket.refresh_from_db()
    assert ticket.closed_at == closed_at
    assert [e.kind for e in ticket.events.all()] == [
        Kind.STATUS_CHANGED,
        Kind.CLOSED,
        Kind.STATUS_CHANGED,
    ]


def test_leaving_a_closed_status_reopens(setup):
    ticket = closed_ticket(setup)
    ticket.events.all().delete()

    ticket_set_status(actor=setup.agent, ticket=ticket, status=status("In progress"))

    ticket.refresh_from_db()
    assert ticket.closed_at is None
    assert [(e.kind, e.old_value, e.new_value) for e in ticket.events.all()] == [
        (Kind.STATUS_CHANGED, "Closed", "In progress"),
        (Kind.REOPENED, "", ""),
    ]


def test_setting_the_current_status_changes_nothing(setup, settings):
    ticket = existing_ticket(setup)
    before = Snapshot(settings, ticket)
    ticket_set_status(actor=setup.writer, ticket=ticket, status=ticket.status)
    before.assert_unchanged()


def test_restricted_user_sets_an_allowed_status(setup):
    setup.writer.restrict_status = True
    setup.writer.save()
    setup.writer.allowed_statuses.add(status("Solved"))
    ticket = existing_ticket(setup)

    ticket_set_status(actor=setup.writer, ticket=ticket, status=status("Solved"))

    ticket.refresh_from_db()
    assert ticket.status == status("Solved") and ticket.closed_at is not None


def _restricted(s):
    s.writer.restrict_status = True
    s.writer.save()
    s.writer.allowed_statuses.add(status("Solved"))
    return s.writer, status("In progress")


def _inactive_status(actor):
    def case(s):
        target = TicketStatus.objects.create(name="Parked", order=60, is_active=False)
        return getattr(s, actor), target

    return case


REFUSED_STATUS_CHANGES = {
    "read-only user": lambda s: (
        ExternalUserFactory(roles=["Portal user"], address=s.address, read=[s.address]),
        status("Solved"),
    ),
    "user of another address": lambda s: (
        ExternalUserFactory(roles=["Portal user"], write=[AddressFactory()]),
        status("Solved"),
    ),
    "restricted status": _restricted,
    "inactive status (customer)": _inactive_status("writer"),
    "inactive status (agent)": _inactive_status("agent"),
    "inactive user": lambda s: (_deactivated(s.writer), status("Solved")),
}


@pytest.mark.parametrize("case", REFUSED_STATUS_CHANGES)
def test_refused_status_change_writes_nothing(setup, settings, case):
    actor, target = REFUSED_STATUS_CHANGES[case](setup)
    ticket = existing_ticket(setup)
    before = Snapshot(settings, ticket)

    with pytest.raises(PermissionDenied):
        ticket_set_status(actor=actor, ticket=ticket, status=target)

    before.assert_unchanged()


# ---------------------------------------------------------------------------------------------
# ticket_add_internal_note


def test_agent_adds_internal_note_hidden_from_customers(setup, settings):
    ticket = existing_ticket(setup)
    updated_at = ticket.updated_at

    note = ticket_add_internal_note(
        actor=setup.agent,
        ticket=ticket,
        body="Customer called, seal kit ordered.",
        files=[SimpleUploadedFile("quote.txt", b"quote")],
    )

    assert (note.kind, note.author) == (Message.Kind.INTERNAL_NOTE, setup.agent)
    assert note.attachments.get().original_name == "quote.txt"
    ticket.refresh_from_db()
    assert ticket.updated_at == updated_at  # customers do not see that something happened
    assert not ticket.events.exists()
    assert note in policy.messages_visible(ticket.messages.all(), setup.agent)
    assert note not in policy.messages_visible(ticket.messages.all(), setup.writer)


REFUSED_NOTE_AUTHORS = {
    "external user who may reply": lambda s: s.writer,
    "external editor": lambda s: ExternalUserFactory(roles=["Portal editor"], write=[s.address]),
    "internal user without desk rights": lambda s: UserFactory(),
    "inactive agent": lambda s: _deactivated(s.agent),
}


@pytest.mark.parametrize("case", REFUSED_NOTE_AUTHORS)
def test_refused_internal_note_writes_nothing(setup, settings, case):
    actor = REFUSED_NOTE_AUTHORS[case](setup)
    ticket = existing_ticket(setup)
    before = Snapshot(settings, ticket)

    with pytest.raises(PermissionDenied):
        ticket_add_internal_note(
            actor=actor, ticket=ticket, body="Secret", files=[SimpleUploadedFile("a.txt", b"a")]
        )

    before.assert_unchanged()


def test_external_user_is_told_why_a_note_is_refused(setup):
    with pytest.raises(AccessDenied) as caught:
        ticket_add_internal_note(actor=setup.writer, ticket=existing_ticket(setup), body="Hi")
    assert "internal users" in str(caught.value)


# ---------------------------------------------------------------------------------------------
# Concurrency (PostgreSQL: the ticket row is locked for the length of the change)


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_replies_to_a_closed_ticket_reopen_it_once(setup):
    ticket = closed_ticket(setup)
    first_replied = threading.Event()
    errors = []

    def first():
        try:
            with transaction.atomic():
                ticket_reply(actor=setup.agent, ticket=ticket, body="First")
                first_replied.set()
                time.sleep(0.5)  # hold the row lock; the second reply must wait for it
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            first_replied.set()
            connection.close()

    def second():
        try:
            first_replied.wait(5)
            ticket_reply(actor=setup.writer, ticket=ticket, body="Second")
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)

    assert errors == []
    assert ticket.messages.count() == 2
    assert ticket.events.filter(kind=Kind.REOPENED).count() == 1
    ticket.refresh_from_db()
    assert ticket.closed_at is None
