"""The policy's decisions as values (`may_forward`, `status_scope`), which precompiled statements
are built with: each value and its queryset face give what the user-facing face gives, for users
on both sides of the rule."""

import pytest

from access import policy
from accounts.models import Team, User
from tests.factories import (
    AddressFactory,
    ExternalUserFactory,
    TeamFactory,
    TicketStatusFactory,
    UserFactory,
)
from tickets.models import TicketStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def people():
    site = AddressFactory()
    return {
        "agent": UserFactory(roles=["Support agent"]),
        "internal with a portal role": UserFactory(roles=["Portal editor"]),
        "inactive agent": UserFactory(roles=["Support agent"], is_active=False),
        "external editor": ExternalUserFactory(roles=["Portal editor"], address=site, write=[site]),
    }


def test_only_a_desk_worker_may_forward_and_the_faces_follow(people):
    team = TeamFactory()
    TeamFactory(is_active=False)
    for name, user in people.items():
        allowed = name == "agent"
        assert policy.may_forward(user) is allowed, name
        teams = set(policy.teams_forwardable(Team.objects.all(), user))
        assert teams == ({team} if allowed else set()), name
        assert teams == set(policy.teams_forwardable_when(Team.objects.all(), allowed)), name
        users = set(policy.users_forwardable(User.objects.all(), user))
        assert (people["agent"] in users) is allowed, name
        assert users == set(policy.users_forwardable_when(User.objects.all(), allowed)), name
        assert not users & {people["inactive agent"], people["external editor"]}, name


def test_the_status_scope_is_every_active_status_none_or_the_allowed_ones(people):
    site = AddressFactory()
    waiting = TicketStatusFactory(name="Waiting (scope)")
    TicketStatusFactory(name="Retired (scope)", is_active=False)
    restricted = ExternalUserFactory(
        roles=["Portal editor"],
        address=site,
        write=[site],
        restrict_status=True,
        statuses=[waiting],
    )
    reader = ExternalUserFactory(roles=["Portal user"], address=site, read=[site])
    active = set(TicketStatus.objects.filter(is_active=True))
    expected = {
        "agent": (None, active),
        "external editor": (None, active),
        "restricted": (frozenset({waiting.pk}), {waiting}),
        "reader": (frozenset(), set()),
        "inactive agent": (frozenset(), set()),
    }
    users = {**people, "restricted": restricted, "reader": reader}
    for name, (scope, statuses) in expected.items():
        user = users[name]
        assert policy.status_scope(user) == scope, name
        assert set(TicketStatus.objects.settable_by(user)) == statuses, name
        in_scope = policy.statuses_in_scope(TicketStatus.objects.all(), policy.status_scope(user))
        assert set(in_scope) == statuses, name
