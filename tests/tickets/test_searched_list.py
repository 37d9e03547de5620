"""A customer's searched ticket list read with its counts in one statement (tickets.paging,
`SearchedList`, PostgreSQL): the same rows, pages and capped counts as the plain search, in
both of its forms (matches collected once, or the tickets walked), never a row outside the
user's scope and never the text of an internal note.

The list page's tests at the end run on SQLite (substring search) and PostgreSQL alike."""

import datetime

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from access import policy
from tests.factories import (
    AddressFactory,
    ExternalUserFactory,
    MessageFactory,
    TicketFactory,
    TicketStatusFactory,
    UserFactory,
)
from tickets import paging
from tickets import search as ticket_search
from tickets.forms import SORTS, capped_counts
from tickets.models import Message, Ticket
from tickets.paging import SearchedList, searched_list
from tickets.search import search_tickets

pytestmark = pytest.mark.django_db

URL = reverse("portal:ticket-list")
STATES = {"open": Ticket.objects.open, "closed": Ticket.objects.closed, "all": None}


@pytest.fixture
def customer_world():
    """A customer reading three addresses with 60 tickets between them: every third says
    "pump" in its subject, every fourth in a reply, every fifth only in an internal note;
    "valve" is in every subject. Some share an `updated_at` (the id decides), a fifth are
    closed. A foreign address has newer "pump" tickets."""
    sites = AddressFactory.create_batch(3)
    foreign = AddressFactory()
    done = TicketStatusFactory(name="Done (searched list)", is_closed=True)
    customer = ExternalUserFactory(
        roles=["Portal user"], address=sites[0], read=sites[1:], write=[sites[0]]
    )
    start = timezone.now() - datetime.timedelta(days=100)
    for index in range(60):
        subject = f"Valve {'pump ' if index % 3 == 0 else ''}case {index:02d}"
        ticket = TicketFactory(address=sites[index % 3], subject=subject)
        if index % 4 == 0:
            MessageFactory(ticket=ticket, body="The pump hums.", kind=Message.Kind.REPLY)
        if index % 5 == 0:
            MessageFactory(ticket=ticket, body="pump secret", kind=Message.Kind.INTERNAL_NOTE)
        moment = start + datetime.timedelta(hours=(index * 7) % 40)  # repeats: ties
        fields = {"updated_at": moment}
        if index % 5 == 1:
            fields.update(status=done, closed_at=moment)
        Ticket.objects.filter(pk=ticket.pk).update(**fields)
    for index in range(10):
        ticket = TicketFactory(address=foreign, subject=f"Valve pump foreign {index}")
        Ticket.objects.filter(pk=ticket.pk).update(updated_at=timezone.now())
    return customer, sites, foreign


def with_state(queryset, state):
    return {"open": queryset.open, "closed": queryset.closed}.get(state, queryset.all)()


def listed(customer, sort, state):
    """The list's queryset without the text search, as the view builds it."""
    filtered = Ticket.objects.visible_to(customer)
    queryset = with_state(filtered, state)
    return queryset.select_related("status", "type", "address").order_by(*SORTS[sort]), filtered


def plain_counts(customer, filtered, text):
    found = search_tickets(filtered, customer, text)
    return capped_counts({"open": found.open(), "closed": found.closed()})


def alone(customer, sort, state):
    """The documents-alone form's `alone` for `sort`, or None where it cannot serve it."""
    direction = paging.DOCUMENT_ORDERS.get(SORTS[sort])
    scope = sorted(policy.ticket_address_scope(customer))
    return None if direction is None else (state, direction, scope)


FORMS = [  # (form, sort): the documents alone serve the recency orders only
    *((form, sort) for form in ("collected", "walked") for sort in SORTS),
    ("alone", "-updated_at"),
    ("alone", "updated_at"),
]


@pytest.mark.postgres_only
@pytest.mark.parametrize(("form", "sort"), FORMS)
def test_every_page_and_count_equals_the_plain_search(customer_world, settings, form, sort):
    customer, _sites, _foreign = customer_world
    searches = [
        (1000, "pump"), (1000, "valve -pump"), (1000, "nothing-here"), (5, "valve"),
        (1000, "-pump"), (1000, '"pump hums" or secret'),
    ]  # fmt: skip
    for cap, text in searches:  # cap 5: the counts stop at "more than 5"
        settings.LIST_COUNT_CAP = cap
        for state in STATES:
            queryset, filtered = listed(customer, sort, state)
            plain = search_tickets(queryset, customer, text)
            for page in (slice(0, 10), slice(20, 30)):
                searched = SearchedList(
                    queryset, counted=filtered, user=customer, text=text,
                    walk=form == "walked", prefetch=page,
                    alone=alone(customer, sort, state) if form == "alone" else None,
                )  # fmt: skip
                expected = [t.pk for t in plain[page]]
                assert [t.pk for t in searched[page]] == expected, (text, state, page)
                assert searched.state_counts == plain_counts(customer, filtered, text)
                # A slice other than the one read with the counts (the paginator's last page,
                # past the end) is read on its own, and a shorter one is cut.
                other = slice(page.start + 5, page.stop + 5)
                assert [t.pk for t in searched[other]] == [t.pk for t in plain[other]]
                shorter = slice(page.start, page.start + 3)
                assert [t.pk for t in searched[shorter]] == expected[:3]


