"""`manage.py seed_bench`: the benchmark data set has the promised shape, on SQLite (bulk_create)
and on PostgreSQL (COPY, with the indexes and foreign keys dropped and re-created)."""

from io import StringIO

import pytest
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.db.models import Count, Q

from accounts.models import Team, User
from addresses.models import Address, ContactPerson, Machine
from tickets.management.commands.seed_bench import (
    AGENT_EMAIL,
    BENCH_PASSWORD,
    CUSTOMER_EMAIL,
)
from tickets.models import (
    Message,
    Ticket,
    TicketEvent,
    TicketStatus,
    TicketType,
    awaiting_customer_condition,
)

pytestmark = pytest.mark.django_db

SIZES = {
    "tickets": 400,
    "addresses": 60,
    "external_users": 15,
    "staff": 6,
    "teams": 3,
    "messages_per_ticket": 3,
    "seed": 7,
    "until": "2026-01-15",
}


def seed(**options):
    out = StringIO()
    params = {**SIZES, **options}
    if connection.vendor == "postgresql":
        params.setdefault("indexes", "defer")  # exercise the drop / re-create path too
    call_command("seed_bench", stdout=out, **params)
    return out.getvalue()


def read_set(user):
    return set(user.read_addresses.values_list("pk", flat=True)) | set(
        user.write_addresses.values_list("pk", flat=True)
    )


def test_builds_the_population_and_the_tickets():
    output = seed()

    assert Address.objects.count() == 60
    assert Address.objects.filter(parent__isnull=False).exists()
    # Sites hang under headquarters, never under another site.
    assert not Address.objects.filter(parent__parent__isnull=False).exists()
    assert ContactPerson.objects.count() >= 60
    assert Machine.objects.exists()
    assert Team.objects.count() >= 3

    agents = User.objects.filter(is_external=False, email__endswith="@bench.example")
    assert agents.count() == 6
    support_agent = Group.objects.get(name="Support agent")
    assert all(support_agent in agent.groups.all() for agent in agents)
    assert all(agent.teams.exists() for agent in agents)

    externals = User.objects.filter(is_external=True)
    assert externals.count() == 15
    portal_roles = set(Group.objects.filter(name__in=["Portal user", "Portal editor"]))
    for user in externals:
        assert 1 <= len(read_set(user)) <= 8, user.email
        assert set(user.groups.all()) & portal_roles
        assert user.responsible_teams.exists() or user.responsible_users.exists()
        assert user.ticket_types.exists()

    # One password hash for everybody, and it is the printed password.
    bench_users = User.objects.filter(email__endswith="@bench.example")
    assert bench_users.values("password").distinct().count() == 1
    assert bench_users.get(email=CUSTOMER_EMAIL).check_password(BENCH_PASSWORD)
    assert BENCH_PASSWORD in output
    assert CUSTOMER_EMAIL in output and AGENT_EMAIL in output

    assert Ticket.objects.count() == 400
    assert Message.objects.count() == 400 * 3
    assert not Ticket.objects.filter(number__isnull=True).exists()
    assert not Ticket.objects.filter(
        responsible_team__isnull=True, responsible_user__isnull=True
    ).exists()
    numbers = list(Ticket.objects.values_list("number", flat=True))
    assert len(set(numbers)) == len(numbers)

    per_ticket = Ticket.objects.annotate(
        n_messages=Count("messages", distinct=True),
        n_descriptions=Count(
            "messages", filter=Q(messages__kind=Message.Kind.DESCRIPTION), distinct=True
        ),
        n_created=Count("events", filter=Q(events__kind=TicketEvent.Kind.CREATED), distinct=True),
        n_closed=Count("events", filter=Q(events__kind=TicketEvent.Kind.CLOSED), distinct=True),
    )
    assert set(per_ticket.values_list("n_messages", "n_descriptions", "n_created")) == {(3, 1, 1)}
    assert not per_ticket.closed().filter(n_closed=0).exists()
    assert Message.objects.filter(kind=Message.Kind.INTERNAL_NOTE).exists()

    # Skewed towards closed, and the statuses agree with closed_at.
    closed = Ticket.objects.closed().count()
    assert closed > 400 * 0.6
    assert not Ticket.objects.closed().filter(status__is_closed=False).exists()
    assert not Ticket.objects.open().filter(status__is_closed=True).exists()
    assert Ticket.objects.values("type").distinct().count() > 1
    assert Ticket.objects.values("priority").distinct().count() > 1
    # Spread over several years.
    first = Ticket.objects.order_by("created_at").first().created_at
    last = Ticket.objects.order_by("created_at").last().created_at
    assert (last - first).days > 3 * 365
    # Filing order: numbers grow with the filing date.
    by_date = list(Ticket.objects.order_by("created_at", "pk").values_list("number", flat=True))
    assert by_date == sorted(by_date)


