"""The benchmark harness (bench/bench.py) files tickets the way the browser does: it reads the
real ticket form, fills it with values the page offers and posts it as multipart/form-data with
the empty part of the attachments input. Django must read that body as the form."""

import importlib.util
from pathlib import Path

import pytest
from django.urls import reverse

from tests.factories import AddressFactory, ExternalUserFactory, TeamFactory, TicketTypeFactory
from tickets.models import Attachment, Ticket

pytestmark = pytest.mark.django_db

_spec = importlib.util.spec_from_file_location(
    "bench_harness", Path(__file__).resolve().parent.parent / "bench" / "bench.py"
)
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)

URL = reverse("portal:ticket-create")


def test_the_harness_posts_the_ticket_form_as_the_browser_does(client):
    site = AddressFactory(name="Site Works")
    customer = ExternalUserFactory(
        roles=["Portal user"],
        address=site,
        write=[site],
        types=[TicketTypeFactory(name="Fault")],
        teams=[TeamFactory(name="Support")],
    )
    client.force_login(customer)
    page = client.get(URL).content.decode()
    form = bench.ticket_form(page)
    assert form["multipart"] and form["files"] == ["files"]
    data = bench.ticket_form_data(page, 7)
    body, content_type = bench.multipart_body(data, form["files"])
    assert content_type.startswith("multipart/form-data; boundary=")
    assert b'name="files"; filename=""' in body

    response = client.post(URL, data=body, content_type=content_type)
    assert response.status_code == 302
    ticket = Ticket.objects.get()
    assert ticket.subject == f"{bench.POST_SUBJECT} 7"
    assert ticket.address == site
    assert ticket.messages.get().body.startswith("Benchmark ticket: the hydraulic press")
    assert not Attachment.objects.exists()  # the empty file part is no file


def test_the_yardstick_times_python_and_a_database_round_trip():
    speed = bench.yardstick()
    assert speed["python_loop_ms"] > 0
    assert speed["select_1_ms"] > 0
