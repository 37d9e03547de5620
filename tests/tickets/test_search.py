"""Ticket search (tickets.search) as the portal uses it: what matches, for whom, and, on
PostgreSQL, how the search documents follow every write and serve the search from their index.

The first part runs on SQLite (substring search) and PostgreSQL (full-text search) alike."""

import threading
from types import SimpleNamespace

import pytest
from django.db import connection, transaction
from django.urls import reverse

from access import policy
from tests.factories import (
    AddressFactory,
    ExternalUserFactory,
    MessageFactory,
    TeamFactory,
    TicketFactory,
    TicketStatusFactory,
    TicketTypeFactory,
    UserFactory,
)
from tickets import search as ticket_search
from tickets import services
from tickets.models import Message, Ticket
from tickets.search import search_tickets

pytestmark = pytest.mark.django_db

LIST_URL = reverse("portal:ticket-list")


@pytest.fixture
def world():
    """The customer may write at `site` and read at `branch`; `foreign` is someone else's."""
    site = AddressFactory(name="Site Works")
    branch = AddressFactory(name="Branch Office")
    foreign = AddressFactory(name="Foreign Corp")
    team = TeamFactory(name="Support")
    fault = TicketTypeFactory(name="Fault")
    agent = UserFactory(roles=["Support agent"], first_name="Agnes", last_name="Agent")
    customer = ExternalUserFactory(
        roles=["Portal user"], address=site, write=[site], read=[branch], teams=[team]
    )
    return SimpleNamespace(
        site=site, branch=branch, foreign=foreign, team=team, fault=fault, agent=agent,
        customer=customer,
    )  # fmt: skip


def file_ticket(world, *, subject="Press stops", description="It stops.", address=None):
    return services.ticket_create(
        actor=world.agent,
        address=address or world.site,
        ticket_type=world.fault,
        subject=subject,
        description=description,
        team=world.team,
    )


def found(client, q):
    response = client.get(LIST_URL, {"q": q, "state": "all"})
    assert response.status_code == 200
    return {ticket.number for ticket in response.context["tickets"]}


@pytest.mark.parametrize("kind", Message.Kind.values)
def test_a_message_is_searched_exactly_when_the_customer_may_read_it(client, world, kind):
    """The search reads what `policy.can_see_message` shows, kind by kind: never an internal
    note for a customer; staff search every message."""
    ticket = file_ticket(world, subject="Ordinary")
    message = MessageFactory(ticket=ticket, author=world.agent, kind=kind, body="a quokka here")
    client.force_login(world.customer)
    readable = bool(policy.can_see_message(world.customer, message))
    assert readable == (kind != Message.Kind.INTERNAL_NOTE)
    assert found(client, "quokka") == ({ticket.number} if readable else set())
    staff = Ticket.objects.visible_to(world.agent)
    assert list(search_tickets(staff, world.agent, "quokka")) == [ticket]


def test_search_stays_inside_the_scope(client, world):
    mine = file_ticket(world, subject="Walrus at the site")
    at_branch = file_ticket(world, subject="Walrus at the branch", address=world.branch)
    file_ticket(world, subject="Walrus abroad", address=world.foreign)
    client.force_login(world.customer)
    assert found(client, "walrus") == {mine.number, at_branch.number}
    world.branch.is_active = False
    world.branch.save()
    assert found(client, "walrus") == {mine.number}


def test_search_without_the_tickets_right_finds_nothing(world):
    file_ticket(world, subject="Walrus")
    nobody = ExternalUserFactory(address=world.site, write=[world.site])
    assert not search_tickets(Ticket.objects.visible_to(nobody), nobody, "walrus").exists()


def test_number_words_and_the_conversation(client, world):
    by_subject = file_ticket(world, subject="Hydraulic leak at press 4")
    by_reply = file_ticket(world, subject="Noise", description="The conveyor belt squeaks")
    services.ticket_reply(actor=world.agent, ticket=by_reply, body="Send a photo of the gear")
    other = file_ticket(world, subject="Unrelated")
    client.force_login(world.customer)
    assert found(client, "hydraulic") == {by_subject.number}
    assert found(client, "HYDRAULIC LEAK") == {by_subject.number}
    assert found(client, "conveyor belt") == {by_reply.number}
    assert found(client, "photo of the gear") == {by_reply.number}
    assert found(client, str(other.number)) == {other.number}
    assert found(client, f"#{other.number}") == {other.number}
    assert found(client, "zeppelin") == set()


