"""Ticket numbers: unique, never reused, race-free (DESIGN.md: "assigned race-free")."""

import threading

import pytest
from django.db import connection

from tests.factories import AddressFactory, TeamFactory, TicketFactory, TicketTypeFactory
from tickets.models import Ticket, TicketStatus
from tickets.numbering import next_ticket_numbers

THREADS = 8
TICKETS_PER_THREAD = 25


@pytest.mark.django_db
def test_numbers_strictly_increase_in_sequential_creation():
    numbers = [TicketFactory().number for _ in range(10)]

    assert all(earlier < later for earlier, later in zip(numbers, numbers[1:], strict=False))


@pytest.mark.django_db
def test_next_ticket_numbers_reserves_distinct_unused_numbers():
    used = {TicketFactory().number for _ in range(3)}

    reserved = next_ticket_numbers(5)

    assert len(reserved) == len(set(reserved)) == 5
    assert not used & set(reserved)
    # Reserved numbers are never handed out again.
    later = {TicketFactory().number for _ in range(3)} | set(next_ticket_numbers(2))
    assert not later & set(reserved)


@pytest.mark.django_db
def test_reserving_no_number_reserves_nothing():
    before = next_ticket_numbers(1)[0]

    assert next_ticket_numbers(0) == []
    assert next_ticket_numbers(1)[0] == before + 1


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_numbers_are_unique_under_concurrent_creation():
    default_status = TicketStatus.objects.default()
    address, ticket_type, team = AddressFactory(), TicketTypeFactory(), TeamFactory()
    start = threading.Barrier(THREADS)
    errors = []

    def create_tickets(worker):
        try:
            start.wait()
            for i in range(TICKETS_PER_THREAD):
                Ticket.objects.create(
                    subject=f"Worker {worker} ticket {i}",
                    type=ticket_type,
                    address=address,
                    responsible_team=team,
                )
        except Exception as error:  # noqa: BLE001 - every failure is reported below
            errors.append(error)
        finally:
            connection.close()

    workers = [threading.Thread(target=create_tickets, args=(n,)) for n in range(THREADS)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)

    assert not any(worker.is_alive() for worker in workers)
    assert errors == []
    tickets = Ticket.objects.filter(address=address)
    numbers = list(tickets.values_list("number", flat=True))
    assert len(numbers) == THREADS * TICKETS_PER_THREAD
    assert len(set(numbers)) == THREADS * TICKETS_PER_THREAD
    assert set(tickets.values_list("status", flat=True)) == {default_status.pk}
