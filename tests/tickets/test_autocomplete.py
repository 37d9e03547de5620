"""The ticket form's JSON autocompletes: only what the caller may use, nothing else."""

from types import SimpleNamespace

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from tests.factories import (
    AddressFactory,
    ExternalUserFactory,
    MachineFactory,
    TeamFactory,
    TicketFactory,
    TicketTypeFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

ADDRESSES = reverse("portal:autocomplete-addresses")
MACHINES = reverse("portal:autocomplete-machines")
RECIPIENTS = reverse("portal:autocomplete-recipients")


# ---------------------------------------------------------------------------------------------
# Shared fixtures.


@pytest.fixture
def world():
    """`site` (write), `branch` (read only), `foreign` (neither), each with a machine."""
    site = AddressFactory(name="Site Works", city="Berlin")
    branch = AddressFactory(name="Branch Office", city="Hamburg")
    foreign = AddressFactory(name="Foreign Corp", city="Berlin")
    team = TeamFactory(name="Support")
    other_team = TeamFactory(name="Sales")
    fault = TicketTypeFactory(name="Fault")
    agent = UserFactory(roles=["Support agent"], first_name="Agnes", last_name="Agent")
    other_agent = UserFactory(roles=["Support agent"], first_name="Otto", last_name="Other")
    customer = ExternalUserFactory(
        roles=["Portal user"],
        address=site,
        write=[site],
        read=[branch],
        types=[fault],
        teams=[team],
        recipients=[agent],
    )
    return SimpleNamespace(
        site=site,
        branch=branch,
        foreign=foreign,
        team=team,
        other_team=other_team,
        agent=agent,
        other_agent=other_agent,
        customer=customer,
        machine=MachineFactory(address=site, name="Site press"),
        branch_machine=MachineFactory(address=branch, name="Branch press"),
        foreign_machine=MachineFactory(address=foreign, name="Foreign press"),
    )


def results(client, url, **params):
    response = client.get(url, params)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    data = response.json()
    assert set(data) == {"results", "more"}
    return data


def ids(data):
    return [item["id"] for item in data["results"]]


# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [ADDRESSES, MACHINES, RECIPIENTS])
def test_anonymous_is_sent_to_login(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("url", [ADDRESSES, MACHINES, RECIPIENTS])
def test_internal_users_are_sent_to_their_area(client, world, url):
    client.force_login(world.agent)
    response = client.get(url, {"address": world.site.pk})
    assert response.status_code == 302
    assert response["Location"] == reverse("home")


def test_addresses_are_the_fileable_ones(client, world):
    client.force_login(world.customer)
    data = results(client, ADDRESSES)
    assert ids(data) == [world.site.pk]
    assert data["results"][0]["text"] == str(world.site)
    assert data["more"] is False
    # Searching for a foreign address by name or city finds nothing of it.
    assert ids(results(client, ADDRESSES, term="Foreign")) == []
    assert ids(results(client, ADDRESSES, term="Berlin")) == [world.site.pk]


def test_inactive_address_is_not_offered(client, world):
    world.site.is_active = False
    world.site.save()
    client.force_login(world.customer)
    assert ids(results(client, ADDRESSES)) == []


def test_addresses_for_the_list_filter_are_those_of_visible_tickets(client, world):
    TicketFactory(address=world.branch)
    TicketFactory(address=world.foreign)
    client.force_login(world.customer)
    assert ids(results(client, ADDRESSES, purpose="filter")) == [world.branch.pk]


def test_address_pagination(client, world):
    sites = AddressFactory.create_batch(25)
    world.customer.write_addresses.add(*sites)
    client.force_login(world.customer)
    first = results(client, ADDRESSES)
    assert len(first["results"]) == 20
    assert first["more"] is True
    second = results(client, ADDRESSES, page=2)
    assert len(second["results"]) == 6
    assert second["more"] is False
    assert set(ids(first)).isdisjoint(ids(second))
    assert results(client, ADDRESSES, page="x")["results"]  # an invalid page: the first


def test_machines_of_a_fileable_address(client, world):
    MachineFactory(address=world.site, name="Old press", is_active=False)
    client.force_login(world.customer)
    assert ids(results(client, MACHINES, address=world.site.pk)) == [world.machine.pk]
    assert ids(results(client, MACHINES, address=world.site.pk, term="Site")) == [world.machine.pk]
    assert ids(results(client, MACHINES, address=world.site.pk, term="Foreign")) == []


@pytest.mark.parametrize("address", ["", "abc", "-1", "99999", "branch", "foreign"])
def test_machines_outside_the_scope_are_never_returned(client, world, address):
    if address in ("branch", "foreign"):
        address = getattr(world, address).pk
    client.force_login(world.customer)
    data = results(client, MACHINES, address=address)
    assert data == {"results": [], "more": False}


def test_machines_need_the_machines_right(client, world):
    user = ExternalUserFactory(address=world.site, write=[world.site], types=[], teams=[world.team])
    user.user_permissions.add(
        *Permission.objects.filter(
            codename__in=["view_ticket", "add_ticket"], content_type__app_label="tickets"
        )
    )
    client.force_login(user)
    assert ids(results(client, MACHINES, address=world.site.pk)) == []


def test_recipients_are_my_teams_and_people(client, world):
    client.force_login(world.customer)
    data = results(client, RECIPIENTS)
    assert data["results"] == [
        {"id": f"team:{world.team.pk}", "text": "Support"},
        {"id": f"user:{world.agent.pk}", "text": "Agnes Agent"},
    ]
    assert ids(results(client, RECIPIENTS, term="agn")) == [f"user:{world.agent.pk}"]
    assert ids(results(client, RECIPIENTS, term="Sales")) == []
    assert ids(results(client, RECIPIENTS, term="Otto")) == []


def test_inactive_recipients_are_not_offered(client, world):
    world.team.is_active = False
    world.team.save()
    world.agent.is_active = False
    world.agent.save()
    client.force_login(world.customer)
    assert ids(results(client, RECIPIENTS)) == []


def test_user_without_the_filing_right_gets_nothing(client, world):
    reader = ExternalUserFactory(address=world.site, read=[world.site], teams=[world.team])
    client.force_login(reader)
    assert ids(results(client, ADDRESSES)) == []
    assert ids(results(client, MACHINES, address=world.site.pk)) == []
    assert ids(results(client, RECIPIENTS)) == []
