"""Ticket integrity: database constraints, clean(), numbers and the default status via the ORM."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from tests.factories import (
    AddressFactory,
    ContactPersonFactory,
    ExternalUserFactory,
    MachineFactory,
    MessageFactory,
    TeamFactory,
    TicketFactory,
    TicketStatusFactory,
    TicketTypeFactory,
    UserFactory,
)
from tickets.models import Message, Ticket, TicketStatus


def _ticket(**fields):
    """An unsaved ticket with everything required except what `fields` override."""
    values = {
        "subject": "Press stops",
        "type": TicketTypeFactory(),
        "address": AddressFactory(),
        "responsible_team": TeamFactory(),
    }
    values.update(fields)
    return Ticket(**values)


# --- Responsible team or user ------------------------------------------------------------------


@pytest.mark.django_db
def test_a_ticket_needs_a_responsible_team_or_user_in_the_database():
    with pytest.raises(IntegrityError), transaction.atomic():
        Ticket.objects.create(
            subject="Nobody's", type=TicketTypeFactory(), address=AddressFactory()
        )


@pytest.mark.django_db
def test_removing_the_last_responsible_is_refused_by_the_database():
    ticket = TicketFactory(responsible_user=None)

    with pytest.raises(IntegrityError), transaction.atomic():
        Ticket.objects.filter(pk=ticket.pk).update(responsible_team=None)


@pytest.mark.django_db
@pytest.mark.parametrize("responsible", ["team", "user", "both"])
def test_a_responsible_team_or_user_or_both_is_enough(responsible):
    fields = {
        "team": {"responsible_team": TeamFactory()},
        "user": {"responsible_team": None, "responsible_user": UserFactory()},
        "both": {"responsible_team": TeamFactory(), "responsible_user": UserFactory()},
    }[responsible]

    ticket = _ticket(**fields)
    ticket.clean()
    ticket.save()

    assert Ticket.objects.filter(pk=ticket.pk).exists()


@pytest.mark.django_db
def test_clean_refuses_a_ticket_without_responsible():
    with pytest.raises(ValidationError) as error:
        _ticket(responsible_team=None).clean()

    assert "responsible_team" in error.value.message_dict


# --- Statuses ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_there_is_one_default_status_after_migrating():
    default = TicketStatus.objects.default()

    assert default.is_active and not default.is_closed


@pytest.mark.django_db
def test_at_most_one_default_status_in_the_database():
    assert TicketStatus.objects.filter(is_default=True).exists()

    with pytest.raises(IntegrityError), transaction.atomic():
        TicketStatus.objects.create(name="Also default", is_default=True)


@pytest.mark.django_db
def test_a_second_default_status_is_refused_in_validation():
    with pytest.raises(ValidationError):
        TicketStatus(name="Also default", is_default=True).full_clean()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "fields", [{"is_closed": True}, {"is_active": False}, {"is_closed": True, "is_active": False}]
)
def test_the_default_status_must_be_active_and_open_in_the_database(fields):
    TicketStatus.objects.update(is_default=False)  # leave the unique default out of the way

    with pytest.raises(IntegrityError), transaction.atomic():
        TicketStatus.objects.create(name="Closed default", is_default=True, **fields)


@pytest.mark.django_db
@pytest.mark.parametrize("fields", [{"is_closed": True}, {"is_active": False}])
def test_the_current_default_cannot_be_closed_or_deactivated(fields):
    with pytest.raises(IntegrityError), transaction.atomic():
        TicketStatus.objects.filter(is_default=True).update(**fields)


@pytest.mark.django_db
def test_a_closed_default_status_is_refused_in_validation():
    TicketStatus.objects.update(is_default=False)

    with pytest.raises(ValidationError):
        TicketStatus(name="Closed default", is_default=True, is_closed=True).full_clean()


@pytest.mark.django_db
def test_closed_and_inactive_statuses_are_fine_when_not_default():
    TicketStatusFactory(name="Done", is_closed=True)
    TicketStatusFactory(name="Retired", is_active=False)

    assert TicketStatus.objects.filter(name__in=["Done", "Retired"]).count() == 2


# --- clean(): everything at the ticket's address, internal responsible ------------------------


@pytest.mark.django_db
def test_clean_refuses_a_machine_of_another_address():
    ticket = _ticket(machine=MachineFactory(address=AddressFactory()))

    with pytest.raises(ValidationError) as error:
        ticket.clean()

    assert "machine" in error.value.message_dict


@pytest.mark.django_db
def test_clean_refuses_a_contact_person_of_another_address():
    ticket = _ticket(contact_person=ContactPersonFactory(address=AddressFactory()))

    with pytest.raises(ValidationError) as error:
        ticket.clean()

    assert "contact_person" in error.value.message_dict


@pytest.mark.django_db
def test_clean_refuses_an_external_responsible_user():
    ticket = _ticket(responsible_team=None, responsible_user=ExternalUserFactory())

    with pytest.raises(ValidationError) as error:
        ticket.clean()

    assert "responsible_user" in error.value.message_dict


@pytest.mark.django_db
def test_clean_accepts_machine_and_contact_person_of_the_ticket_address():
    address = AddressFactory()
    ticket = _ticket(
        address=address,
        machine=MachineFactory(address=address),
        contact_person=ContactPersonFactory(address=address),
        responsible_user=UserFactory(),
    )

    ticket.clean()  # no error


# --- Creating through the ORM ------------------------------------------------------------------


@pytest.mark.django_db
def test_a_ticket_created_through_the_orm_gets_a_number_and_the_default_status():
    ticket = Ticket.objects.create(
        subject="Press stops",
        type=TicketTypeFactory(),
        address=AddressFactory(),
        responsible_team=TeamFactory(),
    )

    ticket = Ticket.objects.get(pk=ticket.pk)
    assert ticket.number is not None and ticket.number > 0
    assert ticket.status == TicketStatus.objects.default()
    assert ticket.closed_at is None and not ticket.is_closed


@pytest.mark.django_db
def test_an_explicit_status_is_kept():
    waiting = TicketStatusFactory(name="Waiting")

    ticket = TicketFactory(status=waiting)

    assert Ticket.objects.get(pk=ticket.pk).status == waiting


@pytest.mark.django_db
def test_saving_again_keeps_the_number():
    ticket = TicketFactory()
    number = ticket.number

    ticket.subject = "Changed"
    ticket.save()

    assert Ticket.objects.get(pk=ticket.pk).number == number


@pytest.mark.django_db
def test_bulk_create_assigns_distinct_numbers():
    existing = TicketFactory()
    status, ticket_type, team = TicketStatus.objects.default(), TicketTypeFactory(), TeamFactory()
    address = AddressFactory()

    Ticket.objects.bulk_create(
        [
            Ticket(
                subject=f"Imported {i}",
                type=ticket_type,
                status=status,
                address=address,
                responsible_team=team,
            )
            for i in range(5)
        ]
    )

    numbers = list(Ticket.objects.filter(address=address).values_list("number", flat=True))
    assert len(numbers) == 5 and None not in numbers
    assert len(set(numbers) | {existing.number}) == 6
    later = TicketFactory()
    assert later.number not in numbers


# --- Messages ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_public_messages_exclude_internal_notes():
    ticket = TicketFactory()
    description = MessageFactory(ticket=ticket, kind=Message.Kind.DESCRIPTION)
    reply = MessageFactory(ticket=ticket, kind=Message.Kind.REPLY)
    note = MessageFactory(ticket=ticket, kind=Message.Kind.INTERNAL_NOTE)

    public = set(ticket.messages.public())

    assert public == {description, reply}
    assert note not in public
    assert note.is_internal and not reply.is_internal


@pytest.mark.django_db
def test_bulk_create_gives_numbers_and_the_default_status():
    from tests.factories import AddressFactory, TeamFactory, TicketTypeFactory
    from tickets.models import Ticket, TicketStatus

    address, team, ticket_type = AddressFactory(), TeamFactory(), TicketTypeFactory()
    created = Ticket.objects.bulk_create(
        [
            Ticket(
                subject=f"Imported {i}", type=ticket_type, address=address, responsible_team=team
            )
            for i in range(3)
        ]
    )
    assert len({ticket.number for ticket in created}) == 3
    assert all(ticket.status == TicketStatus.objects.default() for ticket in created)
