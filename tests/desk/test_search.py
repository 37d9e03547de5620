"""Desk search on SQLite (substring fallback) and PostgreSQL (full-text search with GIN
indexes): the same cases must pass on both."""

import pytest
from django.db import connection
from django.urls import reverse

from desk import search as desk_search
from desk.search import search_tickets
from tests.factories import AddressFactory, MachineFactory
from tickets import services
from tickets.models import Message, Ticket

pytestmark = pytest.mark.django_db

QUEUE = reverse("desk:queue")


@pytest.fixture
def corpus(world, file_ticket):
    """Tickets that each match one kind of search, and a decoy that matches none."""
    lathe = MachineFactory(address=world.other, number="AB-7730", name="Lathe")
    t = {
        "subject": file_ticket("Hydraulic pressure drops overnight"),
        "reply": file_ticket("Question one"),
        "note": file_ticket("Question two"),
        "address": file_ticket("Question three", address=world.other),
        "machine": file_ticket("Question four", address=world.other, machine=lathe),
        "decoy": file_ticket("Unrelated matter", description="Nothing to see"),
    }
    services.ticket_reply(actor=world.agent, ticket=t["reply"], body="Please replace the gasket.")
    services.ticket_add_internal_note(
        actor=world.agent, ticket=t["note"], body="Customer owes invoices; escalate carefully."
    )
    return t


def found(client, q, queue="all"):
    response = client.get(QUEUE, {"queue": queue, "q": q})
    assert response.status_code == 200
    return {ticket.number for ticket in response.context["tickets"]}


@pytest.mark.parametrize(
    "query,key",
    [
        ("Hydraulic", "subject"),
        ("pressure", "subject"),
        ("gasket", "reply"),
        ("escalate", "note"),  # internal notes: staff search them too
        ("Alpenblick", "address"),
        ("20077", "address"),
        ("AB-7730", "machine"),
    ],
)
def test_search_finds_each_kind(client, world, corpus, query, key):
    client.force_login(world.agent)
    result = found(client, query)
    assert corpus[key].number in result
    assert corpus["decoy"].number not in result
    if key == "address":
        assert result == {corpus["address"].number, corpus["machine"].number}
    elif key != "machine":
        assert result == {corpus[key].number}


def test_search_is_case_insensitive(client, world, corpus):
    client.force_login(world.agent)
    assert found(client, "HYDRAULIC") == {corpus["subject"].number}
    assert found(client, "ab-7730") == {corpus["machine"].number}


@pytest.mark.parametrize("form", ["{n}", "#{n}", " {n} "])
def test_search_by_ticket_number_is_exact(client, world, corpus, form):
    client.force_login(world.agent)
    number = corpus["decoy"].number
    assert found(client, form.format(n=number)) == {number}
    # A number that is a prefix of a ticket number finds nothing by number.
    assert corpus["decoy"].number not in found(client, str(number)[:-1])


def test_search_combines_with_the_queue_and_filters(client, world, corpus):
    services.ticket_take(actor=world.agent, ticket=corpus["reply"])
    client.force_login(world.agent)
    assert found(client, "gasket", queue="mine") == {corpus["reply"].number}
    assert found(client, "gasket", queue="closed") == set()
    response = client.get(QUEUE, {"queue": "all", "q": "Question", "address": world.other.pk})
    assert {t.number for t in response.context["tickets"]} == {
        corpus["address"].number,
        corpus["machine"].number,
    }


def test_search_with_no_match_shows_an_empty_queue(client, world, corpus):
    client.force_login(world.agent)
    response = client.get(QUEUE, {"queue": "all", "q": "zeppelin"})
    assert list(response.context["tickets"]) == []
    assert "No tickets in this queue match these filters." in response.content.decode()


@pytest.mark.parametrize("q", ["-", "&", "!", "'", "or", '"', "a:*", "()|", "%", "_", "\\"])
def test_odd_search_input_never_fails(client, world, corpus, q):
    client.force_login(world.agent)
    assert client.get(QUEUE, {"queue": "all", "q": q}).status_code == 200