@pytest.mark.parametrize(
    "q", ["-", "&", "!", "'", "or", '"', "a:*", "()|", "%", "_", "\\", "x" * 500]
)
def test_odd_search_input_never_fails(client, world, q):
    file_ticket(world)
    client.force_login(world.customer)
    assert client.get(LIST_URL, {"q": q, "state": "all"}).status_code == 200


# ---------------------------------------------------------------------------------------------
# PostgreSQL: full-text search over one document per ticket.


@pytest.mark.postgres_only
def test_postgres_matches_whole_words_anywhere_in_the_conversation(client, world):
    ticket = file_ticket(world, subject="Hydraulic pump", description="It leaks oil.")
    services.ticket_reply(actor=world.agent, ticket=ticket, body="Please send a photo.")
    client.force_login(world.customer)
    assert found(client, "hydraulic photo") == {ticket.number}  # subject and a reply
    assert found(client, "pump -oil") == set()
    assert found(client, '"leaks oil"') == {ticket.number}
    assert found(client, '"oil leaks"') == set()
    assert found(client, "hydr") == set()  # whole words, not substrings


def plan(queryset, *settings):
    with connection.cursor() as cursor:
        for setting in ("enable_seqscan", *settings):
            cursor.execute(f"SET LOCAL {setting} = off")
        sql, params = queryset.query.sql_with_params()
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.postgres_only
def test_postgres_customer_search_is_one_index_scan_keyed_by_the_addresses(world):
    """Where the planner collects the matches (a customer with a long history; in this small
    database only when the walks and index walks are off), it is one scan of the documents'
    index keyed by the customer's addresses and the words."""
    file_ticket(world, subject="Walrus")
    scope = Ticket.objects.visible_to(world.customer)
    queryset = search_tickets(scope, world.customer, "walrus")
    text = plan(queryset, "enable_nestloop", "enable_mergejoin", "enable_indexscan")
    assert "Bitmap Index Scan on desk_search_public_idx" in text, text
    assert "(ARRAY[address_id] && " in text, text


# Texts whose keyed query (desk/migrations/0006) differs from the query: phrases loosened,
# negations dropped, nothing indexable left, quotes, backslashes and colons in words.
KEYED_TEXTS = [
    "walrus", "walrus pump", "walrus or gasket", "walrus -pump", '"walrus pump"',
    '"pump walrus"', "-pump", "-walrus -pump", "walrus or -pump", "it's", "o'brien",
    "back\\slash", "1:walrus", "grüße", "12345", "nothing-here", "!!", "walrus (pump",
]  # fmt: skip


def keyed_documents(text, addresses):
    sql, params = ticket_search.customer_documents(text, [address.pk for address in addresses])
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {row[0] for row in cursor.fetchall()}


