"""Portal pages for addresses, machines and contact persons: who sees and changes what.

Every route is tested for the allowed case and its refusals: outside the scope → 404 with
the object's name absent, visible but not writable → 403 with the row unchanged after a forged
POST, a missing basic right → the section is absent (and the object's page a 404).
"""

import uuid

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from access import policy
from addresses.models import Address, ContactPerson, Machine
from tests.factories import (
    AddressFactory,
    ContactPersonFactory,
    ExternalUserFactory,
    MachineFactory,
    TicketFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def url(name, **kwargs):
    return reverse(f"portal:{name}", kwargs=kwargs)


def role_with(*perms):
    """A role (auth group) carrying exactly `perms`."""
    group = Group.objects.create(name=f"test role {uuid.uuid4().hex[:8]}")
    for perm in perms:
        app_label, codename = perm.split(".")
        group.permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    return group


ALL_READ = [
    policy.ADDRESSES_READ,
    policy.MACHINES_READ,
    policy.CONTACTS_READ,
    policy.TICKETS_READ,
]


@pytest.fixture
def own():
    return AddressFactory(number="70001", name="Own Works GmbH", city="Hamburg")


@pytest.fixture
def readonly():
    return AddressFactory(number="70002", name="Readonly Plant AG", city="Munich")


@pytest.fixture
def foreign():
    return AddressFactory(number="79999", name="Foreign Rival KG", city="Hamburg")


@pytest.fixture
def editor(own, readonly):
    return ExternalUserFactory(
        roles=["Portal editor"], address=own, read=[readonly], write=[own], first_name="Eddie"
    )


@pytest.fixture
def reader(own, readonly):
    """Portal user: read rights only, but `own` is in the write set."""
    return ExternalUserFactory(roles=["Portal user"], address=own, read=[readonly], write=[own])


def make_user(own, readonly, *perms):
    return ExternalUserFactory(roles=[role_with(*perms)], address=own, read=[readonly], write=[own])


@pytest.fixture
def logged_in(client):
    def login(user):
        client.force_login(user)
        return client

    return login


# ---------------------------------------------------------------------------------------------
# Who may enter at all.

ROUTES = [
    ("address-list", lambda o: {}),
    ("address-detail", lambda o: {"pk": o["address"].pk}),
    ("address-edit", lambda o: {"pk": o["address"].pk}),
    ("contact-create", lambda o: {"pk": o["address"].pk}),
    ("machine-detail", lambda o: {"pk": o["machine"].pk}),
    ("machine-edit", lambda o: {"pk": o["machine"].pk}),
    ("contact-detail", lambda o: {"pk": o["contact"].pk}),
    ("contact-edit", lambda o: {"pk": o["contact"].pk}),
]


@pytest.fixture
def objects(own):
    return {
        "address": own,
        "machine": MachineFactory(address=own),
        "contact": ContactPersonFactory(address=own),
    }


@pytest.mark.parametrize(("name", "kwargs"), ROUTES, ids=[r[0] for r in ROUTES])
def test_anonymous_is_sent_to_login(client, objects, name, kwargs):
    target = url(name, **kwargs(objects))
    response = client.get(target)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize(("name", "kwargs"), ROUTES, ids=[r[0] for r in ROUTES])
def test_internal_user_is_sent_away_from_the_portal(client, objects, name, kwargs):
    staff = UserFactory(roles=["Support agent"], is_staff=True)
    client.force_login(staff)
    response = client.get(url(name, **kwargs(objects)))
    assert response.status_code == 302
    assert response["Location"] == reverse("home")


# ---------------------------------------------------------------------------------------------
# Address list.


def test_address_list_shows_exactly_my_addresses(logged_in, editor, own, readonly, foreign):
    response = logged_in(editor).get(url("address-list"))
    assert response.status_code == 200
    content = response.content.decode()
    assert "Own Works GmbH" in content
    assert "Readonly Plant AG" in content
    assert "Foreign Rival KG" not in content
    # Sorted by number.
    assert content.index("70001") < content.index("70002")


def test_address_list_names_only_visible_headquarters(logged_in, own, foreign):
    site = AddressFactory(name="Branch Of Foreign", parent=foreign)
    user = ExternalUserFactory(roles=["Portal user"], address=own, read=[own, site])
    content = logged_in(user).get(url("address-list")).content.decode()
    assert "Branch Of Foreign" in content
    assert foreign.number not in content
    assert url("address-detail", pk=foreign.pk) not in content


def test_address_list_search_by_number_name_city(logged_in, editor, own, readonly, foreign):
    client = logged_in(editor)
    by_city = client.get(url("address-list"), {"q": "hamburg"}).content.decode()
    assert "Own Works GmbH" in by_city
    assert "Readonly Plant AG" not in by_city
    assert "Foreign Rival KG" not in by_city  # also in Hamburg, but not mine
    by_number = client.get(url("address-list"), {"q": "70002"}).content.decode()
    assert "Readonly Plant AG" in by_number and "Own Works GmbH" not in by_number
    by_name = client.get(url("address-list"), {"q": "plant readonly"}).content.decode()
    assert "Readonly Plant AG" in by_name
    nothing = client.get(url("address-list"), {"q": "Rival"}).content.decode()
    assert "Foreign Rival KG" not in nothing.split("No address matches")[0]
    assert "No address matches" in nothing


def test_address_list_paginates(logged_in, own):
    addresses = [AddressFactory(number=f"8{i:04d}") for i in range(30)]
    user = ExternalUserFactory(roles=["Portal user"], address=own, read=addresses)
    client = logged_in(user)
    first = client.get(url("address-list"))
    assert len(first.context["addresses"]) == 25
    assert first.context["page_obj"].paginator.count == 30
    second = client.get(url("address-list"), {"page": 2})
    assert len(second.context["addresses"]) == 5
    assert "80029" in second.content.decode()


def test_address_list_empty_state_tells_what_to_do(logged_in, own):
    user = ExternalUserFactory(roles=["Portal user"], address=own)
    response = logged_in(user).get(url("address-list"))
    assert response.status_code == 200
    assert "ask them to grant your account read permission" in response.content.decode()


def test_address_list_without_addresses_right_lists_nothing(logged_in, own, readonly):
    user = make_user(own, readonly, policy.MACHINES_READ)
    response = logged_in(user).get(url("address-list"))
    assert response.status_code == 200
    content = response.content.decode()
    assert "Own Works GmbH" not in content
    assert "Readonly Plant AG" not in content
    assert "does not include the right to see addresses" in content


def test_address_list_query_count_is_bounded(logged_in, own, django_assert_max_num_queries):
    addresses = [AddressFactory() for _ in range(30)]
    user = ExternalUserFactory(roles=["Portal editor"], address=own, read=addresses, write=[own])
    client = logged_in(user)
    client.get(url("address-list"))  # warm up
    # session, user, 2× role permissions, address sets, count, page.
    with django_assert_max_num_queries(8):
        response = client.get(url("address-list"))
    assert response.status_code == 200
    assert len(response.context["addresses"]) == 25


# ---------------------------------------------------------------------------------------------
# Address detail.


@pytest.fixture
def furnished(own, readonly, foreign):
    """Machines, contacts and tickets at each address, with recognisable names."""
    return {
        "own_machine": MachineFactory(address=own, name="OwnPress"),
        "ro_machine": MachineFactory(address=readonly, name="ReadonlyLathe"),
        "foreign_machine": MachineFactory(address=foreign, name="ForeignMill"),
        "own_contact": ContactPersonFactory(address=own, last_name="Ownerson"),
        "ro_contact": ContactPersonFactory(address=readonly, last_name="Readerson"),
        "foreign_contact": ContactPersonFactory(address=foreign, last_name="Foreignson"),
        "own_ticket": TicketFactory(address=own, subject="Own pump leaks"),
        "foreign_ticket": TicketFactory(address=foreign, subject="Foreign boiler broken"),
    }


def test_address_detail_shows_all_sections_with_rights(logged_in, editor, own, furnished):
    response = logged_in(editor).get(url("address-detail", pk=own.pk))
    assert response.status_code == 200
    content = response.content.decode()
    assert "Own Works GmbH" in content
    assert "OwnPress" in content
    assert "Ownerson" in content
    assert "Own pump leaks" in content
    assert reverse("portal:ticket-detail", kwargs={"number": furnished["own_ticket"].number}) in (
        content
    )
    assert f"{reverse('portal:ticket-list')}?address={own.pk}" in content
    # Nothing of other addresses.
    for marker in ["ReadonlyLathe", "ForeignMill", "Readerson", "Foreignson", "Foreign boiler"]:
        assert marker not in content
    assert url("address-edit", pk=own.pk) in content
    assert url("contact-create", pk=own.pk) in content


def test_address_detail_read_only_address_has_no_edit_buttons(
    logged_in, editor, readonly, furnished
):
    response = logged_in(editor).get(url("address-detail", pk=readonly.pk))
    assert response.status_code == 200
    content = response.content.decode()
    assert "ReadonlyLathe" in content and "Readerson" in content
    assert url("address-edit", pk=readonly.pk) not in content
    assert url("contact-create", pk=readonly.pk) not in content


def test_address_detail_without_write_rights_has_no_edit_buttons(logged_in, reader, own, furnished):
    content = logged_in(reader).get(url("address-detail", pk=own.pk)).content.decode()
    assert "OwnPress" in content
    assert url("address-edit", pk=own.pk) not in content
    assert url("contact-create", pk=own.pk) not in content


def test_address_detail_outside_scope_is_404(logged_in, editor, foreign, furnished):
    response = logged_in(editor).get(url("address-detail", pk=foreign.pk))
    assert response.status_code == 404
    assert b"Foreign Rival KG" not in response.content
    assert b"ForeignMill" not in response.content


def test_inactive_address_is_404_even_in_write_set(logged_in, editor, own):
    Address.objects.filter(pk=own.pk).update(is_active=False)
    response = logged_in(editor).get(url("address-detail", pk=own.pk))
    assert response.status_code == 404


def test_missing_address_right_is_404(logged_in, own, readonly):
    user = make_user(own, readonly, policy.MACHINES_READ, policy.CONTACTS_READ)
    response = logged_in(user).get(url("address-detail", pk=own.pk))
    assert response.status_code == 404
    assert b"Own Works GmbH" not in response.content


@pytest.mark.parametrize(
    ("missing", "marker", "section_id"),
    [
        (policy.MACHINES_READ, "OwnPress", 'id="machines"'),
        (policy.CONTACTS_READ, "Ownerson", 'id="contacts"'),
        (policy.TICKETS_READ, "Own pump leaks", 'id="tickets"'),
    ],
)
def test_missing_basic_right_hides_the_section(
    logged_in, own, readonly, furnished, missing, marker, section_id
):
    user = make_user(own, readonly, *[p for p in ALL_READ if p != missing])
    content = logged_in(user).get(url("address-detail", pk=own.pk)).content.decode()
    assert "Own Works GmbH" in content
    assert marker not in content
    assert section_id not in content


def test_without_machines_right_machine_detail_is_404(logged_in, own, readonly, furnished):
    user = make_user(own, readonly, policy.ADDRESSES_READ, policy.CONTACTS_READ)
    response = logged_in(user).get(url("machine-detail", pk=furnished["own_machine"].pk))
    assert response.status_code == 404
    assert b"OwnPress" not in response.content


def test_address_detail_shows_visible_sites_and_headquarters(logged_in, own, readonly):
    site = AddressFactory(name="Branch Site", parent=own)
    hidden_site = AddressFactory(name="Hidden Branch", parent=own)
    user = ExternalUserFactory(roles=["Portal user"], address=own, read=[own, site])
    client = logged_in(user)
    content = client.get(url("address-detail", pk=own.pk)).content.decode()
    assert "Branch Site" in content
    assert "Hidden Branch" not in content
    assert hidden_site.number not in content
    site_page = client.get(url("address-detail", pk=site.pk)).content.decode()
    assert url("address-detail", pk=own.pk) in site_page


def test_address_detail_query_count_is_bounded(
    logged_in, editor, own, django_assert_max_num_queries
):
    MachineFactory.create_batch(20, address=own)
    ContactPersonFactory.create_batch(20, address=own)
    TicketFactory.create_batch(10, address=own)
    client = logged_in(editor)
    client.get(url("address-detail", pk=own.pk))  # warm up
    # session, user, 2× role permissions, address sets, address, sites, 2× (count, page)
    # for machines and contacts, latest tickets: 12 whatever the number of rows.
    with django_assert_max_num_queries(13):
        response = client.get(url("address-detail", pk=own.pk))
    assert response.status_code == 200
    assert len(response.context["machines_page"]) == 20
    assert len(response.context["contacts_page"]) == 20
    assert len(response.context["tickets"]) == 10


def test_address_detail_sections_paginate(logged_in, editor, own):
    MachineFactory.create_batch(30, address=own)
    client = logged_in(editor)
    first = client.get(url("address-detail", pk=own.pk))
    assert len(first.context["machines_page"]) == 25
    second = client.get(url("address-detail", pk=own.pk), {"machines_page": 2})
    assert len(second.context["machines_page"]) == 5


# ---------------------------------------------------------------------------------------------
# Address edit.

ADDRESS_POST = {
    "name": "Own Works Renamed GmbH",
    "name_2": "Plant 2",
    "name_3": "",
    "street": "Neuer Weg 5",
    "postal_code": "20095",
    "city": "Hamburg",
    "country": "de",
    "phone": "+49 40 123",
    "email": "info@own.example",
}


def test_address_edit_saves_allowed_fields_only(logged_in, editor, own, foreign):
    client = logged_in(editor)
    assert client.get(url("address-edit", pk=own.pk)).status_code == 200
    forged = {
        **ADDRESS_POST,
        "number": "99999",
        "parent": foreign.pk,
        "is_active": "",
    }
    response = client.post(url("address-edit", pk=own.pk), forged, follow=True)
    assert response.redirect_chain[-1][0] == url("address-detail", pk=own.pk)
    assert "was saved" in response.content.decode()
    own.refresh_from_db()
    assert own.name == "Own Works Renamed GmbH"
    assert own.country == "DE"
    assert own.number == "70001"
    assert own.parent_id is None
    assert own.is_active


def test_address_edit_invalid_input_is_a_form_error(logged_in, editor, own):
    response = logged_in(editor).post(
        url("address-edit", pk=own.pk), {**ADDRESS_POST, "email": "not-an-email", "name": ""}
    )
    assert response.status_code == 200
    assert response.context["form"].errors.keys() >= {"email", "name"}
    own.refresh_from_db()
    assert own.name == "Own Works GmbH"


@pytest.mark.parametrize("who", ["editor_on_readonly", "reader_on_own"])
def test_address_edit_visible_but_not_writable_is_403(
    logged_in, editor, reader, own, readonly, who
):
    user, address = (editor, readonly) if who == "editor_on_readonly" else (reader, own)
    client = logged_in(user)
    before = Address.objects.get(pk=address.pk).name
    assert client.get(url("address-edit", pk=address.pk)).status_code == 403
    response = client.post(url("address-edit", pk=address.pk), ADDRESS_POST)
    assert response.status_code == 403
    assert Address.objects.get(pk=address.pk).name == before


def test_address_edit_outside_scope_is_404(logged_in, editor, foreign):
    client = logged_in(editor)
    response = client.get(url("address-edit", pk=foreign.pk))
    assert response.status_code == 404
    assert b"Foreign Rival KG" not in response.content
    assert client.post(url("address-edit", pk=foreign.pk), ADDRESS_POST).status_code == 404
    assert Address.objects.get(pk=foreign.pk).name == "Foreign Rival KG"


# ---------------------------------------------------------------------------------------------
# Contact create.

CONTACT_POST = {
    "salutation": "ms",
    "title": "Dr.",
    "first_name": "Nora",
    "last_name": "Newcomer",
    "function": "Plant manager",
    "department": "Production",
    "email": "nora@own.example",
    "phone": "",
    "mobile": "",
}


def test_contact_create_adds_a_contact(logged_in, editor, own):
    client = logged_in(editor)
    assert client.get(url("contact-create", pk=own.pk)).status_code == 200
    response = client.post(url("contact-create", pk=own.pk), CONTACT_POST, follow=True)
    contact = ContactPerson.objects.get(last_name="Newcomer")
    assert contact.address == own
    assert contact.is_active
    assert response.redirect_chain[-1][0] == url("contact-detail", pk=contact.pk)
    assert "was added" in response.content.decode()


def test_contact_create_forged_address_is_ignored(logged_in, editor, own, foreign):
    logged_in(editor).post(
        url("contact-create", pk=own.pk), {**CONTACT_POST, "address": foreign.pk}
    )
    assert ContactPerson.objects.get(last_name="Newcomer").address == own


def test_contact_create_second_main_is_a_form_error(logged_in, editor, own):
    ContactPersonFactory(address=own, is_main=True)
    response = logged_in(editor).post(
        url("contact-create", pk=own.pk), {**CONTACT_POST, "is_main": "on"}
    )
    assert response.status_code == 200
    assert "is_main" in response.context["form"].errors
    assert not ContactPerson.objects.filter(last_name="Newcomer").exists()


@pytest.mark.parametrize("who", ["editor_on_readonly", "reader_on_own"])
def test_contact_create_refused_is_403(logged_in, editor, reader, own, readonly, who):
    user, address = (editor, readonly) if who == "editor_on_readonly" else (reader, own)
    client = logged_in(user)
    assert client.get(url("contact-create", pk=address.pk)).status_code == 403
    assert client.post(url("contact-create", pk=address.pk), CONTACT_POST).status_code == 403
    assert not ContactPerson.objects.filter(last_name="Newcomer").exists()


def test_contact_create_outside_scope_is_404(logged_in, editor, foreign):
    client = logged_in(editor)
    response = client.get(url("contact-create", pk=foreign.pk))
    assert response.status_code == 404
    assert b"Foreign Rival KG" not in response.content
    assert client.post(url("contact-create", pk=foreign.pk), CONTACT_POST).status_code == 404
    assert not ContactPerson.objects.filter(last_name="Newcomer").exists()


# ---------------------------------------------------------------------------------------------
# Machines.

MACHINE_POST = {
    "name": "Renamed press",
    "manufacturer": "Acme",
    "model": "P-500",
    "serial_number": "SN-1",
    "installed_on": "2021-03-04",
    "notes": "Moved to hall 2",
}


def test_machine_detail_shows_data_and_its_tickets(logged_in, editor, own, furnished):
    machine = furnished["own_machine"]
    machine_ticket = TicketFactory(address=own, machine=machine, subject="Press squeaks")
    content = logged_in(editor).get(url("machine-detail", pk=machine.pk)).content.decode()
    assert "OwnPress" in content
    assert "Press squeaks" in content
    assert "Own pump leaks" not in content  # a ticket of the address, not of this machine
    assert reverse("portal:ticket-detail", kwargs={"number": machine_ticket.number}) in content
    assert f"{reverse('portal:ticket-list')}?machine={machine.pk}" in content
    assert url("machine-edit", pk=machine.pk) in content


def test_machine_detail_read_only_has_no_edit_button(logged_in, editor, reader, furnished):
    ro_machine = furnished["ro_machine"]
    content = logged_in(editor).get(url("machine-detail", pk=ro_machine.pk)).content.decode()
    assert "ReadonlyLathe" in content
    assert url("machine-edit", pk=ro_machine.pk) not in content


def test_machine_detail_outside_scope_is_404(logged_in, editor, furnished):
    response = logged_in(editor).get(url("machine-detail", pk=furnished["foreign_machine"].pk))
    assert response.status_code == 404
    assert b"ForeignMill" not in response.content


def test_machine_detail_without_tickets_right_hides_tickets(logged_in, own, readonly, furnished):
    machine = furnished["own_machine"]
    TicketFactory(address=own, machine=machine, subject="Press squeaks")
    user = make_user(own, readonly, policy.MACHINES_READ)
    content = logged_in(user).get(url("machine-detail", pk=machine.pk)).content.decode()
    assert "OwnPress" in content
    assert "Press squeaks" not in content
    assert 'id="tickets"' not in content
    # Without the Addresses right the machine page does not name or link its address.
    assert url("address-detail", pk=own.pk) not in content


def test_machine_edit_saves_allowed_fields_only(logged_in, editor, furnished, foreign):
    machine = furnished["own_machine"]
    client = logged_in(editor)
    assert client.get(url("machine-edit", pk=machine.pk)).status_code == 200
    forged = {**MACHINE_POST, "number": "HACKED", "address": foreign.pk}
    response = client.post(url("machine-edit", pk=machine.pk), forged, follow=True)
    assert response.redirect_chain[-1][0] == url("machine-detail", pk=machine.pk)
    machine.refresh_from_db()
    assert machine.name == "Renamed press"
    assert str(machine.installed_on) == "2021-03-04"
    assert machine.number != "HACKED"
    assert machine.address_id != foreign.pk


@pytest.mark.parametrize("who", ["editor_on_readonly", "reader_on_own"])
def test_machine_edit_visible_but_not_writable_is_403(logged_in, editor, reader, furnished, who):
    user, machine = (
        (editor, furnished["ro_machine"])
        if who == "editor_on_readonly"
        else (reader, furnished["own_machine"])
    )
    client = logged_in(user)
    before = Machine.objects.get(pk=machine.pk).name
    assert client.get(url("machine-edit", pk=machine.pk)).status_code == 403
    assert client.post(url("machine-edit", pk=machine.pk), MACHINE_POST).status_code == 403
    assert Machine.objects.get(pk=machine.pk).name == before


def test_machine_edit_outside_scope_is_404(logged_in, editor, furnished):
    machine = furnished["foreign_machine"]
    client = logged_in(editor)
    response = client.get(url("machine-edit", pk=machine.pk))
    assert response.status_code == 404
    assert b"ForeignMill" not in response.content
    assert client.post(url("machine-edit", pk=machine.pk), MACHINE_POST).status_code == 404
    assert Machine.objects.get(pk=machine.pk).name == "ForeignMill"


# ---------------------------------------------------------------------------------------------
# Contact persons.


def contact_post(contact, **changes):
    data = {
        field: getattr(contact, field)
        for field in [
            "salutation",
            "title",
            "first_name",
            "last_name",
            "function",
            "department",
            "email",
            "phone",
            "mobile",
        ]
    }
    if contact.is_main:
        data["is_main"] = "on"
    if contact.is_active:
        data["is_active"] = "on"
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_contact_detail_and_edit(logged_in, editor, furnished):
    contact = furnished["own_contact"]
    client = logged_in(editor)
    content = client.get(url("contact-detail", pk=contact.pk)).content.decode()
    assert "Ownerson" in content
    assert url("contact-edit", pk=contact.pk) in content
    assert client.get(url("contact-edit", pk=contact.pk)).status_code == 200
    response = client.post(
        url("contact-edit", pk=contact.pk),
        contact_post(contact, function="Head of maintenance", address=furnished["ro_contact"].pk),
        follow=True,
    )
    assert response.redirect_chain[-1][0] == url("contact-detail", pk=contact.pk)
    contact.refresh_from_db()
    assert contact.function == "Head of maintenance"
    assert contact.address_id == furnished["own_contact"].address_id


def test_contact_edit_second_main_is_a_form_error(logged_in, editor, own, furnished):
    ContactPersonFactory(address=own, is_main=True, last_name="Mainperson")
    contact = furnished["own_contact"]
    response = logged_in(editor).post(
        url("contact-edit", pk=contact.pk), contact_post(contact, is_main="on")
    )
    assert response.status_code == 200
    assert "is_main" in response.context["form"].errors
    contact.refresh_from_db()
    assert not contact.is_main


def test_contact_detail_read_only_has_no_edit_button(logged_in, editor, furnished):
    contact = furnished["ro_contact"]
    content = logged_in(editor).get(url("contact-detail", pk=contact.pk)).content.decode()
    assert "Readerson" in content
    assert url("contact-edit", pk=contact.pk) not in content


@pytest.mark.parametrize("who", ["editor_on_readonly", "reader_on_own"])
def test_contact_edit_visible_but_not_writable_is_403(logged_in, editor, reader, furnished, who):
    user, contact = (
        (editor, furnished["ro_contact"])
        if who == "editor_on_readonly"
        else (reader, furnished["own_contact"])
    )
    client = logged_in(user)
    assert client.get(url("contact-edit", pk=contact.pk)).status_code == 403
    response = client.post(url("contact-edit", pk=contact.pk), contact_post(contact, title="X"))
    assert response.status_code == 403
    contact.refresh_from_db()
    assert contact.title != "X"


def test_contact_outside_scope_is_404(logged_in, editor, furnished):
    contact = furnished["foreign_contact"]
    client = logged_in(editor)
    for name in ["contact-detail", "contact-edit"]:
        response = client.get(url(name, pk=contact.pk))
        assert response.status_code == 404
        assert b"Foreignson" not in response.content
    response = client.post(url("contact-edit", pk=contact.pk), contact_post(contact, title="X"))
    assert response.status_code == 404
    contact.refresh_from_db()
    assert contact.title != "X"


def test_without_contacts_right_contact_detail_is_404(logged_in, own, readonly, furnished):
    user = make_user(own, readonly, policy.ADDRESSES_READ)
    response = logged_in(user).get(url("contact-detail", pk=furnished["own_contact"].pk))
    assert response.status_code == 404
    assert b"Ownerson" not in response.content


def test_own_linked_contact_is_visible_outside_the_address_sets(logged_in):
    home = AddressFactory(name="Home Office")
    me = ContactPersonFactory(address=home, last_name="Myself")
    colleague = ContactPersonFactory(address=home, last_name="Colleague")
    user = ExternalUserFactory(roles=["Portal editor"], address=home, contact_person=me)
    client = logged_in(user)
    content = client.get(url("contact-detail", pk=me.pk)).content.decode()
    assert "Myself" in content
    assert url("contact-edit", pk=me.pk) in content
    assert url("address-detail", pk=home.pk) not in content  # the address is not in R(u)
    assert client.get(url("contact-detail", pk=colleague.pk)).status_code == 404
