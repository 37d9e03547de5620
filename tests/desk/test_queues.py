"""The queues: contents and counts of each, every filter, sort, pagination, saved filters, the
address autocomplete, hand-edited URLs, and a query count that does not grow with the rows."""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from desk.models import SavedFilter
from tests.desk.conftest import status
from tests.factories import AddressFactory, TicketFactory, UserFactory
from tickets import services
from tickets.models import Priority, Ticket

pytestmark = pytest.mark.django_db

QUEUE = reverse("desk:queue")


def listed(response):
    return [ticket.number for ticket in response.context["tickets"]]


def counts(response):
    return {queue["key"]: queue["count"] for queue in response.context["queues"]}


@pytest.fixture
def tickets(world, file_ticket):
    """One ticket in each situation, seen from the agent (team Support)."""
    t = {}
    t["mine"] = file_ticket("Mine", recipient=world.agent)
    t["team"] = file_ticket("Support team, untaken")
    t["team_taken"] = file_ticket("Support team, taken by colleague", recipient=world.colleague)
    t["other_team"] = file_ticket("Service team", team="service")
    t["closed_mine"] = file_ticket("Closed, mine", recipient=world.agent)
    services.ticket_set_status(actor=world.agent, ticket=t["closed_mine"], status=status("Closed"))
    t["closed_team"] = file_ticket("Closed, team")
    services.ticket_set_status(actor=world.agent, ticket=t["closed_team"], status=status("Solved"))
    return {key: Ticket.objects.get(pk=ticket.pk) for key, ticket in t.items()}


def numbers(tickets, *keys):
    return {tickets[key].number for key in keys}


@pytest.mark.parametrize(
    "queue,expected",
    [
        ("mine", {"mine"}),
        ("teams", {"team"}),
        ("open", {"mine", "team", "team_taken", "other_team"}),
        ("closed", {"closed_mine", "closed_team"}),
        ("all", {"mine", "team", "team_taken", "other_team", "closed_mine", "closed_team"}),
    ],
)
def test_queue_contents(client, world, tickets, queue, expected):
    client.force_login(world.agent)
    response = client.get(QUEUE, {"queue": queue})
    assert response.status_code == 200
    assert set(listed(response)) == numbers(tickets, *expected)


def test_queue_counts_in_one_aggregate(client, world, tickets):
    client.force_login(world.agent)
    response = client.get(QUEUE)
    assert counts(response) == {"mine": 1, "teams": 1, "open": 4, "closed": 2, "all": 6}
    # The counts do not depend on the current queue or filters.
    assert counts(client.get(QUEUE, {"queue": "closed", "priority": "urgent"})) == counts(response)


def test_queues_are_per_person(client, world, tickets):
    client.force_login(world.colleague)  # team Service
    response = client.get(QUEUE, {"queue": "mine"})
    assert set(listed(response)) == numbers(tickets, "team_taken")
    assert set(listed(client.get(QUEUE, {"queue": "teams"}))) == numbers(tickets, "other_team")


def test_default_queue_is_mine_and_unknown_queue_falls_back(client, world, tickets):
    client.force_login(world.agent)
    assert listed(client.get(QUEUE)) == [tickets["mine"].number]
    response = client.get(QUEUE, {"queue": "everything'; drop table"})
    assert response.status_code == 200
    assert listed(response) == [tickets["mine"].number]


def test_taking_moves_a_ticket_from_my_teams_to_mine(client, world, tickets):
    client.force_login(world.agent)
    services.ticket_take(actor=world.agent, ticket=tickets["team"])
    assert counts(client.get(QUEUE))["teams"] == 0
    assert set(listed(client.get(QUEUE))) == numbers(tickets, "mine", "team")


# ---------------------------------------------------------------------------------------------
# Filters.


def test_filter_by_status(client, world, tickets):
    services.ticket_set_status(
        actor=world.agent, ticket=tickets["team"], status=status("In progress")
    )
    client.force_login(world.agent)
    response = client.get(QUEUE, {"queue": "open", "status": status("In progress").pk})
    assert listed(response) == [tickets["team"].number]