def query_documents(text, addresses):
    """The documents at `addresses` that the query itself matches, by no index of ours."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT ticket_id FROM desk_search_document WHERE address_id = ANY (%s) "
            "AND public_document @@ websearch_to_tsquery('simple', %s)",
            [[address.pk for address in addresses], text],
        )
        return {row[0] for row in cursor.fetchall()}


@pytest.mark.postgres_only
def test_postgres_the_keyed_index_finds_exactly_what_the_query_matches(world):
    """A customer's search reads the index keyed by address and word; whatever the keyed
    query loosens, the documents found are those the query matches at those addresses."""
    subjects = [
        ("Walrus pump", world.site), ("Pump walrus", world.branch), ("Walrus gasket", world.site),
        ("Walrus pump", world.foreign), ("It's O'Brien", world.site), ("Back\\slash", world.branch),
        ("1:walrus", world.site), ("Grüße 12345", world.site), ("Nothing-here", world.branch),
        ("Gasket only", world.site),
    ]  # fmt: skip
    for subject, address in subjects:
        file_ticket(world, subject=subject, address=address)
    for addresses in ([world.site, world.branch], [world.site], [world.foreign]):
        for text in KEYED_TEXTS:
            expected = query_documents(text, addresses)
            assert keyed_documents(text, addresses) == expected, (text, addresses)
    # Not vacuous: words, phrases and negations each find some and leave some.
    both = [world.site, world.branch]
    assert len(keyed_documents("walrus", both)) == 4
    assert len(keyed_documents('"walrus pump"', both)) == 1
    assert len(keyed_documents("-walrus", both)) == 5


@pytest.mark.postgres_only
def test_postgres_the_keyed_query_asks_for_each_address_s_own_words():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT desk_search_keyed_query(ARRAY[7, 12], "
            "websearch_to_tsquery('simple', %s))::text",
            ['walrus -pump "oil leak"'],
        )
        assert cursor.fetchone()[0] == (
            "'7:walrus' & '7:oil' & '7:leak' | '12:walrus' & '12:oil' & '12:leak'"
        )
        cursor.execute(
            "SELECT desk_search_keyed_query(ARRAY[7], websearch_to_tsquery('simple', '-pump'))"
        )
        assert cursor.fetchone()[0] is None  # nothing indexable: the unkeyed index serves it


@pytest.mark.postgres_only
def test_postgres_a_word_too_long_to_key_is_filed_and_the_rest_found(world):
    """A word of 2,046 letters is indexed as it is (the parser keeps words up to 2,046 bytes) but
    keyed it would be too long: it is left out of the keyed index, and filing never fails."""
    ticket = file_ticket(world, subject="Walrus report", description="x" * 2046)
    assert keyed_documents("walrus", [world.site]) == {ticket.pk}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT public_document::text LIKE %s FROM desk_search_document WHERE ticket_id = %s",
            ["%" + "x" * 2046 + "%", ticket.pk],
        )
        assert cursor.fetchone()[0] is True


@pytest.mark.postgres_only
def test_postgres_customer_search_reads_the_index_keyed_by_address_and_word(world):
    file_ticket(world, subject="Walrus")
    addresses = [world.site.pk, world.branch.pk]
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        for text, index in (
            ("walrus", "desk_search_keyed_idx"),
            ("-walrus", "desk_search_public_idx"),
        ):
            sql, params = ticket_search.customer_documents(text, addresses, state=True)
            cursor.execute("EXPLAIN " + sql, params)
            text_plan = "\n".join(row[0] for row in cursor.fetchall())
            assert f"Bitmap Index Scan on {index}" in text_plan, text_plan


@pytest.mark.postgres_only
def test_postgres_a_stale_document_never_shows_a_foreign_ticket(client, world):
    """The documents narrow the search; the scope decides. Even a document claiming the
    customer's address does not bring a foreign ticket into the list."""
    foreign = file_ticket(world, subject="Walrus abroad", address=world.foreign)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE desk_search_document SET address_id = %s WHERE ticket_id = %s",
            [world.site.pk, foreign.pk],
        )
    client.force_login(world.customer)
    assert found(client, "walrus") == set()


def documents():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT ticket_id, address_id, public_document::text, internal_document::text, "
            "updated_at, open FROM desk_search_document ORDER BY ticket_id"
        )
        return cursor.fetchall()


def document_state(ticket):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT updated_at, open FROM desk_search_document WHERE ticket_id = %s", [ticket.pk]
        )
        return cursor.fetchone()


def assert_documents_are_current():
    """What the triggers kept equals what a rebuild from the tables computes."""
    kept = documents()
    with connection.cursor() as cursor:
        cursor.execute("SELECT desk_search_rebuild()")
    assert documents() == kept
    assert len(kept) == Ticket.objects.count()