def test_the_benchmark_customer_sees_tickets_of_several_sites():
    seed()
    customer = User.objects.get(email=CUSTOMER_EMAIL)

    sites = read_set(customer)
    visible = Ticket.objects.visible_to(customer)

    assert len(sites) == 8
    assert visible.exists()
    assert visible.values("address").distinct().count() > 1
    assert set(visible.values_list("pk", flat=True)) == set(
        Ticket.objects.filter(address__in=sites).values_list("pk", flat=True)
    )
    assert customer.write_addresses.count() == 8  # the benchmark files tickets as this user


def test_tickets_created_later_get_fresh_numbers():
    seed()
    highest = max(Ticket.objects.values_list("number", flat=True))

    ticket = Ticket.objects.create(
        subject="After the benchmark data",
        type=TicketType.objects.first(),
        address=Address.objects.first(),
        responsible_team=Team.objects.first(),
    )

    assert ticket.number > highest
    assert ticket.status == TicketStatus.objects.default()


def test_refuses_a_database_with_tickets_unless_appending():
    seed()

    with pytest.raises(CommandError, match="already has 400 tickets"):
        seed()

    seed(tickets=50, append=True)
    assert Ticket.objects.count() == 450
    assert User.objects.filter(is_external=True).count() == 15  # the population is reused
    numbers = list(Ticket.objects.values_list("number", flat=True))
    assert len(set(numbers)) == 450


def test_same_seed_same_data():
    def snapshot():
        return list(
            Ticket.objects.order_by("created_at", "pk").values_list(
                "subject",
                "address__number",
                "status__name",
                "priority",
                "created_by__email",
                "created_at",
                "closed_at",
            )
        )

    runs = []
    for _ in range(2):
        with transaction.atomic():
            seed(tickets=120)
            runs.append(snapshot())
            transaction.set_rollback(True)

    assert runs[0] == runs[1]
    assert len(runs[0]) == 120


@pytest.mark.parametrize("messages_per_ticket", [3, 4])
def test_waiting_flags_follow_the_conversations(messages_per_ticket):
    """Tickets and messages are written past `Message.save`; the seeder sets each ticket's
    `awaiting_customer` itself, and it agrees with the definition. With an even number of
    messages the agent writes last (unless it was a note), so both values occur."""
    seed(tickets=200, messages_per_ticket=messages_per_ticket)

    by_definition = dict(
        Ticket.objects.annotate(awaiting=awaiting_customer_condition()).values_list(
            "pk", "awaiting"
        )
    )
    stored = dict(Ticket.objects.values_list("pk", "awaiting_customer"))
    assert stored == by_definition
    if messages_per_ticket == 4:
        assert set(stored.values()) == {True, False}
    assert Ticket.objects.refresh_awaiting_customer() == 0


@pytest.mark.postgres_only
@pytest.mark.parametrize("indexes", ["defer", "keep"])
def test_search_documents_are_built_for_the_seeded_tickets(indexes):
    """The load runs with the search-document triggers off and rebuilds the documents once."""
    seed(indexes=indexes)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), count(*) FILTER (WHERE public_document <> ''::tsvector) "
            "FROM desk_search_document"
        )
        documents, filled = cursor.fetchone()
        cursor.execute(
            "SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal AND tgenabled = 'D' "
            "AND tgrelid IN ('tickets_ticket'::regclass, 'tickets_message'::regclass)"
        )
        disabled = cursor.fetchone()[0]
        cursor.execute(
            "SELECT indexrelid::regclass::text FROM pg_index "
            "WHERE indrelid = 'desk_search_document'::regclass"
        )
        indexes = {row[0] for row in cursor.fetchall()}
    assert documents == filled == Ticket.objects.count() == SIZES["tickets"]
    # Dropped for the rebuild when deferred, and built again over the rebuilt documents.
    assert indexes == {
        "desk_search_document_pkey", "desk_search_public_idx", "desk_search_internal_idx",
        "desk_search_keyed_idx",
    }  # fmt: skip
    assert disabled == 0  # the triggers are on again for everything written after the load
