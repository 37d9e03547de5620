"""`Ticket.awaiting_customer`: the latest public message (description or reply, never an
internal note) was written by an internal user. Kept by every write of a message (services,
factories, deletion), filled by migration 0007 and by the seeders, and read by the portal
dashboard through its own index."""

import importlib
import random
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.utils import timezone

from portal.portal_views import tickets_awaiting_answer
from tests.factories import (
    AddressFactory,
    ExternalUserFactory,
    MessageFactory,
    TeamFactory,
    TicketFactory,
    TicketTypeFactory,
    UserFactory,
)
from tickets import services
from tickets.models import Message, Ticket, TicketStatus, awaiting_customer_condition

pytestmark = pytest.mark.django_db

Kind = Message.Kind


@pytest.fixture
def world():
    site = AddressFactory(name="Site Works")
    team = TeamFactory(name="Support")
    fault = TicketTypeFactory(name="Fault")
    rights = {
        "roles": ["Portal user"],
        "address": site,
        "write": [site],
        "types": [fault],
        "teams": [team],
    }
    return SimpleNamespace(
        site=site,
        team=team,
        fault=fault,
        agent=UserFactory(roles=["Support agent"]),
        customer=ExternalUserFactory(**rights),
        colleague=ExternalUserFactory(**rights),
    )


def file_ticket(world, actor):
    return services.ticket_create(
        actor=actor,
        address=world.site,
        ticket_type=world.fault,
        subject="Press stops",
        description="It stops after ten cycles.",
        team=world.team,
    )


def stored(ticket):
    return Ticket.objects.get(pk=ticket.pk).awaiting_customer


def expected(ticket):
    """The definition in plain Python, from the ticket's messages as stored."""
    public = [m for m in ticket.messages.select_related("author") if not m.is_internal]
    if not public:
        return False
    latest = max(public, key=lambda message: (message.created_at, message.pk))
    return latest.author is not None and not latest.author.is_external


# ---------------------------------------------------------------------------------------------
# The services.


def test_a_ticket_filed_by_the_customer_waits_for_the_support_team(world):
    ticket = file_ticket(world, world.customer)
    assert ticket.awaiting_customer is False
    assert stored(ticket) is False
    assert expected(ticket) is False  # set at filing, without recomputing from the messages


def test_a_ticket_filed_by_an_agent_for_the_customer_waits_for_the_customer(world):
    ticket = file_ticket(world, world.agent)
    assert ticket.awaiting_customer is True
    assert stored(ticket) is True
    assert expected(ticket) is True


def test_replies_move_the_flag_to_the_side_that_must_answer(world):
    ticket = file_ticket(world, world.customer)

    message = services.ticket_reply(actor=world.agent, ticket=ticket, body="Which model?")
    assert stored(ticket) is True
    assert message.ticket.awaiting_customer is True  # the service's copy agrees

    message = services.ticket_reply(actor=world.colleague, ticket=ticket, body="The big one")
    assert stored(ticket) is False
    assert message.ticket.awaiting_customer is False

    services.ticket_reply(actor=world.agent, ticket=ticket, body="We come on Monday")
    assert stored(ticket) is True
    services.ticket_reply(actor=world.customer, ticket=ticket, body="Thanks")
    assert stored(ticket) is False


def test_internal_notes_never_count(world):
    answered = file_ticket(world, world.customer)
    services.ticket_reply(actor=world.agent, ticket=answered, body="Which model?")
    services.ticket_add_internal_note(actor=world.agent, ticket=answered, body="Probably the big")
    assert stored(answered) is True

    customer_last = file_ticket(world, world.customer)
    services.ticket_reply(actor=world.agent, ticket=customer_last, body="Which model?")
    services.ticket_reply(actor=world.customer, ticket=customer_last, body="The big one")
    services.ticket_add_internal_note(actor=world.agent, ticket=customer_last, body="Order parts")
    assert stored(customer_last) is False

    only_notes = file_ticket(world, world.customer)
    services.ticket_add_internal_note(actor=world.agent, ticket=only_notes, body="Look at it")
    assert stored(only_notes) is False


