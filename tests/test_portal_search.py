"""/portal/search/: finds only what the user may open, group by group, capped at ten."""

import uuid

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from access import policy
from tests.factories import (
    AddressFactory,
    ContactPersonFactory,
    ExternalUserFactory,
    MachineFactory,
    TicketFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

SEARCH = "/portal/search/"


def role_with(*perms):
    group = Group.objects.create(name=f"test role {uuid.uuid4().hex[:8]}")
    for perm in perms:
        app_label, codename = perm.split(".")
        group.permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    return group


@pytest.fixture
def mine():
    return AddressFactory(number="40001", name="Zephyr Mine GmbH", city="Kiel")


@pytest.fixture
def theirs():
    return AddressFactory(number="40002", name="Zephyr Theirs AG", city="Kiel")


@pytest.fixture
def data(mine, theirs):
    return {
        "my_ticket": TicketFactory(address=mine, subject="Zephyr valve leaks"),
        "their_ticket": TicketFactory(address=theirs, subject="Zephyr secret outage"),
        "my_machine": MachineFactory(address=mine, name="Zephyr press", serial_number="ZS-1"),
        "their_machine": MachineFactory(address=theirs, name="Zephyr hidden lathe"),
        "my_contact": ContactPersonFactory(address=mine, last_name="Zephyrson"),
        "their_contact": ContactPersonFactory(address=theirs, last_name="Zephyrhidden"),
    }


@pytest.fixture
def user(mine):
    return ExternalUserFactory(roles=["Portal user"], address=mine, read=[mine])


def search(client, q):
    return client.get(SEARCH, {"q": q})


def test_route_name():
    assert reverse("portal:search") == SEARCH


def test_anonymous_is_sent_to_login(client):
    response = client.get(SEARCH, {"q": "x"})
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_internal_user_is_sent_away(client):
    client.force_login(UserFactory(roles=["Support agent"]))
    response = client.get(SEARCH, {"q": "x"})
    assert response.status_code == 302
    assert response["Location"] == reverse("home")


def test_empty_query_shows_a_hint(client, user):
    client.force_login(user)
    response = client.get(SEARCH)
    assert response.status_code == 200
    assert "Type a search term above." in response.content.decode()
    assert response.context["groups"] == []


def test_finds_each_group_only_in_my_scope(client, user, data, mine):
    client.force_login(user)
    content = search(client, "zephyr").content.decode()
    for marker in ["Zephyr valve leaks", "Zephyr press", "Zephyr Mine GmbH", "Zephyrson"]:
        assert marker in content
    for marker in ["Zephyr secret outage", "Zephyr hidden lathe", "Zephyr Theirs", "Zephyrhidden"]:
        assert marker not in content
    ticket = data["my_ticket"]
    assert reverse("portal:ticket-detail", kwargs={"number": ticket.number}) in content
    assert reverse("portal:machine-detail", kwargs={"pk": data["my_machine"].pk}) in content
    assert reverse("portal:contact-detail", kwargs={"pk": data["my_contact"].pk}) in content
    assert reverse("portal:address-detail", kwargs={"pk": mine.pk}) in content


def test_ticket_number_is_matched_exactly(client, user, data):
    client.force_login(user)
    mine, theirs = data["my_ticket"], data["their_ticket"]
    found = search(client, str(mine.number)).context["groups"]
    tickets = next(g for g in found if g.key == "tickets").results
    assert tickets == [mine]
    also_hash = search(client, f"#{mine.number}").context["groups"]
    assert next(g for g in also_hash if g.key == "tickets").results == [mine]
    content = search(client, str(theirs.number)).content.decode()
    assert "Zephyr secret outage" not in content


def test_machines_by_serial_and_contacts_by_email(client, user, data):
    client.force_login(user)
    assert "Zephyr press" in search(client, "zs-1").content.decode()
    email = data["my_contact"].email
    assert "Zephyrson" in search(client, email).content.decode()


@pytest.mark.parametrize(
    ("missing", "marker"),
    [
        (policy.TICKETS_READ, "Zephyr valve leaks"),
        (policy.ADDRESSES_READ, "Zephyr Mine GmbH"),
        (policy.MACHINES_READ, "Zephyr press"),
        (policy.CONTACTS_READ, "Zephyrson"),
    ],
)
def test_a_group_needs_its_basic_right(client, mine, data, missing, marker):
    rights = [
        policy.TICKETS_READ,
        policy.ADDRESSES_READ,
        policy.MACHINES_READ,
        policy.CONTACTS_READ,
    ]
    user = ExternalUserFactory(
        roles=[role_with(*[r for r in rights if r != missing])], address=mine, read=[mine]
    )
    client.force_login(user)
    content = search(client, "zephyr").content.decode()
    assert marker not in content
    assert len(search(client, "zephyr").context["groups"]) == 3


def test_no_rights_at_all_says_so(client, mine, data):
    user = ExternalUserFactory(roles=[role_with(policy.TICKETS_FILE)], address=mine, read=[mine])
    client.force_login(user)
    content = search(client, "zephyr").content.decode()
    assert "nothing to search" in content
    assert "Zephyr" not in content.split("</form>", 2)[-1]


def test_groups_are_capped_at_ten_with_a_more_line(client, user, mine):
    MachineFactory.create_batch(12, address=mine, name="Capped unit")
    MachineFactory.create_batch(3, address=mine, name="Few unit")
    client.force_login(user)
    capped = search(client, "capped unit")
    machines = next(g for g in capped.context["groups"] if g.key == "machines")
    assert len(machines.results) == 10 and machines.has_more
    assert "10 of more" in capped.content.decode()
    few = search(client, "few unit")
    machines = next(g for g in few.context["groups"] if g.key == "machines")
    assert len(machines.results) == 3 and not machines.has_more
    assert "10 of more" not in few.content.decode()


def test_search_query_count_is_bounded(client, user, mine, django_assert_max_num_queries):
    TicketFactory.create_batch(15, address=mine, subject="Bounded query")
    MachineFactory.create_batch(15, address=mine, name="Bounded query")
    ContactPersonFactory.create_batch(15, address=mine, last_name="Bounded query")
    client.force_login(user)
    search(client, "bounded query")  # warm up
    # session, user, 2× role permissions, address sets, one query per group (4).
    with django_assert_max_num_queries(10):
        response = search(client, "bounded query")
    assert response.status_code == 200
    assert all(len(g.results) == 10 for g in response.context["groups"] if g.key != "addresses")


def test_search_box_keeps_the_query(client, user):
    client.force_login(user)
    content = search(client, "needle").content.decode()
    assert 'value="needle"' in content


def test_nothing_found_says_so(client, user, data):
    client.force_login(user)
    content = search(client, "no-such-thing-anywhere").content.decode()
    assert "Nothing found for" in content
