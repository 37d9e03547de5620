"""Attachment downloads: fetched through the scoped ticket and its visible messages only."""

from pathlib import Path
from types import SimpleNamespace

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests.factories import (
    AddressFactory,
    ExternalUserFactory,
    TeamFactory,
    TicketTypeFactory,
    UserFactory,
)
from tickets import services
from tickets.models import Attachment

pytestmark = pytest.mark.django_db

NAME = "Prüfbericht März €.pdf"


# ---------------------------------------------------------------------------------------------
# Shared fixtures.


@pytest.fixture
def world():
    """`site` (write), `branch` (read only), `foreign` (neither); an agent; the customer."""
    site = AddressFactory()
    branch = AddressFactory()
    foreign = AddressFactory()
    team = TeamFactory(name="Support")
    fault = TicketTypeFactory(name="Fault")
    agent = UserFactory(roles=["Support agent"])
    customer = ExternalUserFactory(
        roles=["Portal user"],
        address=site,
        write=[site],
        read=[branch],
        types=[fault],
        teams=[team],
    )
    return SimpleNamespace(
        site=site,
        branch=branch,
        foreign=foreign,
        team=team,
        fault=fault,
        agent=agent,
        customer=customer,
    )


def ticket_with_file(world, address, name=NAME, content=b"%PDF-1.4 test"):
    ticket = services.ticket_create(
        actor=world.agent,
        address=address,
        ticket_type=world.fault,
        subject="With a file",
        description="See the file",
        team=world.team,
        files=[SimpleUploadedFile(name, content, content_type="text/html")],
    )
    return ticket, Attachment.objects.get(message__ticket=ticket)


def url(ticket_number, attachment):
    return reverse(
        "portal:attachment-download", kwargs={"number": ticket_number, "pk": attachment.pk}
    )


def body(response):
    return b"".join(response.streaming_content)


# ---------------------------------------------------------------------------------------------


def test_download_is_an_attachment_with_safe_headers(client, world):
    ticket, attachment = ticket_with_file(world, world.site)
    client.force_login(world.customer)
    response = client.get(url(ticket.number, attachment))
    assert response.status_code == 200
    assert body(response) == b"%PDF-1.4 test"
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=utf-8''Pr%C3%BCfbericht%20M%C3%A4rz%20%E2%82%AC.pdf" in disposition
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    assert "private" in response["Cache-Control"]
    # Whatever the uploader claimed (text/html here), it is never served as a page.
    assert response["Content-Type"] == "application/octet-stream"


def test_reader_may_download_from_a_readable_ticket(client, world):
    ticket, attachment = ticket_with_file(world, world.branch)
    client.force_login(world.customer)
    assert client.get(url(ticket.number, attachment)).status_code == 200


def test_foreign_ticket_attachment_is_404(client, world):
    ticket, attachment = ticket_with_file(world, world.foreign)
    client.force_login(world.customer)
    assert client.get(url(ticket.number, attachment)).status_code == 404


def test_attachment_through_another_visible_ticket_is_404(client, world):
    ticket, attachment = ticket_with_file(world, world.site)
    other, _ = ticket_with_file(world, world.site, name="other.txt")
    foreign, foreign_attachment = ticket_with_file(world, world.foreign, name="foreign.txt")
    client.force_login(world.customer)
    assert client.get(url(other.number, attachment)).status_code == 404
    # A foreign attachment is not reachable through a visible ticket either.
    assert client.get(url(ticket.number, foreign_attachment)).status_code == 404


def test_internal_note_attachment_is_404(client, world):
    ticket, _ = ticket_with_file(world, world.site)
    note = services.ticket_add_internal_note(
        actor=world.agent,
        ticket=ticket,
        body="internal",
        files=[SimpleUploadedFile("internal.txt", b"secret")],
    )
    hidden = note.attachments.get()
    client.force_login(world.customer)
    assert client.get(url(ticket.number, hidden)).status_code == 404
    assert (
        "internal.txt"
        not in client.get(reverse("portal:ticket-detail", args=[ticket.number])).content.decode()
    )


def test_missing_file_on_disk_is_404(client, world):
    ticket, attachment = ticket_with_file(world, world.site)
    Path(attachment.file.path).unlink()
    client.force_login(world.customer)
    assert client.get(url(ticket.number, attachment)).status_code == 404


def test_unknown_attachment_or_ticket_is_404(client, world):
    ticket, attachment = ticket_with_file(world, world.site)
    client.force_login(world.customer)
    missing = reverse("portal:attachment-download", kwargs={"number": ticket.number, "pk": 99999})
    assert client.get(missing).status_code == 404
    assert client.get(url(999999, attachment)).status_code == 404


def test_anonymous_and_internal_users_are_sent_away(client, world):
    ticket, attachment = ticket_with_file(world, world.site)
    response = client.get(url(ticket.number, attachment))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    client.force_login(world.agent)
    assert client.get(url(ticket.number, attachment))["Location"] == reverse("home")


def test_download_refuses_post(client, world):
    ticket, attachment = ticket_with_file(world, world.site)
    client.force_login(world.customer)
    assert client.post(url(ticket.number, attachment)).status_code == 405