def test_an_agent_reply_reopening_a_closed_ticket_waits_for_the_customer(world):
    ticket = file_ticket(world, world.customer)
    services.ticket_set_status(
        actor=world.agent, ticket=ticket, status=TicketStatus.objects.get(name="Closed")
    )
    services.ticket_reply(actor=world.agent, ticket=ticket, body="One more question")
    ticket.refresh_from_db()
    assert ticket.closed_at is None
    assert ticket.awaiting_customer is True


def test_the_flag_does_not_touch_updated_at(world):
    ticket = file_ticket(world, world.customer)
    before = Ticket.objects.get(pk=ticket.pk).updated_at
    MessageFactory(ticket=ticket, author=world.agent, kind=Kind.INTERNAL_NOTE)
    message = MessageFactory(ticket=ticket, author=world.agent)
    assert stored(ticket) is True
    message.delete()
    assert stored(ticket) is False
    assert Ticket.objects.get(pk=ticket.pk).updated_at == before


# ---------------------------------------------------------------------------------------------
# Any write of a message: factories, updates, deletion, stale copies of the ticket.


def test_the_latest_message_by_time_decides_not_the_latest_written(world):
    ticket = TicketFactory(address=world.site, type=world.fault, responsible_team=world.team)
    now = timezone.now()
    MessageFactory(ticket=ticket, author=world.agent, created_at=now)
    MessageFactory(ticket=ticket, author=world.customer, created_at=now - timedelta(hours=1))
    assert stored(ticket) is True  # the customer's message is older

    MessageFactory(ticket=ticket, author=world.customer, created_at=now + timedelta(hours=1))
    assert stored(ticket) is False


def test_equal_times_are_ordered_by_primary_key(world):
    ticket = TicketFactory(address=world.site, type=world.fault, responsible_team=world.team)
    now = timezone.now()
    MessageFactory(ticket=ticket, author=world.customer, created_at=now)
    MessageFactory(ticket=ticket, author=world.agent, created_at=now)
    assert stored(ticket) is True
    MessageFactory(ticket=ticket, author=world.customer, created_at=now)
    assert stored(ticket) is False


def test_a_message_without_author_counts_for_no_side(world):
    ticket = file_ticket(world, world.customer)
    services.ticket_reply(actor=world.agent, ticket=ticket, body="Which model?")
    MessageFactory(ticket=ticket, author=None, created_at=timezone.now() + timedelta(minutes=1))
    assert stored(ticket) is False


def test_deleting_a_message_recomputes_the_flag(world):
    ticket = file_ticket(world, world.customer)
    answer = services.ticket_reply(actor=world.agent, ticket=ticket, body="Which model?")
    question = services.ticket_reply(actor=world.customer, ticket=ticket, body="Which one?")
    assert stored(ticket) is False

    question.delete()
    assert stored(ticket) is True
    answer.delete()
    assert stored(ticket) is False  # the customer's description is the latest again


def test_changing_a_message_recomputes_its_old_and_new_ticket(world):
    first = file_ticket(world, world.customer)
    second = file_ticket(world, world.customer)
    answer = services.ticket_reply(actor=world.agent, ticket=first, body="Which model?")
    assert (stored(first), stored(second)) == (True, False)

    answer.kind = Kind.INTERNAL_NOTE
    answer.save()
    assert stored(first) is False

    answer.kind = Kind.REPLY
    answer.save()
    assert stored(first) is True

    answer.ticket = second
    answer.save()
    assert (stored(first), stored(second)) == (False, True)


def test_a_stale_copy_of_the_ticket_cannot_put_an_old_flag_back(world):
    ticket = file_ticket(world, world.customer)
    stale = Ticket.objects.get(pk=ticket.pk)  # e.g. an admin form opened before the answer
    services.ticket_reply(actor=world.agent, ticket=ticket, body="Which model?")

    stale.subject = "Press stops after ten cycles"
    stale.save()
    ticket.refresh_from_db()
    assert ticket.subject == "Press stops after ten cycles"
    assert ticket.awaiting_customer is True

    deferred = Ticket.objects.only("subject").get(pk=ticket.pk)
    deferred.subject = "Press stops"
    deferred.save()
    assert Ticket.objects.get(pk=ticket.pk).subject == "Press stops"
    assert stored(ticket) is True


