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


def row(page, p50, status=200):
    return {
        "page": page, "status": status, "p50_ms": p50, "p95_ms": p50 and p50 + 1,
        "req_s": 100.0, "queries": 8,
    }  # fmt: skip


def test_the_summary_shows_each_page_s_growth_and_marks_the_pages_over_the_bound():
    """Issue 5's bound (p50 grows by less than 2x from the smallest size to the largest) is
    read off the summary: each page's ratio, and "over" where it is not met."""
    small = {"size": 10_000, "rows": [row("list", 10.0), row("search", 10.8), row("gone", 5.0)]}
    middle = {"size": 100_000, "rows": [row("list", 99.0), row("search", 12.0)]}
    large = {
        "size": 1_000_000,
        "rows": [row("list", 14.1), row("search", 21.8), row("gone", None, status=500)],
    }
    assert bench.growth([large, small, middle]) == {"list": 1.41, "search": 2.02}
    lines = bench.summary_lines([large, small, middle])
    assert "| page | 10,000 | 100,000 | 1,000,000 | p50 growth 10,000 → 1,000,000 |" in lines
    by_page = {line.split(" | ")[0]: line for line in lines if line.startswith("| ")}
    assert by_page["| list"].endswith("| 1.41× |")
    assert by_page["| search"].endswith("| **2.02× over** |")
    assert by_page["| gone"].endswith("| HTTP 500 | — |")  # broken at 1M: no ratio
    # One size alone has no growth to show.
    assert bench.growth([large]) == {}
    assert not any("growth" in line for line in bench.summary_lines([large]))
