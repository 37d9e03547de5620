"""`manage.py seed_demo`: idempotent, lists every login, and the demo cases hold per the policy."""

from io import StringIO

import pytest
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command

from access import policy
from accounts.models import Team, User
from addresses.models import Address, ContactPerson, Machine
from tickets.management.commands.seed_demo import DEMO_PASSWORD
from tickets.models import (
    Attachment,
    Message,
    Ticket,
    TicketEvent,
    TicketStatus,
    TicketType,
    awaiting_customer_condition,
)

pytestmark = pytest.mark.django_db

MODELS = [
    Address,
    ContactPerson,
    Machine,
    Team,
    User,
    Group,
    TicketType,
    TicketStatus,
    Ticket,
    Message,
    Attachment,
    TicketEvent,
]


def seed():
    out = StringIO()
    call_command("seed_demo", force=True, stdout=out)
    return out.getvalue()


def state():
    """Every row the command may write, with the values a second run must not touch."""
    return {
        "counts": {model.__name__: model.objects.count() for model in MODELS},
        "tickets": list(
            Ticket.objects.order_by("pk").values_list("pk", "status_id", "updated_at", "closed_at")
        ),
        "users": list(User.objects.order_by("pk").values_list("pk", "email", "password")),
        "addresses": list(Address.objects.order_by("pk").values_list("pk", "updated_at")),
        "memberships": {
            user.email: (
                sorted(user.read_addresses.values_list("number", flat=True)),
                sorted(user.write_addresses.values_list("number", flat=True)),
                sorted(user.groups.values_list("name", flat=True)),
                sorted(user.teams.values_list("name", flat=True)),
            )
            for user in User.objects.all()
        },
    }


@pytest.fixture
def seeded():
    return seed()


def user(email):
    return User.objects.get(email=email)


READ_ONLY = "rosa.leitner@alpenblick.example"
WRITER = "walter.huber@alpenblick.example"
RESTRICTED = "stefan.becker@rheintal.example"
SEVERAL_SITES = "petra.hansen@nordwerk.example"
ADMIN = "alexandra.koenig@fieldservice.example"
AGENTS = [
    "sven.berger@fieldservice.example",
    "nina.roth@fieldservice.example",
    "tom.krause@fieldservice.example",
]


def test_second_run_changes_nothing(seeded):
    before = state()
    assert before["counts"]["Ticket"] >= 10

    output = seed()

    assert state() == before
    assert "12 tickets (0 new)" in output


def test_output_lists_every_login_with_password_and_area(seeded):
    for account in User.objects.all():
        [line] = [line for line in seeded.splitlines() if line.startswith(account.email + " ")]
        assert DEMO_PASSWORD in line
        assert ("/portal/" in line) == account.is_external
        assert ("/desk/" in line) == (not account.is_external)
    assert "/admin/" in next(line for line in seeded.splitlines() if line.startswith(ADMIN))
    assert User.objects.count() == 8


def test_every_account_signs_in_with_the_demo_password(seeded):
    for account in User.objects.all():
        assert account.check_password(DEMO_PASSWORD), account.email


def test_password_is_only_set_when_the_account_is_created(seeded):
    petra = user(SEVERAL_SITES)
    petra.set_password("my-own-Secret-9")
    petra.save()

    output = seed()

    assert user(SEVERAL_SITES).check_password("my-own-Secret-9")
    line = next(line for line in output.splitlines() if line.startswith(SEVERAL_SITES))
    assert DEMO_PASSWORD not in line and "(changed since)" in line


def test_refuses_without_debug_unless_forced(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="--force"):
        call_command("seed_demo", stdout=StringIO())
    assert not User.objects.exists()
    assert not Ticket.objects.exists()


def test_customers_have_sites_contacts_and_machines(seeded):
    headquarters = Address.objects.filter(parent=None, sites__isnull=False).distinct()
    assert headquarters.count() >= 3
    for address in Address.objects.all():
        assert address.contacts.filter(is_main=True).count() == 1, address
        assert address.machines.exists(), address


def test_staff_accounts(seeded):
    admin = user(ADMIN)
    assert admin.is_superuser and admin.is_staff and not admin.is_external
    assert Team.objects.get(name="Support").members.exists()
    assert Team.objects.get(name="Service").members.exists()
    for email in AGENTS:
        agent = user(email)
        assert agent.groups.filter(name="Support agent").exists()
        assert policy.can_use_desk(agent)
        assert not policy.can_use_portal(agent)


