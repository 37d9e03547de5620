"""Customer and support agent work one ticket in real browsers (Chromium via Playwright)."""

import pytest

from tests.browser.conftest import sign_in
from tests.factories import (
    AddressFactory,
    ExternalUserFactory,
    TeamFactory,
    TicketTypeFactory,
    UserFactory,
)
from tickets.models import Message, Ticket, TicketEvent

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "secret-Passw0rd"


def test_customer_files_staff_take_note_and_reply_customer_sees_only_the_reply(
    browser, live_server
):
    site = AddressFactory(number="10020", name="Rheintal Fertigung")
    team = TeamFactory(name="Support")
    agent = UserFactory(
        email="sven@example.com", first_name="Sven", last_name="Berger", roles=["Support agent"]
    )
    team.members.add(agent)
    ExternalUserFactory(
        email="stefan@example.com",
        address=site,
        roles=["Portal user"],
        write=[site],
        types=[TicketTypeFactory(name="Malfunction")],
        teams=[team],
    )

    customer = browser.new_context(base_url=live_server.url).new_page()
    staff = browser.new_context(base_url=live_server.url).new_page()
    csp_errors = []
    for page in (customer, staff):
        page.set_default_timeout(10_000)
        page.on("pageerror", lambda exc: csp_errors.append(str(exc)))

    # The customer files a ticket.
    sign_in(customer, "stefan@example.com", PASSWORD)
    customer.wait_for_url("**/portal/")
    customer.goto("/portal/tickets/new/")
    customer.get_by_label("Subject").fill("Förderband quietscht")
    customer.get_by_label("Description").fill("Seit Montag laut.")
    customer.get_by_role("button", name="File ticket").click()
    customer.wait_for_url("**/portal/tickets/*/")
    ticket = Ticket.objects.get(subject="Förderband quietscht")

    # The agent finds it in the team queue, takes it, adds a note and replies.
    sign_in(staff, "sven@example.com", PASSWORD)
    staff.wait_for_url("**/desk/**")
    staff.goto("/desk/?queue=teams")
    staff.get_by_role("link", name="Förderband quietscht").click()
    staff.get_by_role("button", name="Take").click()
    staff.get_by_text("Take").first.wait_for()
    ticket.refresh_from_db()
    assert ticket.responsible_user_id == agent.pk
    assert TicketEvent.objects.filter(ticket=ticket, kind="taken").exists()

    staff.get_by_label("Internal note").check()
    staff.get_by_role("textbox", name="Message").fill(
        "Kunde hat Wartungsvertrag B, Techniker Huber schicken."
    )
    staff.get_by_role("button", name="Add internal note").click()
    staff.get_by_text("Kunde hat Wartungsvertrag B").wait_for()

    staff.get_by_label("Reply to customer").check()
    staff.get_by_role("textbox", name="Message").fill("Ein Techniker kommt morgen um 9 Uhr.")
    staff.get_by_role("button", name="Send reply to customer").click()
    staff.get_by_text("Ein Techniker kommt morgen um 9 Uhr.").wait_for()
    assert Message.objects.filter(ticket=ticket, kind="internal_note").count() == 1
    assert Message.objects.filter(ticket=ticket, kind="reply").count() == 1

    # The customer sees the reply and not the note.
    customer.reload()
    customer.get_by_text("Ein Techniker kommt morgen um 9 Uhr.").wait_for()
    assert customer.get_by_text("Wartungsvertrag").count() == 0
    assert "Huber" not in customer.content()
    assert csp_errors == []
