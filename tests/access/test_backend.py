"""`user.has_perm(perm, obj)` answers from the access policy; `user.has_perm(perm)` from roles.

The permission backend in AUTHENTICATION_BACKENDS is a thin adapter over `access.policy`
(DESIGN.md: "The permission backend … answers `user.has_perm(perm, obj)` from the same module").
"""

import pytest
from django.contrib.auth.models import AnonymousUser

from access import policy
from accounts.models import User
from tests.factories import (
    AddressFactory,
    ContactPersonFactory,
    ExternalUserFactory,
    MachineFactory,
    MessageFactory,
    TeamFactory,
    TicketFactory,
    UserFactory,
    role,
)
from tickets.models import Message

PORTAL_USER_RIGHTS = {
    "addresses.view_address",
    "addresses.view_machine",
    "addresses.view_contactperson",
    "tickets.view_ticket",
    "tickets.add_ticket",
    "tickets.change_ticket",
}
WRITE_RIGHTS = {
    "addresses.change_address",
    "addresses.change_machine",
    "addresses.change_contactperson",
    "addresses.add_contactperson",
}

# How to make an object of each model the backend has rules for, at a given address.
MAKERS = {
    "addresses.address": lambda address: address,
    "addresses.machine": lambda address: MachineFactory(address=address),
    "addresses.contactperson": lambda address: ContactPersonFactory(address=address),
    "tickets.ticket": lambda address: TicketFactory(address=address),
    "tickets.message": lambda address: MessageFactory(
        ticket=TicketFactory(address=address), kind=Message.Kind.DESCRIPTION
    ),
}

PAIRS = sorted(policy.OBJECT_PERMISSIONS)


@pytest.fixture
def addresses():
    return {"read": AddressFactory(), "write": AddressFactory(), "foreign": AddressFactory()}


@pytest.fixture
def editor(addresses):
    """An external Portal editor: read set {read}, write set {write}."""
    return ExternalUserFactory(
        roles=["Portal editor"], read=[addresses["read"]], write=[addresses["write"]]
    )


def test_every_mapped_model_has_a_maker():
    assert {label for _perm, label in PAIRS} <= set(MAKERS)


@pytest.mark.django_db
@pytest.mark.parametrize(("perm", "label"), PAIRS, ids=[f"{p}@{m}" for p, m in PAIRS])
def test_has_perm_allows_inside_the_write_set_and_denies_outside(perm, label, addresses, editor):
    inside = MAKERS[label](addresses["write"])
    outside = MAKERS[label](addresses["foreign"])

    assert editor.has_perm(perm, inside) is True
    assert editor.has_perm(perm, outside) is False
    # The model-level right is there, but it never reaches objects outside the sets.
    if perm in PORTAL_USER_RIGHTS | WRITE_RIGHTS:
        assert editor.has_perm(perm) is True


def _users(addresses):
    return {
        "external Portal user": ExternalUserFactory(
            roles=["Portal user"], read=[addresses["read"]], write=[addresses["write"]]
        ),
        "external Portal editor": ExternalUserFactory(
            roles=["Portal editor"], read=[addresses["read"]], write=[addresses["write"]]
        ),
        "external without roles": ExternalUserFactory(write=[addresses["write"]]),
        "internal Support agent": UserFactory(roles=["Support agent"]),
        "internal without roles": UserFactory(),
        "anonymous": AnonymousUser(),
    }


@pytest.mark.django_db
@pytest.mark.parametrize(("perm", "label"), PAIRS, ids=[f"{p}@{m}" for p, m in PAIRS])
def test_has_perm_is_the_policy_predicate(perm, label, addresses):
    predicate = policy.OBJECT_PERMISSIONS[(perm, label)]
    objects = [MAKERS[label](address) for address in addresses.values()]
    answers = set()
    for name, user in _users(addresses).items():
        for obj in objects:
            expected = bool(predicate(user, obj))
            assert user.has_perm(perm, obj) is expected, (name, obj)
            answers.add(expected)
    assert answers == {True, False}