def test_external_accounts_are_complete_and_valid(seeded):
    externals = User.objects.external()
    assert externals.count() == 4
    for account in externals:
        account.full_clean()  # contact person at the user's address, and so on
        assert account.contact_person.address == account.address
        assert account.responsible_teams.exists() or account.responsible_users.exists()
        assert account.ticket_types.exists()
        assert policy.can_use_portal(account)
        assert not policy.can_use_desk(account)


def test_read_only_user_sees_but_cannot_reply_or_file(seeded):
    rosa = user(READ_ONLY)
    visible = Ticket.objects.visible_to(rosa)

    assert visible.count() >= 2
    assert set(visible.values_list("address__number", flat=True)) == {"10010", "10011"}
    for ticket in visible:
        assert policy.can_see_ticket(rosa, ticket)
        assert not policy.can_reply(rosa, ticket)
    assert not Ticket.objects.writable_by(rosa).exists()
    assert not policy.can_file(rosa)


def test_writer_may_reply_to_the_tickets_of_its_address(seeded):
    walter = user(WRITER)
    tickets = Ticket.objects.filter(address__number="10010")
    assert tickets.exists()
    for ticket in tickets:
        assert policy.can_reply(walter, ticket)
    assert policy.can_file(walter)


def test_restricted_user_may_set_exactly_its_allowed_statuses(seeded):
    stefan = user(RESTRICTED)
    settable = set(TicketStatus.objects.settable_by(stefan).values_list("name", flat=True))
    assert settable == {"Solved", "Closed"}
    ticket = Ticket.objects.writable_by(stefan).first()
    assert policy.can_set_status(stefan, ticket, TicketStatus.objects.get(name="Closed"))
    assert not policy.can_set_status(stefan, ticket, TicketStatus.objects.get(name="In progress"))


def test_several_sites_user_sees_tickets_of_several_addresses(seeded):
    petra = user(SEVERAL_SITES)
    visible = set(Ticket.objects.visible_to(petra).values_list("address__number", flat=True))
    writable = set(Ticket.objects.writable_by(petra).values_list("address__number", flat=True))
    assert visible == {"10001", "10002", "10003", "10004"}
    assert writable == {"10001", "10002", "10003"}  # 10004 is in the read set only


def test_internal_note_is_hidden_from_external_users(seeded):
    notes = Message.objects.filter(kind=Message.Kind.INTERNAL_NOTE)
    assert notes.exists()
    note = notes.first()
    messages = note.ticket.messages.all()
    assert note in policy.messages_visible(messages, user(AGENTS[0]))
    for account in User.objects.external():
        if policy.can_see_ticket(account, note.ticket):
            assert note not in policy.messages_visible(messages, account)
            assert messages.public().count() == policy.messages_visible(messages, account).count()


def test_tickets_show_conversations_and_history(seeded):
    tickets = Ticket.objects.all()
    assert tickets.count() >= 10
    for ticket in tickets:
        assert ticket.messages.filter(kind=Message.Kind.DESCRIPTION).count() == 1
        assert ticket.events.filter(kind=TicketEvent.Kind.CREATED).count() == 1
    assert Message.objects.filter(kind=Message.Kind.REPLY, author__is_external=True).exists()
    assert Message.objects.filter(kind=Message.Kind.REPLY, author__is_external=False).exists()
    assert Ticket.objects.closed().exists()
    assert TicketEvent.objects.filter(kind=TicketEvent.Kind.REOPENED).exists()
    assert Attachment.objects.exists()
    assert len(set(tickets.values_list("address", flat=True))) >= 5


def test_waiting_flags_follow_the_dated_back_conversations(seeded):
    """The demo writes through the services and then moves messages back in time with a
    queryset update; each ticket's `awaiting_customer` still agrees with the definition, and
    some demo ticket waits for the customer (the dashboard shows it)."""
    by_definition = dict(
        Ticket.objects.annotate(awaiting=awaiting_customer_condition()).values_list(
            "pk", "awaiting"
        )
    )
    assert dict(Ticket.objects.values_list("pk", "awaiting_customer")) == by_definition
    assert Ticket.objects.open().filter(awaiting_customer=True).exists()