@pytest.mark.postgres_only
def test_postgres_documents_follow_every_write(client, world):
    client.force_login(world.customer)
    first = file_ticket(world, subject="Gearbox", description="It rattles.")
    second = file_ticket(world, subject="Press", address=world.branch)
    assert_documents_are_current()

    reply = services.ticket_reply(actor=world.agent, ticket=first, body="Replace the walrus seal")
    note = services.ticket_add_internal_note(actor=world.agent, ticket=first, body="Bison part")
    assert found(client, "walrus") == {first.number}
    assert found(client, "bison") == set()
    assert_documents_are_current()

    # A reply turned into an internal note leaves the customer's search at once.
    Message.objects.filter(pk=reply.pk).update(kind=Message.Kind.INTERNAL_NOTE)
    assert found(client, "walrus") == set()
    Message.objects.filter(pk=note.pk).update(body="Okapi part", kind=Message.Kind.REPLY)
    assert found(client, "okapi") == {first.number}
    Message.objects.filter(pk=note.pk).update(ticket=second)
    assert found(client, "okapi") == {second.number}
    assert_documents_are_current()

    Message.objects.bulk_create(
        [Message(ticket=second, author=world.agent, kind="reply", body=f"lynx {n}") for n in (1, 2)]
    )
    Message.objects.filter(pk=note.pk).delete()
    assert found(client, "lynx") == {second.number}
    assert found(client, "okapi") == set()
    assert_documents_are_current()

    # Closed, reopened by a reply, saved without a change: `updated_at` and open/closed follow.
    done = TicketStatusFactory(name="Done (documents)", is_closed=True)
    services.ticket_set_status(actor=world.agent, ticket=first, status=done)
    assert document_state(first) == (Ticket.objects.get(pk=first.pk).updated_at, False)
    services.ticket_reply(actor=world.customer, ticket=first, body="Still rattles")
    assert document_state(first) == (Ticket.objects.get(pk=first.pk).updated_at, True)
    services.ticket_reply(actor=world.agent, ticket=second, body="On our way")  # stays open
    assert document_state(second) == (Ticket.objects.get(pk=second.pk).updated_at, True)
    Ticket.objects.filter(pk=second.pk).update(updated_at=first.created_at)
    assert document_state(second) == (first.created_at, True)
    Ticket.objects.filter(pk=second.pk).update(closed_at=first.created_at)  # closed alone
    assert document_state(second) == (first.created_at, False)
    Ticket.objects.filter(pk=second.pk).update(closed_at=None)
    assert document_state(second) == (first.created_at, True)
    Ticket.objects.filter(pk=second.pk).update(subject=second.subject)
    assert_documents_are_current()

    first.subject = "Heron"
    first.save()
    second.address = world.foreign
    second.save()
    assert found(client, "heron") == {first.number}
    assert found(client, "lynx") == set()
    assert_documents_are_current()

    TicketFactory.create_batch(3, address=world.site, subject="Ibis", responsible_team=world.team)
    assert len(found(client, "ibis")) == 3
    Ticket.objects.filter(subject="Ibis").delete()
    second.delete()
    assert_documents_are_current()

    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # TRUNCATE waits for no deferred check
        cursor.execute("TRUNCATE tickets_ticket CASCADE")
    assert documents() == []


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_postgres_concurrent_writers_of_a_ticket_never_bring_a_hidden_note_back(world):
    """One transaction turns a reply into an internal note; another adds a message to the same
    ticket before the first commits (no service lock: an admin edit, an import). The second
    refresh waits for the first and sees its note, instead of writing back a public document
    computed from before it."""
    ticket = file_ticket(world, subject="Ordinary")
    reply = services.ticket_reply(actor=world.agent, ticket=ticket, body="The okapi report")
    hidden, release = threading.Event(), threading.Event()

    def hide():
        try:
            with transaction.atomic():
                Message.objects.filter(pk=reply.pk).update(kind=Message.Kind.INTERNAL_NOTE)
                hidden.set()
                release.wait(10)
        finally:
            connection.close()

    def add():
        try:
            Message.objects.create(ticket=ticket, author=world.agent, body="Lynx seen")
        finally:
            connection.close()

    first = threading.Thread(target=hide)
    first.start()
    assert hidden.wait(10)
    second = threading.Thread(target=add)
    second.start()
    second.join(0.5)  # it waits for the first transaction
    release.set()
    first.join(10)
    second.join(10)
    staff = Ticket.objects.visible_to(world.agent)
    customers = Ticket.objects.visible_to(world.customer)
    assert list(search_tickets(staff, world.agent, "okapi")) == [ticket]
    assert not search_tickets(customers, world.customer, "okapi").exists()
    assert list(search_tickets(customers, world.customer, "lynx")) == [ticket]


@pytest.mark.postgres_only
def test_postgres_the_documents_refresh_keeps_its_plans(world):
    """Each write refreshes a document through `desk_search_refresh`; it runs with the generic
    plans it prepared once (desk/migrations/0005), not planned again for every ticket written.
    The documents it writes are the ones checked above; here only that the setting holds."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT proconfig FROM pg_proc "
            "WHERE oid = 'desk_search_refresh(bigint[])'::regprocedure"
        )
        (config,) = cursor.fetchone()
    assert config == ["plan_cache_mode=force_generic_plan"]
    ticket = file_ticket(world, subject="Heron")
    with connection.cursor() as cursor:
        cursor.execute("SHOW plan_cache_mode")  # the function's setting stays inside it
        assert cursor.fetchone() == ("auto",)
    assert document_state(ticket)[1] is True