def test_the_flag_follows_its_definition_for_any_conversation(world):
    """Random conversations written out of time order, with every kind of author; the stored
    flag, the database definition and the plain-Python definition agree for every ticket."""
    rng = random.Random(20261128)
    authors = [world.agent, world.customer, world.colleague, None]
    start = timezone.now() - timedelta(days=30)
    tickets = []
    for _ in range(25):
        ticket = TicketFactory(address=world.site, type=world.fault, responsible_team=world.team)
        for _ in range(rng.randint(0, 5)):
            MessageFactory(
                ticket=ticket,
                author=rng.choice(authors),
                kind=rng.choice([Kind.DESCRIPTION, Kind.REPLY, Kind.REPLY, Kind.INTERNAL_NOTE]),
                created_at=start + timedelta(hours=rng.randint(0, 5)),  # ties happen
            )
        tickets.append(ticket)
    messages = list(Message.objects.order_by("pk"))
    for message in rng.sample(messages, len(messages) // 5):  # and some deletions
        message.delete()

    by_definition = dict(
        Ticket.objects.annotate(awaiting=awaiting_customer_condition()).values_list(
            "pk", "awaiting"
        )
    )
    flags = {ticket.pk: expected(ticket) for ticket in tickets}
    assert {True, False} <= set(flags.values())
    assert {ticket.pk: stored(ticket) for ticket in tickets} == flags
    assert by_definition == flags


# ---------------------------------------------------------------------------------------------
# Filling the flag past `Message.save`: the queryset method and the migration.


def test_refresh_repairs_flags_written_past_the_messages(world):
    waiting = file_ticket(world, world.customer)
    services.ticket_reply(actor=world.agent, ticket=waiting, body="Which model?")
    not_waiting = file_ticket(world, world.customer)
    Ticket.objects.filter(pk=waiting.pk).update(awaiting_customer=False)
    Ticket.objects.filter(pk=not_waiting.pk).update(awaiting_customer=True)

    assert Ticket.objects.filter(pk=waiting.pk).refresh_awaiting_customer() == 1
    assert (stored(waiting), stored(not_waiting)) == (True, True)  # only the tickets asked for
    assert Ticket.objects.refresh_awaiting_customer() == 1
    assert (stored(waiting), stored(not_waiting)) == (True, False)
    assert Ticket.objects.refresh_awaiting_customer() == 0


def test_refresh_reads_whether_authors_are_external_now(world):
    ticket = file_ticket(world, world.customer)
    helper = UserFactory()
    MessageFactory(ticket=ticket, author=helper)
    assert stored(ticket) is True
    type(helper).objects.filter(pk=helper.pk).update(is_external=True, address=world.site)
    assert stored(ticket) is True  # as documented: until refreshed
    Ticket.objects.refresh_awaiting_customer()
    assert stored(ticket) is False


def _migration():
    return importlib.import_module("tickets.migrations.0007_ticket_awaiting_customer")


def test_the_migration_fills_the_flag_of_existing_tickets(world):
    agent_last = file_ticket(world, world.customer)
    services.ticket_reply(actor=world.agent, ticket=agent_last, body="Which model?")
    note_last = file_ticket(world, world.customer)
    services.ticket_reply(actor=world.agent, ticket=note_last, body="Which model?")
    services.ticket_add_internal_note(actor=world.agent, ticket=note_last, body="Order parts")
    customer_last = file_ticket(world, world.customer)
    services.ticket_reply(actor=world.agent, ticket=customer_last, body="Which model?")
    services.ticket_reply(actor=world.customer, ticket=customer_last, body="The big one")
    filed_by_agent = file_ticket(world, world.agent)
    out_of_order = TicketFactory(address=world.site, type=world.fault, responsible_team=world.team)
    MessageFactory(ticket=out_of_order, author=world.agent, created_at=timezone.now())
    MessageFactory(
        ticket=out_of_order, author=world.customer, created_at=timezone.now() - timedelta(days=1)
    )
    closed = file_ticket(world, world.customer)
    services.ticket_reply(actor=world.agent, ticket=closed, body="Done")
    services.ticket_set_status(
        actor=world.agent, ticket=closed, status=TicketStatus.objects.get(name="Solved")
    )
    empty = TicketFactory(address=world.site, type=world.fault, responsible_team=world.team)
    waiting = {agent_last.pk, note_last.pk, filed_by_agent.pk, out_of_order.pk, closed.pk}

    Ticket.objects.update(awaiting_customer=False)  # as right after AddField
    apps = (
        MigrationLoader(connection).project_state(("tickets", "0007_ticket_awaiting_customer")).apps
    )
    schema_editor = SimpleNamespace(connection=connection, quote_name=connection.ops.quote_name)
    _migration().backfill_awaiting_customer(apps, schema_editor)
    assert set(Ticket.objects.filter(awaiting_customer=True).values_list("pk", flat=True)) == (
        waiting
    )
    assert stored(customer_last) is False
    assert stored(empty) is False

    _migration().backfill_awaiting_customer(apps, schema_editor)  # again: nothing changes
    assert set(Ticket.objects.filter(awaiting_customer=True).values_list("pk", flat=True)) == (
        waiting
    )


# ---------------------------------------------------------------------------------------------
# The dashboard's query.


def test_the_dashboard_list_is_the_flag_on_open_writable_tickets(world):
    answered = file_ticket(world, world.customer)
    services.ticket_reply(actor=world.agent, ticket=answered, body="Which model?")
    file_ticket(world, world.customer)
    closed = file_ticket(world, world.agent)
    services.ticket_set_status(
        actor=world.agent, ticket=closed, status=TicketStatus.objects.get(name="Solved")
    )
    reader = ExternalUserFactory(roles=["Portal user"], address=world.site, read=[world.site])

    assert set(tickets_awaiting_answer(world.customer)) == {answered}
    assert set(tickets_awaiting_answer(world.colleague)) == {answered}
    assert not tickets_awaiting_answer(reader).exists()


@pytest.mark.postgres_only
def test_the_dashboard_list_reads_the_awaiting_index(world):
    """With many open tickets at the address and few waiting, PostgreSQL takes the partial
    index of waiting open tickets by address."""
    others = AddressFactory.create_batch(3)
    world.customer.write_addresses.add(*others)
    rows = [
        Ticket(
            subject=f"Ticket {index}",
            type=world.fault,
            address=[world.site, *others][index % 4],
            responsible_team=world.team,
            awaiting_customer=index % 100 == 0,
        )
        for index in range(2000)
    ]
    Ticket.objects.bulk_create(rows)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE tickets_ticket")
        queryset = tickets_awaiting_answer(
            type(world.customer).objects.get(pk=world.customer.pk)
        ).order_by("-updated_at", "-pk")[:11]
        sql, params = queryset.query.sql_with_params()
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "ticket_awaiting_addr_idx" in plan, plan
    assert len(queryset) == 11


def test_an_author_changing_sides_recomputes_the_flags_of_their_tickets(db):
    """Whether the last word is staff's counts the author's side as it is now."""
    from tests.factories import AddressFactory, ExternalUserFactory, MessageFactory, TicketFactory

    site = AddressFactory()
    customer = ExternalUserFactory(roles=["Portal user"], address=site, write=[site])
    ticket = TicketFactory(address=site)
    MessageFactory(ticket=ticket, author=customer, kind=Message.Kind.REPLY)
    ticket.refresh_from_db()
    assert ticket.awaiting_customer is False

    customer.is_external = False
    customer.address = None
    customer.save()
    ticket.refresh_from_db()
    assert ticket.awaiting_customer is True

    customer.is_external = True
    customer.address = site
    customer.save()
    ticket.refresh_from_db()
    assert ticket.awaiting_customer is False