@pytest.mark.postgres_only
@pytest.mark.parametrize("form", ["collected", "walked", "alone"])
def test_internal_notes_and_foreign_tickets_are_never_found(customer_world, form):
    """Only internal notes say "secret"; tickets at a foreign address say "foreign"."""
    customer, _sites, _foreign = customer_world
    queryset, filtered = listed(customer, "-updated_at", "all")
    for text, expected in (("secret", 0), ("pump", 30), ("foreign", 0)):
        searched = SearchedList(
            queryset, counted=filtered, user=customer, text=text, walk=form == "walked",
            prefetch=slice(0, 100),
            alone=alone(customer, "-updated_at", "all") if form == "alone" else None,
        )  # fmt: skip
        assert len(searched[0:100]) == expected, text
        counts = searched.state_counts
        assert counts["open"] + counts["closed"] == expected


@pytest.mark.postgres_only
@pytest.mark.parametrize("form", ["collected", "walked", "alone"])
def test_a_stale_document_never_brings_a_foreign_row(customer_world, form):
    """The foreign tickets' documents are made to claim the customer's address (a stale
    document, which the triggers never leave): the rows are still read through the scope. The
    documents-alone form counts what the documents say (its counts trust the triggers, which
    move a document with its ticket in the same transaction: tests/tickets/test_search.py)."""
    customer, sites, foreign = customer_world
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE desk_search_document SET address_id = %s WHERE address_id = %s",
            [sites[0].pk, foreign.pk],
        )
    queryset, filtered = listed(customer, "-updated_at", "all")
    searched = SearchedList(
        queryset, counted=filtered, user=customer, text="foreign", walk=form == "walked",
        prefetch=slice(0, 100),
        alone=alone(customer, "-updated_at", "all") if form == "alone" else None,
    )  # fmt: skip
    assert searched[0:100] == []
    counts = searched.state_counts
    assert counts["open"] + counts["closed"] == (10 if form == "alone" else 0)


@pytest.mark.postgres_only
def test_the_estimate_chooses_the_form(customer_world, monkeypatch, settings):
    """Collected for a word most tickets lack, walked for one most hold (`WALK_FACTOR`)."""
    customer, sites, _foreign = customer_world
    queryset, filtered = listed(customer, "-updated_at", "all")
    matches, documents = ticket_search.estimated_customer_matches(
        "pump", [site.pk for site in sites], connection.alias
    )
    assert 0 <= matches <= documents and documents > 0
    settings.LIST_COUNT_CAP = 5
    for estimate, walk in (((1, 60), False), ((55, 60), True)):
        monkeypatch.setattr(
            paging.search, "estimated_customer_matches", lambda *args, e=estimate: e
        )
        searched = searched_list(queryset, counted=filtered, user=customer, text="pump")
        assert searched.walk is walk
        assert searched.alone is None  # not said to be unfiltered
        kwargs = {"counted": filtered, "user": customer, "text": "pump", "unfiltered": "all"}
        searched = searched_list(queryset, **kwargs)
        # Collected matches of an unfiltered list in recency order: the documents alone.
        assert searched.alone == (None if walk else alone(customer, "-updated_at", "all"))
        by_subject, _filtered = listed(customer, "subject", "all")
        assert searched_list(by_subject, **kwargs).alone is None
    # Read from the documents alone, a match costs less: the walk starts later
    # (ALONE_WALK_FACTOR). 30 of 60 matching, cap 5: 900 >= 2 * 6 * 60, but < 4 * 6 * 60.
    monkeypatch.setattr(paging.search, "estimated_customer_matches", lambda *args: (30, 60))
    assert searched_list(queryset, counted=filtered, user=customer, text="pump").walk
    searched = searched_list(
        queryset, counted=filtered, user=customer, text="pump", unfiltered="all"
    )
    assert not searched.walk and searched.alone == alone(customer, "-updated_at", "all")


