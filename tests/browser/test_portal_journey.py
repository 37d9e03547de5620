"""A customer's journey through the portal in a real browser (Chromium via Playwright)."""

import pytest

from tests.browser.conftest import choose_select2, sign_in
from tests.factories import (
    AddressFactory,
    ExternalUserFactory,
    MachineFactory,
    TeamFactory,
    TicketFactory,
    TicketTypeFactory,
)
from tickets.models import Attachment, Message, Ticket, TicketStatus

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "secret-Passw0rd"


@pytest.fixture
def site_world():
    site = AddressFactory(number="10010", name="Alpenblick Werk Süd")
    MachineFactory(address=site, number="M-7001", name="Palettierer PX-7")
    team = TeamFactory(name="Service")
    malfunction = TicketTypeFactory(name="Malfunction")
    solved = TicketStatus.objects.get(name="Solved")
    writer = ExternalUserFactory(
        email="walter@example.com",
        address=site,
        roles=["Portal user"],
        write=[site],
        types=[malfunction],
        teams=[team],
        restrict_status=True,
        statuses=[solved],
    )
    reader = ExternalUserFactory(
        email="rosa@example.com", address=site, roles=["Portal user"], read=[site]
    )
    return {"site": site, "team": team, "writer": writer, "reader": reader}


def test_customer_files_follows_answers_and_solves_a_ticket(page, site_world, tmp_path):
    photo = tmp_path / "Störung Foto.png"
    photo.write_bytes(b"\x89PNG\r\n\x1a\nfake image")

    sign_in(page, "walter@example.com", PASSWORD)
    page.wait_for_url("**/portal/")
    page.get_by_role("link", name="New ticket").first.click()

    # One allowed address, type and recipient: preselected. The machine comes from Select2.
    choose_select2(page, "id_machine", "PX-7", "Palettierer PX-7")
    page.get_by_label("Subject").fill("Palettierer stoppt nach 20 Zyklen")
    page.get_by_label("Description").fill("Seit heute früh stoppt die Anlage.\n<b>kein HTML</b>")
    page.set_input_files("#id_files", str(photo))
    page.get_by_role("button", name="File ticket").click()

    page.wait_for_url("**/portal/tickets/*/")
    ticket = Ticket.objects.get(subject="Palettierer stoppt nach 20 Zyklen")
    assert ticket.machine.number == "M-7001"
    assert ticket.responsible_team == site_world["team"]
    assert Attachment.objects.get(message__ticket=ticket).original_name == "Störung Foto.png"
    assert page.get_by_text("<b>kein HTML</b>").is_visible()  # shown as text, escaped
    assert page.get_by_role("link", name="Störung Foto.png").is_visible()

    page.get_by_role("navigation", name="Main navigation").get_by_role(
        "link", name="Tickets"
    ).click()
    page.get_by_role("link", name="Palettierer stoppt nach 20 Zyklen").click()

    page.get_by_label("Your reply").fill("Fehlercode E42 auf dem Display.")
    page.get_by_role("button", name="Send reply").click()
    page.get_by_text("Fehlercode E42 auf dem Display.").wait_for()
    assert Message.objects.filter(ticket=ticket, body="Fehlercode E42 auf dem Display.").exists()

    # The status control offers only the statuses this user may set.
    options = page.locator("#id_status option").all_inner_texts()
    assert options == ["Solved"]
    page.get_by_role("button", name="Set status").click()
    page.get_by_role("button", name="Send reply and reopen").wait_for()
    ticket.refresh_from_db()
    assert ticket.status.name == "Solved" and ticket.is_closed
    assert page.csp_errors == []


def test_read_only_user_sees_the_ticket_without_reply_form(page, site_world):
    ticket = TicketFactory(
        address=site_world["site"],
        responsible_team=site_world["team"],
        subject="Wartung fällig",
    )
    sign_in(page, "rosa@example.com", PASSWORD)
    page.wait_for_url("**/portal/")
    page.goto(f"/portal/tickets/{ticket.number}/")
    page.get_by_role("heading", name="Wartung fällig").wait_for()
    assert page.get_by_label("Your reply").count() == 0
    assert page.get_by_role("button", name="Set status").count() == 0
    assert page.get_by_role("link", name="New ticket").count() == 0