@pytest.mark.django_db
def test_a_read_set_object_is_visible_but_not_changeable(addresses, editor):
    address = addresses["read"]
    ticket = TicketFactory(address=address)

    assert editor.has_perm("addresses.view_address", address)
    assert not editor.has_perm("addresses.change_address", address)
    assert editor.has_perm("tickets.view_ticket", ticket)
    assert not editor.has_perm("tickets.change_ticket", ticket)


@pytest.mark.django_db
def test_internal_notes_are_never_visible_to_external_users(addresses, editor):
    note = MessageFactory(
        ticket=TicketFactory(address=addresses["write"]), kind=Message.Kind.INTERNAL_NOTE
    )
    agent = UserFactory(roles=["Support agent"])

    assert not editor.has_perm("tickets.view_message", note)
    assert agent.has_perm("tickets.view_message", note)


class NotAModel:
    pass


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("perm", "make"),
    [
        # Filing is not an object permission on a ticket.
        ("tickets.add_ticket", lambda a: TicketFactory(address=a)),
        ("tickets.delete_ticket", lambda a: TicketFactory(address=a)),
        ("addresses.delete_address", lambda a: a),
        ("addresses.add_address", lambda a: a),
        # A known permission on the wrong model.
        ("addresses.view_address", lambda a: MachineFactory(address=a)),
        ("tickets.view_ticket", lambda a: a),
        ("addresses.change_machine", lambda a: ContactPersonFactory(address=a)),
        # Models without object rules.
        ("accounts.view_team", lambda a: TeamFactory()),
        ("accounts.view_user", lambda a: UserFactory()),
        # Nonsense.
        ("nonsense", lambda a: a),
        ("addresses.view_address", lambda a: NotAModel()),
        ("addresses.view_address", lambda a: "addresses.address"),
    ],
)
def test_unknown_pairs_are_denied(perm, make, addresses):
    obj = make(addresses["write"])
    users = [
        ExternalUserFactory(
            roles=["Portal editor"], read=[addresses["write"]], write=[addresses["write"]]
        ),
        UserFactory(roles=["Support agent", "Portal editor"]),
    ]
    for user in users:
        assert user.has_perm(perm, obj) is False, user


@pytest.mark.django_db
def test_model_level_permissions_come_from_roles():
    reader = ExternalUserFactory(roles=["Portal user"])
    editor = ExternalUserFactory(roles=["Portal editor"])
    nobody = ExternalUserFactory()
    agent = UserFactory(roles=["Support agent"])

    assert reader.get_all_permissions() == PORTAL_USER_RIGHTS
    assert reader.has_perms(sorted(PORTAL_USER_RIGHTS))
    assert not any(reader.has_perm(perm) for perm in WRITE_RIGHTS)
    assert editor.get_all_permissions() == PORTAL_USER_RIGHTS | WRITE_RIGHTS
    assert nobody.get_all_permissions() == set()
    assert not nobody.has_perm("tickets.view_ticket")
    assert agent.has_perm("tickets.change_ticket")
    assert not agent.has_perm("addresses.change_address")


@pytest.mark.django_db
def test_a_role_change_applies_to_the_next_request():
    user = ExternalUserFactory(roles=["Portal user"])
    assert not user.has_perm("addresses.change_address")

    user.groups.add(role("Portal editor"))
    assert User.objects.get(pk=user.pk).has_perm("addresses.change_address")

    user.groups.clear()
    assert not User.objects.get(pk=user.pk).has_perm("tickets.view_ticket")


@pytest.mark.django_db
@pytest.mark.parametrize(("perm", "label"), PAIRS, ids=[f"{p}@{m}" for p, m in PAIRS])
def test_an_inactive_user_has_nothing(perm, label, addresses):
    external = ExternalUserFactory(
        roles=["Portal editor"], write=[addresses["write"]], is_active=False
    )
    internal = UserFactory(roles=["Support agent", "Portal editor"], is_active=False)
    superuser = UserFactory(is_staff=True, is_superuser=True, is_active=False)
    obj = MAKERS[label](addresses["write"])

    for user in (external, internal, superuser):
        assert user.has_perm(perm, obj) is False
        assert user.has_perm(perm) is False
        assert user.get_all_permissions() == set()
