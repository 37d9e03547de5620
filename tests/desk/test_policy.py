"""The desk section of the access policy: who may do what to a ticket in the desk, and that
each queryset face agrees with its predicate."""

import pytest
from django.contrib.auth.models import Permission

from access import policy
from accounts.models import Team, User
from desk.models import SavedFilter
from tests.desk.conftest import status
from tests.factories import UserFactory
from tickets import services
from tickets.models import TicketType

pytestmark = pytest.mark.django_db

PEOPLE = ["agent", "colleague", "reader", "no_rights", "admin_only", "customer", "external_agent"]


@pytest.fixture
def everyone(world):
    superuser = UserFactory(is_superuser=True, is_staff=True)
    direct = UserFactory()
    direct.user_permissions.add(
        Permission.objects.get(content_type__app_label="tickets", codename="view_ticket")
    )
    inactive = UserFactory(roles=["Support agent"], is_active=False)
    return [*(getattr(world, name) for name in PEOPLE), superuser, direct, inactive]


def test_desk_users_agrees_with_can_use_desk(everyone):
    in_queryset = set(policy.desk_users(User.objects.all()))
    for user in everyone:
        fresh = User.objects.get(pk=user.pk)
        assert (fresh in in_queryset) == bool(policy.can_use_desk(fresh)), fresh


def test_desk_users_follows_rights_given_and_taken_after_its_statement_was_compiled():
    """`desk_users` compiles its condition once per process; who holds the rights is still
    read by every query: a user given both desk rights directly is in, and out again when one
    is taken away."""
    user = UserFactory()
    desk = Permission.objects.get(content_type__app_label="tickets", codename="use_desk")
    read = Permission.objects.get(content_type__app_label="tickets", codename="view_ticket")
    assert not policy.desk_users(User.objects.filter(pk=user.pk)).exists()  # compiled now

    user.user_permissions.add(desk, read)
    assert policy.desk_users(User.objects.filter(pk=user.pk)).exists()
    user.user_permissions.remove(desk)
    assert not policy.desk_users(User.objects.filter(pk=user.pk)).exists()


@pytest.mark.parametrize("actor", PEOPLE)
def test_forward_recipients_agree_with_can_forward(world, everyone, file_ticket, actor):
    ticket = file_ticket()
    actor = getattr(world, actor)
    users = set(policy.users_forwardable(User.objects.all(), actor))
    for user in everyone:
        fresh = User.objects.get(pk=user.pk)
        assert (fresh in users) == bool(policy.can_forward(actor, ticket, recipient=fresh))
    retired = Team.objects.create(name="Retired", is_active=False)
    teams = set(policy.teams_forwardable(Team.objects.all(), actor))
    for team in (world.support, world.service, retired):
        assert (team in teams) == bool(policy.can_forward(actor, ticket, team=team))


@pytest.mark.parametrize("actor", PEOPLE)
def test_assignable_types_agree_with_can_change_type(world, file_ticket, actor):
    ticket = file_ticket()
    actor = getattr(world, actor)
    retired = TicketType.objects.create(name="Retired", is_active=False)
    types = set(policy.ticket_types_assignable(TicketType.objects.all(), actor))
    for ticket_type in (world.fault, world.question, retired):
        assert (ticket_type in types) == bool(policy.can_change_type(actor, ticket, ticket_type))


@pytest.mark.parametrize(
    "who,allowed",
    [
        ("agent", True),
        ("colleague", True),
        ("reader", False),
        ("no_rights", False),
        ("admin_only", False),
        ("customer", False),
        ("external_agent", False),
    ],
)
def test_who_may_work_on_a_ticket(world, file_ticket, who, allowed):
    ticket = file_ticket()
    user = getattr(world, who)
    assert bool(policy.can_work_in_desk(user)) == allowed
    for decision in (
        policy.can_work_on_ticket(user, ticket),
        policy.can_take(user, ticket),
        policy.can_forward(user, ticket, team=world.service),
        policy.can_change_ticket_fields(user, ticket),
        policy.can_close(user, ticket),
    ):
        assert bool(decision) == allowed, decision.reason
        assert decision.reason


def test_open_and_closed_tickets(world, file_ticket):
    ticket = file_ticket()
    assert policy.can_take(world.agent, ticket)
    assert policy.can_close(world.agent, ticket)
    assert not policy.can_reopen(world.agent, ticket)
    services.ticket_set_status(actor=world.agent, ticket=ticket, status=status("Closed"))
    ticket.refresh_from_db()
    assert not policy.can_take(world.agent, ticket)
    assert not policy.can_close(world.agent, ticket)
    assert policy.can_reopen(world.agent, ticket)
    assert policy.can_forward(world.agent, ticket, team=world.service)


def test_forward_needs_exactly_one_recipient(world, file_ticket):
    ticket = file_ticket()
    assert not policy.can_forward(world.agent, ticket)
    assert not policy.can_forward(
        world.agent, ticket, team=world.service, recipient=world.colleague
    )


def test_saved_filters_are_their_owners(world):
    mine = SavedFilter.objects.create(user=world.agent, name="Mine")
    SavedFilter.objects.create(user=world.colleague, name="Theirs")
    assert list(SavedFilter.objects.visible_to(world.agent)) == [mine]
    assert not SavedFilter.objects.visible_to(world.customer).exists()