def test_filter_by_type(client, world, tickets):
    services.ticket_change_type(
        actor=world.agent, ticket=tickets["team"], ticket_type=world.question
    )
    client.force_login(world.agent)
    response = client.get(QUEUE, {"queue": "all", "type": world.question.pk})
    assert listed(response) == [tickets["team"].number]


def test_filter_by_priority(client, world, tickets):
    services.ticket_change_priority(
        actor=world.agent, ticket=tickets["other_team"], priority=Priority.URGENT
    )
    client.force_login(world.agent)
    response = client.get(QUEUE, {"queue": "open", "priority": "urgent"})
    assert listed(response) == [tickets["other_team"].number]


def test_filter_by_address(client, world, tickets, file_ticket):
    elsewhere = file_ticket("At the other customer", address=world.other)
    client.force_login(world.agent)
    response = client.get(QUEUE, {"queue": "open", "address": world.other.pk})
    assert listed(response) == [elsewhere.number]
    # The chosen address is rendered as the only option; the rest comes from the autocomplete.
    html = response.content.decode()
    select = re.search(r'<select name="address".*?</select>', html, re.S).group(0)
    assert re.findall(r'<option value="(\d*)"', select) == ["", str(world.other.pk)]
    assert f'<option value="{world.other.pk}" selected>' in select


def test_filter_by_team(client, world, tickets):
    client.force_login(world.agent)
    response = client.get(QUEUE, {"queue": "open", "team": world.service.pk})
    assert listed(response) == [tickets["other_team"].number]


def test_filter_by_responsible_user_and_nobody(client, world, tickets):
    client.force_login(world.agent)
    response = client.get(QUEUE, {"queue": "open", "responsible": world.colleague.pk})
    assert listed(response) == [tickets["team_taken"].number]
    response = client.get(QUEUE, {"queue": "open", "responsible": "none"})
    assert set(listed(response)) == numbers(tickets, "team", "other_team")


def test_filter_by_created_date_range(client, world, tickets):
    now = timezone.localtime()
    Ticket.objects.filter(pk=tickets["team"].pk).update(
        created_at=now - datetime.timedelta(days=10)
    )
    Ticket.objects.filter(pk=tickets["other_team"].pk).update(
        created_at=now - datetime.timedelta(days=20)
    )
    day = (now - datetime.timedelta(days=10)).date()
    client.force_login(world.agent)
    only_that_day = client.get(QUEUE, {"queue": "open", "created_from": day, "created_to": day})
    assert listed(only_that_day) == [tickets["team"].number]
    since = client.get(QUEUE, {"queue": "open", "created_from": day})
    assert set(listed(since)) == numbers(tickets, "team", "mine", "team_taken")
    until = client.get(QUEUE, {"queue": "open", "created_to": day})
    assert set(listed(until)) == numbers(tickets, "team", "other_team")


def test_a_reversed_date_range_is_reported_not_applied(client, world, tickets):
    client.force_login(world.agent)
    response = client.get(
        QUEUE, {"queue": "open", "created_from": "2030-01-02", "created_to": "2030-01-01"}
    )
    assert response.status_code == 200
    assert "created_to" in response.context["filter_form"].errors
    assert listed(response) == []  # from 2030 on: nothing; the end is ignored


@pytest.mark.parametrize(
    "params",
    [
        {"status": "abc"},
        {"status": "999999"},
        {"type": "-1"},
        {"priority": "critical"},
        {"address": "x"},
        {"address": "99999999999999999999999"},
        {"team": "1.5"},
        {"responsible": "nobody"},
        {"created_from": "yesterday"},
        {"created_to": "2024-02-30"},
        {"sort": "password"},
        {"sort": "-status__name"},
        {"page": "-3"},
        {"page": "999"},
        {"page": "x"},
        {"q": "x" * 5000},
        {"q": "\x00"},
        {"q": "'\"%_\\"},
        {"queue": ["mine", "open"]},
    ],
)
def test_hand_edited_urls_never_fail(client, world, tickets, params):
    client.force_login(world.agent)
    response = client.get(QUEUE, {"queue": "all", **params})
    assert response.status_code == 200