@pytest.mark.postgres_only
def test_the_list_reads_the_documents_alone_only_without_filters(
    client, customer_world, monkeypatch
):
    """The page tells `searched_list` whether anything but open/closed narrows it: a status, a
    type, an address, a machine or "created by me" makes it join the tickets again."""
    customer, sites, _foreign = customer_world
    monkeypatch.setattr(paging.search, "estimated_customer_matches", lambda *args: (1, 60))
    seen = []
    original = SearchedList.__init__

    def spy(self, *args, **kwargs):
        original(self, *args, **kwargs)
        seen.append(self.alone)

    monkeypatch.setattr(SearchedList, "__init__", spy)
    client.force_login(customer)
    client.get(URL, {"q": "pump", "state": "closed"})
    client.get(URL, {"q": "pump", "state": "all", "address": sites[1].pk})
    client.get(URL, {"q": "pump", "mine": "on"})
    assert seen[0] == ("closed", "DESC", sorted(site.pk for site in sites))
    assert seen[1:] == [None, None]


def test_used_only_for_a_customer_searching_words_on_postgresql(customer_world):
    customer, _sites, _foreign = customer_world
    queryset, filtered = listed(customer, "-updated_at", "all")
    staff = UserFactory(roles=["Support agent"])
    postgres = connection.vendor == "postgresql"

    def used(user, text):
        kwargs = {"counted": filtered, "user": user, "text": text}
        return searched_list(queryset, **kwargs) is not None

    assert used(customer, "pump") is postgres
    assert not used(customer, "  ")
    assert not used(customer, "#12345")  # a ticket number: the plain search
    assert not used(staff, "pump")


# ---------------------------------------------------------------------------------------------
# The list page (SQLite and PostgreSQL).


def numbers(response):
    return [ticket.number for ticket in response.context["tickets"]]


@pytest.mark.parametrize("sort", ["-updated_at", "subject", "-status"])
@pytest.mark.parametrize("state", list(STATES))
def test_the_searched_list_pages_through_every_match_once(client, customer_world, state, sort):
    customer, _sites, _foreign = customer_world
    client.force_login(customer)
    queryset, _filtered = listed(customer, sort, state)
    expected = [t.number for t in search_tickets(queryset, customer, "pump")]
    assert expected
    seen = []
    for page in (1, 2, 3):
        response = client.get(URL, {"q": "pump", "state": state, "sort": sort, "page": page})
        if response.context["page_obj"].number != page:
            break  # past the last page the list shows the last one again
        seen += numbers(response)
    assert seen == expected
    counts = response.context["state_counts"]
    assert counts == {
        name: len(search_tickets(with_state(_filtered, name), customer, "pump"))
        for name in ("open", "closed")
    }


def test_a_page_past_the_end_or_not_a_number_shows_the_nearest(client, customer_world):
    customer, _sites, _foreign = customer_world
    client.force_login(customer)
    everything = client.get(URL, {"q": "pump", "state": "all"}).context["paginator"]
    last = client.get(URL, {"q": "pump", "state": "all", "page": 99})
    assert last.context["page_obj"].number == everything.num_pages
    assert numbers(last) == numbers(
        client.get(URL, {"q": "pump", "state": "all", "page": everything.num_pages})
    )
    far = client.get(URL, {"q": "pump", "state": "all", "page": "9" * 30})
    assert numbers(far) == numbers(last)
    first = client.get(URL, {"q": "pump", "state": "all", "page": "x"})
    assert first.context["page_obj"].number == 1


def test_a_capped_search_says_more_than(client, customer_world, settings):
    settings.LIST_COUNT_CAP = 5
    customer, _sites, _foreign = customer_world
    client.force_login(customer)
    response = client.get(URL, {"q": "valve", "state": "all"})
    text = " ".join(response.content.decode().split())
    assert "more than 5 open" in text and "more than 5 closed" in text  # 48 and 12
    assert "more than 25 tickets" in text  # the list counts as far as its page needs
    assert len(response.context["tickets"]) == 25
    closed = client.get(URL, {"q": "valve", "state": "closed"})
    text = " ".join(closed.content.decode().split())
    assert "12 tickets" in text and len(closed.context["tickets"]) == 12


@pytest.mark.postgres_only
def test_a_searched_page_runs_a_bounded_number_of_queries(
    client, customer_world, django_assert_max_num_queries
):
    """Counts and the page's ids in one statement, then the rows: session, user, grants, the
    statement, the rows, and the filter form's statuses, types and addresses (issue 5)."""
    customer, _sites, _foreign = customer_world
    client.force_login(customer)
    client.get(URL, {"q": "pump", "state": "all"})  # warm up (and the planner's estimate)
    with django_assert_max_num_queries(8):
        response = client.get(URL, {"q": "pump", "state": "all", "page": 2})
    assert numbers(response)
