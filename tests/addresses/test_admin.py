"""Admin for addresses (with their contact persons and machines), contact persons, machines."""

import pytest
from django.urls import reverse

from addresses.models import Address, ContactPerson, Machine
from tests.factories import AddressFactory, ContactPersonFactory, MachineFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def inline_management(prefix, total=0, initial=0):
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


def address_post(**fields):
    return {
        "number": "40001",
        "name": "Beta Werkzeugbau KG",
        "street": "Industriestraße 5",
        "postal_code": "70173",
        "city": "Stuttgart",
        "country": "DE",
        "is_active": "on",
        **inline_management("contacts"),
        **inline_management("machines"),
        **fields,
    }


def contact_row(index, last_name, **fields):
    return {
        f"contacts-{index}-last_name": last_name,
        **{f"contacts-{index}-{k}": v for k, v in fields.items()},
    }


@pytest.mark.parametrize(
    "url_name",
    [
        "admin:addresses_address_changelist",
        "admin:addresses_address_add",
        "admin:addresses_contactperson_changelist",
        "admin:addresses_contactperson_add",
        "admin:addresses_machine_changelist",
        "admin:addresses_machine_add",
    ],
)
def test_pages_open(staff_client, url_name):
    MachineFactory()
    ContactPersonFactory()
    assert staff_client.get(reverse(url_name)).status_code == 200


def test_address_change_page_shows_contacts_and_machines(staff_client):
    address = AddressFactory()
    contact = ContactPersonFactory(address=address, last_name="Schmidt")
    machine = MachineFactory(address=address, name="Laser cutter")
    html = staff_client.get(reverse("admin:addresses_address_change", args=[address.pk]))
    html = html.content.decode()
    assert "Schmidt" in html and "Laser cutter" in html
    # Each row links to its own page.
    assert reverse("admin:addresses_contactperson_change", args=[contact.pk]) in html
    assert reverse("admin:addresses_machine_change", args=[machine.pk]) in html
    # The headquarters is picked with search-as-you-type.
    assert 'data-model-name="address"' in html and "admin-autocomplete" in html


def test_add_address_with_contacts_and_machines_in_one_save(staff_client):
    headquarters = AddressFactory(number="40000")
    data = address_post(
        parent=headquarters.pk,
        **inline_management("contacts", total=2),
        **contact_row(0, "Schmidt", first_name="Jana", is_main="on", is_active="on"),
        **contact_row(1, "Weber", is_active="on"),
        **inline_management("machines", total=1),
        **{"machines-0-number": "M-1", "machines-0-name": "Press", "machines-0-is_active": "on"},
    )
    response = staff_client.post(reverse("admin:addresses_address_add"), data)
    assert response.status_code == 302
    address = Address.objects.get(number="40001")
    assert address.parent == headquarters
    assert {c.last_name for c in address.contacts.all()} == {"Schmidt", "Weber"}
    assert address.contacts.get(is_main=True).last_name == "Schmidt"
    assert [m.number for m in address.machines.all()] == ["M-1"]


def test_two_main_contacts_are_refused(staff_client):
    data = address_post(
        **inline_management("contacts", total=2),
        **contact_row(0, "Schmidt", is_main="on", is_active="on"),
        **contact_row(1, "Weber", is_main="on", is_active="on"),
    )
    response = staff_client.post(reverse("admin:addresses_address_add"), data)
    assert response.status_code == 200
    assert "An address has at most one main contact person." in response.content.decode()
    assert not Address.objects.filter(number="40001").exists()
    assert ContactPerson.objects.count() == 0


def test_an_address_cannot_be_its_own_headquarters(staff_client):
    headquarters = AddressFactory()
    site = AddressFactory(parent=headquarters)
    data = address_post(number=headquarters.number, name=headquarters.name, parent=site.pk)
    response = staff_client.post(
        reverse("admin:addresses_address_change", args=[headquarters.pk]), data
    )
    assert response.status_code == 200
    assert "cannot be its own headquarters" in response.content.decode()
    headquarters.refresh_from_db()
    assert headquarters.parent is None


@pytest.mark.parametrize(
    ("term", "expected"),
    [("40002", {"40002"}), ("Stuttgart", {"40001"}), ("Beta", {"40001", "40002"})],
)
def test_address_search(staff_client, term, expected):
    AddressFactory(number="40001", name="Beta Werkzeugbau KG", city="Stuttgart")
    AddressFactory(number="40002", name="Beta Werk Ulm", city="Ulm")
    AddressFactory(number="50001", name="Gamma AG", city="Köln")
    response = staff_client.get(reverse("admin:addresses_address_changelist"), {"q": term})
    assert {a.number for a in response.context["cl"].result_list} == expected


def test_contact_and_machine_search_by_address_number(staff_client):
    address = AddressFactory(number="40001")
    ContactPersonFactory(address=address, last_name="Schmidt")
    ContactPersonFactory(last_name="Other")
    MachineFactory(address=address, number="M-7")
    MachineFactory(number="M-8")
    contacts = staff_client.get(reverse("admin:addresses_contactperson_changelist"), {"q": "40001"})
    assert [c.last_name for c in contacts.context["cl"].result_list] == ["Schmidt"]
    machines = staff_client.get(reverse("admin:addresses_machine_changelist"), {"q": "40001"})
    assert [m.number for m in machines.context["cl"].result_list] == ["M-7"]


def test_machine_and_contact_pick_their_address_by_search(staff_client):
    for url_name in ("admin:addresses_machine_add", "admin:addresses_contactperson_add"):
        html = staff_client.get(reverse(url_name)).content.decode()
        assert 'id="id_address"' in html and "admin-autocomplete" in html


def test_lists_run_a_bounded_number_of_queries(staff_client, django_assert_max_num_queries):
    for _index in range(25):
        address = AddressFactory(parent=AddressFactory())
        ContactPersonFactory(address=address)
        MachineFactory(address=address)
    for url_name in (
        "admin:addresses_address_changelist",
        "admin:addresses_contactperson_changelist",
        "admin:addresses_machine_changelist",
    ):
        staff_client.get(reverse(url_name))
        with django_assert_max_num_queries(8):
            assert staff_client.get(reverse(url_name)).status_code == 200


def test_parent_autocomplete_offers_only_active_addresses(staff_client):
    AddressFactory(number="40001", name="Beta active")
    AddressFactory(number="40002", name="Beta closed", is_active=False)
    response = staff_client.get(
        reverse("admin:autocomplete"),
        {"app_label": "addresses", "model_name": "address", "field_name": "parent", "term": "Beta"},
    )
    assert [r["text"] for r in response.json()["results"]] == ["40001 Beta active"]
    # The address list itself still shows both.
    listed = staff_client.get(reverse("admin:addresses_address_changelist"), {"q": "Beta"})
    assert listed.context["cl"].result_count == 2


def test_machine_number_is_unique(staff_client):
    MachineFactory(number="M-1")
    address = AddressFactory()
    response = staff_client.post(
        reverse("admin:addresses_machine_add"),
        {"number": "M-1", "name": "Press", "address": address.pk, "is_active": "on"},
    )
    assert response.status_code == 200
    assert Machine.objects.filter(number="M-1").count() == 1