def test_an_address_the_user_may_not_see_is_refused_by_the_filter(client, world, tickets):
    """Internal desk users see every address with their role; one without the Addresses right
    cannot filter by one (and the autocomplete offers none)."""
    client.force_login(world.reader)  # Desk reader: tickets only
    response = client.get(QUEUE, {"queue": "all", "address": world.site.pk})
    assert "address" in response.context["filter_form"].errors
    assert len(listed(response)) == 6
    data = client.get(reverse("desk:autocomplete-addresses"), {"term": "Nordwerk"}).json()
    assert data == {"results": [], "more": False}


# ---------------------------------------------------------------------------------------------
# Sort and pagination.


def test_sort_by_priority_and_number(client, world, tickets):
    services.ticket_change_priority(actor=world.agent, ticket=tickets["team"], priority="urgent")
    services.ticket_change_priority(actor=world.agent, ticket=tickets["mine"], priority="low")
    services.ticket_change_priority(
        actor=world.agent, ticket=tickets["other_team"], priority="high"
    )
    client.force_login(world.agent)
    by_priority = listed(client.get(QUEUE, {"queue": "open", "sort": "-priority"}))
    assert by_priority[0] == tickets["team"].number
    assert by_priority[1] == tickets["other_team"].number
    assert by_priority[-1] == tickets["mine"].number
    by_number = listed(client.get(QUEUE, {"queue": "all", "sort": "number"}))
    assert by_number == sorted(by_number)
    assert listed(client.get(QUEUE, {"queue": "all", "sort": "-number"})) == by_number[::-1]


def test_column_headers_reverse_the_sort(client, world, tickets):
    client.force_login(world.agent)
    response = client.get(QUEUE, {"queue": "all", "sort": "number"})
    column = next(c for c in response.context["sort_columns"] if c["label"] == "No.")
    assert column["direction"] == "asc"
    assert "sort=-number" in column["url"]


def test_pagination_fifty_a_page(client, world):
    TicketFactory.create_batch(
        60, address=world.site, responsible_team=world.support, type=world.fault
    )
    client.force_login(world.agent)
    first = client.get(QUEUE, {"queue": "open", "sort": "number"})
    assert len(listed(first)) == 50
    second = client.get(QUEUE, {"queue": "open", "sort": "number", "page": 2})
    assert len(listed(second)) == 10
    assert not set(listed(first)) & set(listed(second))


# ---------------------------------------------------------------------------------------------
# Saved filters.


def test_save_use_and_delete_a_filter(client, world, tickets):
    client.force_login(world.agent)
    query = f"queue=open&team={world.service.pk}&bogus=1&status=abc&csrfmiddlewaretoken=x"
    response = client.post(reverse("desk:filter-save"), {"name": "Service backlog", "query": query})
    saved = SavedFilter.objects.get(user=world.agent)
    assert saved.name == "Service backlog"
    assert saved.query == f"queue=open&team={world.service.pk}"  # only valid filter keys
    assert response.status_code == 302
    assert response["Location"] == saved.get_absolute_url()

    page = client.get(response["Location"])
    assert listed(page) == [tickets["other_team"].number]
    assert [f.active for f in page.context["saved_filters"]] == [True]
    assert "Service backlog" in page.content.decode()

    # The same name replaces the filter.
    client.post(reverse("desk:filter-save"), {"name": "Service backlog", "query": "queue=closed"})
    assert SavedFilter.objects.get(user=world.agent).query == "queue=closed"

    # Saved filters are per user.
    client.force_login(world.colleague)
    assert client.get(QUEUE).context["saved_filters"] == []

    client.force_login(world.agent)
    response = client.post(reverse("desk:filter-delete", kwargs={"pk": saved.pk}))
    assert response.status_code == 302
    assert not SavedFilter.objects.exists()


def test_a_saved_filter_needs_a_name(client, world):
    client.force_login(world.agent)
    response = client.post(reverse("desk:filter-save"), {"name": "  ", "query": "queue=open"})
    assert response.status_code == 302
    assert not SavedFilter.objects.exists()


