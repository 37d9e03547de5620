"""An administrator creates an external user with every field of the manual, in one save,
using the admin's search-as-you-type selection (Chromium via Playwright)."""

import pytest

from accounts.models import User
from tests.browser.conftest import choose_select2
from tests.factories import (
    AddressFactory,
    ContactPersonFactory,
    TeamFactory,
    TicketTypeFactory,
    UserFactory,
)
from tickets.models import TicketStatus

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_administrator_creates_an_external_user_in_one_save(page):
    UserFactory(email="admin@example.com", is_staff=True, is_superuser=True)
    headquarters = AddressFactory(number="10001", name="Nordwerk Holding")
    site_a = AddressFactory(number="10002", name="Nordwerk Kiel", parent=headquarters)
    site_b = AddressFactory(number="10003", name="Nordwerk Lübeck", parent=headquarters)
    contact = ContactPersonFactory(address=headquarters, first_name="Petra", last_name="Hansen")
    team = TeamFactory(name="Service")
    engineer = UserFactory(first_name="Nina", last_name="Roth", email="nina@example.com")
    malfunction = TicketTypeFactory(name="Malfunction")
    solved = TicketStatus.objects.get(name="Solved")

    page.goto("/admin/login/")
    page.fill("#id_username", "admin@example.com")
    page.fill("#id_password", "secret-Passw0rd")
    page.click("input[type=submit]")
    page.goto("/admin/accounts/user/add/")

    page.fill("#id_email", "Petra.Hansen@Nordwerk.example")
    page.fill("#id_first_name", "Petra")
    page.fill("#id_last_name", "Hansen")
    page.fill("#id_password1", "Nordwerk-Portal-2026")
    page.fill("#id_password2", "Nordwerk-Portal-2026")
    page.check("#id_is_external")
    choose_select2(page, "id_address", "10001", "Nordwerk Holding")
    choose_select2(page, "id_read_addresses", "10001", "Nordwerk Holding")
    choose_select2(page, "id_write_addresses", "Kiel", "Nordwerk Kiel")
    choose_select2(page, "id_write_addresses", "Lübeck", "Nordwerk Lübeck")
    choose_select2(page, "id_contact_person", "Hansen", "Hansen")
    choose_select2(page, "id_responsible_teams", "Serv", "Service")
    choose_select2(page, "id_responsible_users", "Roth", "Roth")
    choose_select2(page, "id_ticket_types", "Malf", "Malfunction")
    page.check("#id_restrict_status")
    choose_select2(page, "id_allowed_statuses", "Solv", "Solved")
    choose_select2(page, "id_groups", "Portal", "Portal user")
    page.click("input[name=_save]")
    page.locator(".messagelist .success").first.wait_for()

    user = User.objects.get(email="petra.hansen@nordwerk.example")
    assert user.is_external and not user.is_staff
    assert user.address == headquarters
    assert set(user.read_addresses.all()) == {headquarters}
    assert set(user.write_addresses.all()) == {site_a, site_b}
    assert user.contact_person == contact
    assert set(user.responsible_teams.all()) == {team}
    assert set(user.responsible_users.all()) == {engineer}
    assert set(user.ticket_types.all()) == {malfunction}
    assert user.restrict_status and set(user.allowed_statuses.all()) == {solved}
    assert set(user.groups.values_list("name", flat=True)) == {"Portal user"}
    assert user.check_password("Nordwerk-Portal-2026")
    # This user can file tickets, so the admin shows no "cannot file" warning.
    assert page.locator(".messagelist .warning").count() == 0
    assert page.csp_errors == []