def test_search_helper_answers_for_the_user(world, corpus):
    """The helper is a queryset filter over the caller's scope; messages are matched through
    `policy.messages_visible`, so a user who may not see a note's ticket never finds it."""
    scope = Ticket.objects.visible_to(world.customer)
    assert not search_tickets(scope, world.customer, "escalate").exists()
    staff = Ticket.objects.visible_to(world.agent)
    assert list(search_tickets(staff, world.agent, "escalate")) == [corpus["note"]]


# ---------------------------------------------------------------------------------------------
# PostgreSQL: the documents and the full-text indexes exist and serve the search.

INDEXES = {
    "desk_search_public_idx": "desk_search_document",
    "desk_search_internal_idx": "desk_search_document",
    "desk_address_fts": "addresses_address",
    "desk_machine_number_fts": "addresses_machine",
}


def plan(queryset):
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        sql, params = queryset.query.sql_with_params()
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.postgres_only
def test_gin_indexes_exist():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, tablename, indexdef FROM pg_indexes WHERE indexname = ANY(%s)",
            [list(INDEXES)],
        )
        rows = {name: (table, definition) for name, table, definition in cursor.fetchall()}
    assert set(rows) == set(INDEXES)
    for name, (table, definition) in rows.items():
        assert table == INDEXES[name]
        assert "USING gin" in definition


@pytest.mark.postgres_only
def test_search_uses_the_gin_indexes(world, corpus):
    AddressFactory.create_batch(5)
    queryset = search_tickets(Ticket.objects.visible_to(world.agent), world.agent, "gasket")
    text = plan(queryset)
    for name in INDEXES:
        assert name in text, text
    assert list(queryset) == [corpus["reply"]]


@pytest.mark.postgres_only
def test_search_in_a_small_queue_finds_the_same_tickets(world, corpus):
    """The per-ticket form (`few=True`, "My tickets") reads each ticket's own document instead
    of scanning the index; it finds the same tickets."""
    scope = Ticket.objects.visible_to(world.agent)
    for query in ("gasket", "escalate", "Alpenblick", "AB-7730", "pressure", "Question -four"):
        assert set(search_tickets(scope, world.agent, query, few=True)) == set(
            search_tickets(scope, world.agent, query)
        ), query


@pytest.mark.postgres_only
@pytest.mark.parametrize("walk_factor", [0, 10**9], ids=["walk", "index"])
def test_both_plans_of_a_large_queue_find_the_same_tickets(world, corpus, monkeypatch, walk_factor):
    """A large queue is walked (many estimated matches) or served by one index scan (few): the
    same tickets either way, and the same as ticket by ticket."""
    monkeypatch.setattr(desk_search, "WALK_FACTOR", walk_factor)
    scope = Ticket.objects.visible_to(world.agent)
    for query in ("gasket", "escalate", "Alpenblick", "AB-7730", "Question -four", "zeppelin"):
        assert set(search_tickets(scope, world.agent, query)) == set(
            search_tickets(scope, world.agent, query, few=True)
        ), query
    number = corpus["decoy"].number
    assert list(search_tickets(scope, world.agent, f"#{number}")) == [corpus["decoy"]]


@pytest.mark.postgres_only
def test_postgres_search_understands_phrases_and_exclusions(client, world, corpus):
    client.force_login(world.agent)
    assert found(client, '"pressure drops"') == {corpus["subject"].number}
    assert found(client, '"drops pressure"') == set()
    assert found(client, "Question -four") >= {corpus["reply"].number}
    assert corpus["machine"].number not in found(client, "Question -four")
    assert Message.objects.count() >= 8


@pytest.mark.postgres_only
def test_postgres_search_finds_words_anywhere_in_the_conversation(client, world, corpus):
    """Whole words, each anywhere in the subject or the messages."""
    client.force_login(world.agent)
    assert found(client, "gasket one") == {corpus["reply"].number}  # a reply and the subject
    assert found(client, "hydraul") == set()  # whole words only
