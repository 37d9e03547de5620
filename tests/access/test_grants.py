"""A user's grants: loaded in a bounded number of queries, once per request, anew next request.

DESIGN.md: "Access changes take effect on the user's next request. Inactive users and inactive
addresses lose access at once." and "a deactivated user's next request is signed out".
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils.functional import SimpleLazyObject

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
    TicketStatusFactory,
    TicketTypeFactory,
    UserFactory,
    role,
)
from tickets.models import Message

# Every part of the grants: roles' permissions, both address sets, the linked contact person,
# ticket types, recipients (teams and users) and the allowed statuses. One query each at most.
GRANT_QUERY_BOUND = 8


def _external_user(size):
    own = AddressFactory()
    return ExternalUserFactory(
        address=own,
        contact_person=ContactPersonFactory(address=own),
        roles=["Portal editor"],
        read=AddressFactory.create_batch(size),
        write=AddressFactory.create_batch(size),
        types=TicketTypeFactory.create_batch(size),
        teams=TeamFactory.create_batch(size),
        recipients=UserFactory.create_batch(size),
        statuses=TicketStatusFactory.create_batch(size),
        restrict_status=True,
    )


def _touch_every_part(user):
    grants = policy.grants_for(user)
    return (
        grants.perms,
        grants.read_ids,
        grants.write_ids,
        grants.own_contact_id,
        grants.type_ids,
        grants.team_ids,
        grants.recipient_user_ids,
        grants.allowed_status_ids,
    )


def _load_cost(size, django_assert_max_num_queries):
    user = User.objects.get(pk=_external_user(size).pk)  # as a request loads it
    with django_assert_max_num_queries(GRANT_QUERY_BOUND) as captured:
        perms, read, write, contact, types, teams, recipients, statuses = _touch_every_part(user)
    # The parts really hold the user's grants (write implies read).
    assert len(write) == size and len(read) == 2 * size
    assert contact is not None
    assert len(types) == len(teams) == len(recipients) == len(statuses) == size
    assert "addresses.change_address" in perms
    return len(captured)


@pytest.mark.django_db
def test_grants_load_in_the_same_bounded_number_of_queries_whatever_their_size(
    django_assert_max_num_queries,
):
    _load_cost(1, django_assert_max_num_queries)  # a process reads permission names once
    small = _load_cost(1, django_assert_max_num_queries)
    large = _load_cost(50, django_assert_max_num_queries)

    assert small == large == 2  # the id sets with the permissions; the linked contact


@pytest.fixture
def scene():
    """An external Portal editor and one object of every kind at its write address."""
    address = AddressFactory()
    team, ticket_type, status = TeamFactory(), TicketTypeFactory(), TicketStatusFactory()
    contact = ContactPersonFactory(address=address)
    user = ExternalUserFactory(
        roles=["Portal editor"],
        write=[address],
        read=AddressFactory.create_batch(3),
        types=[ticket_type],
        teams=[team],
        contact_person=None,
        restrict_status=True,
        statuses=[status],
    )
    ticket = TicketFactory(address=address, responsible_team=team)
    message = MessageFactory(ticket=ticket, kind=Message.Kind.DESCRIPTION)
    return {
        "user": User.objects.get(pk=user.pk),
        "address": address,
        "machine": MachineFactory(address=address),
        "contact": contact,
        "ticket": ticket,
        "message": message,
        "status": status,
        "team": team,
        "ticket_type": ticket_type,
    }


def _ask_everything(s):
    user = s["user"]
    answers = [
        policy.can_use_portal(user),
        policy.can_use_desk(user),
        policy.can_see_address(user, s["address"]),
        policy.can_edit_address(user, s["address"]),
        policy.can_add_contact(user, s["address"]),
        policy.can_see_machine(user, s["machine"]),
        policy.can_edit_machine(user, s["machine"]),
        policy.can_see_contact(user, s["contact"]),
        policy.can_edit_contact(user, s["contact"]),
        policy.can_see_ticket(user, s["ticket"]),
        policy.can_reply(user, s["ticket"]),
        policy.can_set_status(user, s["ticket"], s["status"]),
        policy.can_see_message(user, s["message"]),
        policy.can_file(user),
        policy.can_file_ticket(
            user, address=s["address"], ticket_type=s["ticket_type"], team=s["team"]
        ),
        user.has_perm("tickets.change_ticket", s["ticket"]),
        user.has_perm("addresses.change_address"),
    ]
    # Building (not running) the queryset faces needs the grants only.
    querysets = [
        type(s["address"]).objects.visible_to(user),
        type(s["address"]).objects.writable_by(user),
        type(s["address"]).objects.fileable_by(user),
        type(s["machine"]).objects.visible_to(user),
        type(s["contact"]).objects.writable_by(user),
        type(s["ticket"]).objects.visible_to(user),
        type(s["ticket"]).objects.writable_by(user),
        type(s["status"]).objects.settable_by(user),
        type(s["ticket_type"]).objects.creatable_by(user),
        type(s["team"]).objects.recipients_for(user),
        User.objects.recipients_for(user),
        policy.messages_visible(Message.objects.all(), user),
    ]
    return answers, querysets


@pytest.mark.django_db
def test_repeated_policy_calls_on_the_same_user_cost_no_further_queries(
    scene, django_assert_num_queries
):
    first, _ = _ask_everything(scene)  # the first request's questions load the grants
    assert all(first[2:]), "precondition: the scene grants everything asked"

    with django_assert_num_queries(0):
        again, querysets = _ask_everything(scene)
        _ask_everything(scene)

    assert [bool(answer) for answer in again] == [bool(answer) for answer in first]
    assert scene["ticket"] in querysets[6]


@pytest.mark.django_db
def test_the_policy_answers_for_request_user_as_for_the_user_itself(scene):
    """Views pass `request.user`, a lazy proxy; it must get the same answers, not an error."""
    lazy = SimpleLazyObject(lambda: User.objects.get(pk=scene["user"].pk))
    as_request_user, querysets = _ask_everything({**scene, "user": lazy})
    as_user, _ = _ask_everything(scene)

    assert [bool(a) for a in as_request_user] == [bool(a) for a in as_user]
    assert all(as_request_user[2:])
    assert list(querysets[6]) == [scene["ticket"]]
    assert _touch_every_part(lazy) == _touch_every_part(scene["user"])


@pytest.mark.django_db
def test_a_fresh_user_object_loads_the_grants_again(scene):
    user = scene["user"]
    policy.can_see_address(user, scene["address"])
    fresh = User.objects.get(pk=user.pk)

    with CaptureQueriesContext(connection) as captured:
        policy.can_see_address(fresh, scene["address"])

    assert len(captured) >= 1


@pytest.mark.django_db
def test_changes_to_the_sets_apply_on_the_next_request():
    kept, dropped, added, demoted = AddressFactory.create_batch(4)
    user = ExternalUserFactory(roles=["Portal editor"], write=[kept, dropped, demoted])
    assert policy.can_edit_address(user, dropped)
    assert policy.can_edit_address(user, demoted)
    assert not policy.can_see_address(user, added)

    user.write_addresses.remove(dropped, demoted)
    user.read_addresses.add(added, demoted)
    next_request = User.objects.get(pk=user.pk)

    assert policy.can_edit_address(next_request, kept)
    assert not policy.can_see_address(next_request, dropped)
    assert policy.can_see_address(next_request, added)
    assert not policy.can_edit_address(next_request, added)
    assert policy.can_see_address(next_request, demoted)
    assert not policy.can_edit_address(next_request, demoted)
    assert set(type(kept).objects.visible_to(next_request)) == {kept, added, demoted}


@pytest.mark.django_db
def test_forget_grants_applies_a_change_within_the_same_request():
    address = AddressFactory()
    user = ExternalUserFactory(roles=["Portal user"], read=[address])
    assert policy.can_see_address(user, address)
    assert not user.has_perm("addresses.change_address")

    user.read_addresses.remove(address)
    user.write_addresses.add(address)
    user.groups.add(role("Portal editor"))
    policy.forget_grants(user)

    assert policy.can_edit_address(user, address)
    assert user.has_perm("addresses.change_address")


@pytest.mark.django_db
def test_deactivating_an_address_applies_on_the_next_request():
    address = AddressFactory()
    ticket = TicketFactory(address=address)
    user = ExternalUserFactory(roles=["Portal user"], write=[address])
    assert policy.can_reply(user, ticket)

    address.is_active = False
    address.save()
    next_request = User.objects.get(pk=user.pk)

    assert not policy.can_see_ticket(next_request, ticket)
    assert not type(ticket).objects.visible_to(next_request).exists()


# ---------------------------------------------------------------------------------------------
# Over HTTP: a deactivated user's next request is signed out.

# LoginRequiredMiddleware sends to LOGIN_URL; the admin sends to its own sign-in page.
SIGN_IN_PAGES = {"/accounts/login/", "/admin/login/"}


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/", "/admin/"])
def test_a_deactivated_users_next_request_is_signed_out(client, path):
    user = UserFactory(is_staff=True, roles=["Support agent"])
    client.force_login(user)
    signed_in = client.get(path)
    assert signed_in.wsgi_request.user == user
    if signed_in.status_code == 302:
        assert not signed_in.url.startswith("/accounts/login/")

    user.is_active = False
    user.save()
    response = client.get(path)

    assert response.status_code == 302
    login_page, _, query = response.url.partition("?")
    assert login_page in SIGN_IN_PAGES
    assert query == f"next={path}"
    assert response.wsgi_request.user.is_authenticated is False


@pytest.mark.django_db
def test_a_deactivated_external_users_next_request_is_signed_out(client):
    user = ExternalUserFactory(roles=["Portal user"])
    client.force_login(user)
    assert client.get("/").wsgi_request.user.is_authenticated

    User.objects.filter(pk=user.pk).update(is_active=False)
    response = client.get("/")

    assert response.status_code == 302
    assert response.url == "/accounts/login/?next=/"
    assert response.wsgi_request.user.is_authenticated is False


def test_permission_names_follow_recreated_permissions(db):
    """Permission names are kept per process by id; a permission created (as a flush and a
    migration do) makes the policy read the names again."""
    from django.contrib.auth.models import Permission
    from django.contrib.contenttypes.models import ContentType

    user = UserFactory()
    first = Permission.objects.create(
        codename="probe_a", name="probe a", content_type=ContentType.objects.get_for_model(User)
    )
    user.user_permissions.add(first)
    assert "accounts.probe_a" in policy.grants_for(User.objects.get(pk=user.pk)).perms
    first.codename = "probe_b"
    first.save()
    assert "accounts.probe_b" in policy.grants_for(User.objects.get(pk=user.pk)).perms


@pytest.mark.django_db
def test_grants_statement_compiled_once_reads_each_users_own_sets():
    """The grants statement is compiled once per shape and run with each user's id: two users
    of the same shape never see each other's sets, and a shape with the status restriction
    reads the statuses too."""
    first_address, second_address = AddressFactory.create_batch(2)
    status = TicketStatusFactory()
    first = ExternalUserFactory(roles=["Portal user"], read=[first_address])
    second = ExternalUserFactory(
        roles=["Portal editor"], write=[second_address], restrict_status=True
    )
    second.allowed_statuses.add(status)
    policy._COMPILED.clear()

    for user, address, other in (
        (first, first_address, second_address),
        (second, second_address, first_address),
    ):
        fresh = User.objects.get(pk=user.pk)
        with CaptureQueriesContext(connection) as captured:
            grants = policy.grants_for(fresh)
            assert grants.read_ids == {address.pk}
            assert other.pk not in grants.read_ids
        assert len(captured) == 1
    assert policy.grants_for(User.objects.get(pk=second.pk)).allowed_status_ids == {status.pk}
    assert not policy.grants_for(User.objects.get(pk=first.pk)).write_ids
    assert len(policy._COMPILED) == 2  # two shapes: with and without the status restriction


def test_a_compiled_statement_must_carry_the_users_id():
    with pytest.raises(ValueError):
        policy._run_compiled(lambda model, shape, pk: User.objects.filter(pk=1), User, (), 5)