def test_a_stale_saved_filter_still_opens(client, world, tickets):
    SavedFilter.objects.create(user=world.agent, name="Old", query="queue=open&status=987654")
    client.force_login(world.agent)
    response = client.get(SavedFilter.objects.get().get_absolute_url())
    assert response.status_code == 200
    assert len(listed(response)) == 4


# ---------------------------------------------------------------------------------------------
# The address autocomplete.


def test_address_autocomplete(client, world):
    AddressFactory.create_batch(25, name="Bulk Customer")
    client.force_login(world.agent)
    url = reverse("desk:autocomplete-addresses")
    data = client.get(url, {"term": "nordwerk"}).json()
    assert [r["id"] for r in data["results"]] == [world.hq.pk, world.site.pk]
    assert data["results"][0]["text"].startswith("10001 Nordwerk")
    page_one = client.get(url, {"term": "bulk"}).json()
    assert len(page_one["results"]) == 20 and page_one["more"] is True
    page_two = client.get(url, {"term": "bulk", "page": "2"}).json()
    assert len(page_two["results"]) == 5 and page_two["more"] is False
    assert client.get(url, {"page": "abc"}).status_code == 200


def test_autocomplete_leaves_out_inactive_addresses_for_nobody_but_follows_the_policy(
    client, world
):
    """The autocomplete is `Address.objects.visible_to(user)`: for a desk user with the
    Addresses right that is every address."""
    client.force_login(world.agent)
    data = client.get(reverse("desk:autocomplete-addresses"), {"term": "Alpenblick"}).json()
    assert [r["id"] for r in data["results"]] == [world.other.pk]


# ---------------------------------------------------------------------------------------------
# Query count: bounded whatever the number of rows.


def make_tickets(world, count, **kwargs):
    TicketFactory.create_batch(
        count,
        address=kwargs.pop("address", world.site),
        responsible_team=world.support,
        type=world.fault,
        **kwargs,
    )


@pytest.mark.parametrize(
    "params",
    [
        {"queue": "open"},
        {"queue": "teams", "q": "cycles", "sort": "-priority"},
        {"queue": "all", "team": "SUPPORT", "responsible": "none", "created_from": "2020-01-01"},
    ],
)
def test_queue_query_count_does_not_grow_with_rows(
    client, world, params, django_assert_max_num_queries
):
    params = {k: (world.support.pk if v == "SUPPORT" else v) for k, v in params.items()}
    client.force_login(world.agent)
    SavedFilter.objects.create(user=world.agent, name="A", query="queue=open")
    make_tickets(world, 5)
    make_tickets(world, 3, responsible_user=world.agent)  # rows naming people and teams
    client.get(QUEUE, params)  # warm up (session, content types)
    with CaptureQueriesContext(connection) as small:
        assert client.get(QUEUE, params).status_code == 200
    make_tickets(world, 115, address=world.other)
    UserFactory.create_batch(3, roles=["Support agent"])
    with django_assert_max_num_queries(len(small)):
        response = client.get(QUEUE, params)
    assert response.context["paginator"].count >= 50
    assert len(small) <= 12, [query["sql"] for query in small.captured_queries]


def test_queue_counts_are_capped_and_say_so(client, world, settings):
    """Past LIST_COUNT_CAP the badges and the list say "more than …" instead of counting."""
    settings.LIST_COUNT_CAP = 5
    make_tickets(world, 7)
    client.force_login(world.agent)
    response = client.get(QUEUE, {"queue": "open"})
    queues_by_key = {queue["key"]: queue for queue in response.context["queues"]}
    assert queues_by_key["open"]["capped"] and queues_by_key["all"]["capped"]
    assert not queues_by_key["closed"]["capped"] and queues_by_key["closed"]["count"] == 0
    text = " ".join(response.content.decode().split())
    assert "more than 5 tickets" in text  # the badges' labels
    assert ">5+<" in text.replace(" ", "")
    assert "7 tickets" in text  # the list counts at least as far as its page
    assert len(response.context["tickets"]) == 7
