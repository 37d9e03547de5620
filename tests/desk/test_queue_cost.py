"""What the queue page does to cost less: its repeated parts written in Python (the queue links,
the column headings, text and hidden inputs) write what the template wrote; the queue counts
compiled once per process count what the querysets count, for every user; the lists of people
read only their names; the rows read only what they show."""

import re

import pytest
from django import forms
from django.db import connection
from django.template import Context, Template
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from desk import queues
from desk.choices import DeskChoices
from desk.forms import BulkActionForm, NormalChoices, QueueFilterForm, SavedFilterForm
from desk.views import QueueView
from tests.factories import UserFactory
from tickets.forms import CappedCount, capped_counts
from tickets.models import Ticket

pytestmark = pytest.mark.django_db

QUEUE = "/desk/"
HOSTILE = "A <b>&amp; \"quoted\" 'x'"


def render(source, **context):
    return Template(source).render(Context(context))


def squeezed(html):
    """Whitespace between tags is not shown; the rest must be the same."""
    return re.sub(r">\s+<", "><", html).strip()


# ---------------------------------------------------------------------------------------------
# The queue links (side bar), as queue.html wrote them.

TEMPLATE_QUEUE_LINKS = """{% load i18n %}{% for q in queues %}
      <a class="list-group-item list-group-item-action d-flex justify-content-between align-items-center{% if q.active %} active{% endif %}" href="{{ q.url }}" title="{{ q.help }}"{% if q.active %} aria-current="page"{% endif %} id="queue-{{ q.key }}">
        <span>{{ q.label }}</span>
        <span class="badge rounded-pill {% if q.active %}text-bg-light{% else %}text-bg-secondary{% endif %}" {% if q.capped %}aria-label="{% blocktranslate with limit=q.limit|floatformat:'g' %}more than {{ limit }} tickets{% endblocktranslate %}">{{ q.limit|floatformat:"g" }}+{% else %}aria-label="{% blocktranslate count counter=q.count %}{{ counter }} ticket{% plural %}{{ counter }} tickets{% endblocktranslate %}">{{ q.count }}{% endif %}</span>
      </a>
      {% endfor %}"""  # noqa: E501


def queue_entries(counts, active):
    return [
        {
            "key": key,
            "label": label,
            "help": queues.HELP[key],
            "count": counts[key],
            "capped": counts[key].capped,
            "limit": counts[key].limit,
            "active": key == active,
            "url": f"/desk/?queue={key}",
        }
        for key, label in queues.CHOICES
    ]


@pytest.mark.parametrize("language", ["en", "de"])
def test_queue_links_write_what_the_template_wrote(language):
    keys = [key for key, _label in queues.CHOICES]
    numbers = dict(zip(keys, [0, 1, 999, 1001, 1001], strict=True))
    counts = {key: CappedCount(value, 1000) for key, value in numbers.items()}
    entries = queue_entries(counts, active=queues.OPEN)
    entries.append({**entries[0], "key": HOSTILE, "label": HOSTILE, "help": HOSTILE})
    entries[-1]["url"] = f"/desk/?q={HOSTILE}"
    with translation.override(language):
        expected = render(TEMPLATE_QUEUE_LINKS, queues=entries)
        written = render("{% load desk_extras %}{% queue_links queues %}", queues=entries)
    assert squeezed(written) == squeezed(expected)
    assert "<b>" not in written
    text = " ".join(written.split())
    if language == "de":
        assert "mehr als 1.000 Tickets" in text and ">1.000+<" in text and "1 Ticket" in text
    else:
        assert "more than 1,000 tickets" in text and ">1,000+<" in text and "999 tickets" in text


# ---------------------------------------------------------------------------------------------
# The column headings.

TEMPLATE_SORT_HEADERS = """{% for column in sort_columns %}
              <th scope="col" class="text-nowrap"{% if column.direction == "asc" %} aria-sort="ascending"{% elif column.direction == "desc" %} aria-sort="descending"{% endif %}>
                {% if column.url %}<a class="link-body-emphasis text-decoration-none" href="{{ column.url }}">{{ column.label }}{% if column.direction == "asc" %} <i class="bi bi-caret-up-fill" aria-hidden="true"></i>{% elif column.direction == "desc" %} <i class="bi bi-caret-down-fill" aria-hidden="true"></i>{% endif %}</a>{% else %}{{ column.label }}{% endif %}
              </th>
              {% endfor %}"""  # noqa: E501


def normalised(html):
    """The page snapshots' view: runs of whitespace are one space, none between tags."""
    return re.sub(r"\s+", " ", squeezed(html))


@pytest.mark.parametrize("language", ["en", "de"])
def test_sort_headers_write_what_the_template_wrote(language):
    columns = [
        {"label": "No.", "url": "?sort=-number", "direction": "asc"},
        {"label": "Subject", "url": "?q=a&b=%22&sort=subject", "direction": None},
        {"label": "Updated", "url": "?sort=updated_at", "direction": "desc"},
        {"label": HOSTILE},
        *(
            {"label": label} if key is None else {"label": label, "url": f"?sort={key}"}
            for key, label in QueueView.columns
        ),
    ]
    with translation.override(language):
        expected = render(TEMPLATE_SORT_HEADERS, sort_columns=columns)
        written = render("{% load desk_extras %}{% sort_headers columns %}", columns=columns)
    assert normalised(written) == normalised(expected)
    assert "<b>" not in written and "&amp;b=%22" in written


def test_the_queue_page_links_its_queues_and_columns(client, world, file_ticket):
    file_ticket("Support's")
    client.force_login(world.agent)
    html = client.get(QUEUE, {"queue": "open", "sort": "number", "page": "1"}).content.decode()
    assert 'href="/desk/?queue=open" title="Every open ticket." aria-current="page"' in html
    assert 'aria-label="1 ticket">1</span>' in html and 'aria-label="0 tickets">0</span>' in html
    assert 'aria-sort="ascending"' in html
    assert 'href="?queue=open&amp;sort=-number">No. <i class="bi bi-caret-up-fill"' in html
    assert 'href="?queue=open&amp;sort=subject">Subject</a>' in html  # no page number kept


# ---------------------------------------------------------------------------------------------
# Text and hidden inputs.


class Inputs(forms.Form):
    plain = forms.CharField()
    optional = forms.CharField(required=False, max_length=20)
    hidden = forms.CharField(required=False, widget=forms.HiddenInput)
    decorated = forms.CharField(
        widget=forms.TextInput(attrs={"placeholder": HOSTILE, "class": "a b", "data-on": True})
    )
    off = forms.CharField(widget=forms.TextInput(attrs={"disabled": False}))
    number = forms.IntegerField(widget=forms.TextInput)
    email = forms.EmailField()  # not a text input: left to Django


@pytest.mark.parametrize(
    "form",
    [
        Inputs(),
        Inputs(initial={"plain": HOSTILE, "hidden": HOSTILE, "number": 12}),
        Inputs(data={"plain": HOSTILE, "optional": "x" * 30, "hidden": "", "number": "1e"}),
        Inputs(auto_id=False),
        Inputs(prefix="p", auto_id="field-%s"),
    ],
)
def test_input_control_writes_what_django_writes(form):
    for field in form:
        written = render("{% load desk_extras %}{% input_control field %}", field=field)
        assert written.strip() == str(field).strip(), field.name


def test_input_control_writes_the_queue_forms_inputs(world):
    saved = SavedFilterForm(user=world.agent, initial={"query": f"q={HOSTILE}"})
    bulk = BulkActionForm(user=world.agent, initial={"next": "queue=open&page=2"})
    for field in (saved["query"], saved["name"], bulk["next"]):
        written = render("{% load desk_extras %}{% input_control field %}", field=field)
        assert written.strip() == str(field).strip()
    assert "<b>" not in str(saved["query"])


# ---------------------------------------------------------------------------------------------
# The queue counts.


def expected_counts(scope, user):
    return capped_counts(
        {name: scope.filter(condition) for name, condition in queues.conditions(user).items()}
    )


def test_queue_counts_compiled_once_count_for_each_user(world, file_ticket, settings):
    settings.LIST_COUNT_CAP = 2
    file_ticket("Mine", recipient=world.agent)
    file_ticket("Support's")
    file_ticket("Service's", team="service", recipient=world.colleague)
    for _ in range(2):  # the second time from the compiled statement
        for user in (world.agent, world.colleague, world.reader):
            scope = Ticket.objects.visible_to(user)
            counts = queues.counts(scope, user)
            assert counts == expected_counts(scope, user)
            assert [counts[key].capped for key in counts] == [
                value.capped for value in expected_counts(scope, user).values()
            ]
    assert queues.counts(Ticket.objects.visible_to(world.agent), world.agent) == {
        "mine": 1,
        "teams": 1,
        "open": 3,  # "more than 2"
        "closed": 0,
        "all": 3,
    }


def test_a_narrowed_scope_is_counted_as_it_is(world, file_ticket):
    file_ticket("Mine", recipient=world.agent)
    file_ticket("Elsewhere", address=world.other, recipient=world.agent)
    scope = Ticket.objects.filter(address=world.other)
    extra = {"rows": scope.filter(subject__icontains="else")}
    counts = queues.counts(scope, world.agent, extra=extra)
    assert counts == {**expected_counts(scope, world.agent), "rows": 1}
    assert counts["mine"] == 1 and counts["all"] == 1
    assert queues.counts(Ticket.objects.none(), world.agent)["all"] == 0


# ---------------------------------------------------------------------------------------------
# Lists and rows read once, and only what they show.


def test_people_are_read_with_their_names_only(world):
    people = DeskChoices(world.agent).people
    agent = next(person for person in people if person.pk == world.agent.pk)
    assert str(agent) == "Ada Agent" and agent.forwardable
    assert agent.get_deferred_fields() >= {"password", "last_login", "is_external"}
    with CaptureQueriesContext(connection) as queries:
        assert agent.is_external is False  # read when used
    assert len(queries) == 1


def test_the_queue_reads_no_deferred_field(client, world, file_ticket):
    """Every row and list the page shows was read by its own statement: showing them reads
    nothing more (a deferred field would cost a query per row)."""
    for index in range(3):
        file_ticket(f"Ticket {index}", recipient=world.colleague)
    UserFactory.create_batch(2, roles=["Support agent"])
    client.force_login(world.agent)
    client.get(QUEUE, {"queue": "open"})
    with CaptureQueriesContext(connection) as small:
        client.get(QUEUE, {"queue": "open"})
    for index in range(10):
        file_ticket(f"More {index}", recipient=world.reader, address=world.other)
    with CaptureQueriesContext(connection) as large:
        response = client.get(QUEUE, {"queue": "open"})
    assert len(large) == len(small)
    assert len(response.context["tickets"]) == 13
    assert "Cole Colleague" in response.content.decode()


@pytest.mark.parametrize("who", ["agent", "reader", "no_rights", "customer"])
def test_lists_read_once_offer_what_the_policy_allows(world, who):
    """On the queue page the teams one may forward to and the statuses one may set are flags on
    the whole lists; they are what the policy's querysets give, for each kind of user."""
    from access import policy
    from accounts.models import Team
    from tickets.models import TicketStatus

    user = getattr(world, who)
    Team.objects.create(name="Retired team", is_active=False)
    TicketStatus.objects.create(name="Retired status", is_active=False, order=99)
    alone = DeskChoices(user)  # the workspace: each list on its own
    expected_teams = list(policy.teams_forwardable(Team.objects.order_by("name"), user))
    expected_statuses = list(TicketStatus.objects.settable_by(user))
    assert alone.forward_teams == expected_teams
    assert alone.settable_statuses == expected_statuses
    together = DeskChoices(user)  # the queue page: the whole lists first
    assert len(together.teams) == Team.objects.count()
    assert len(together.statuses) == TicketStatus.objects.count()
    with CaptureQueriesContext(connection) as queries:
        assert together.forward_teams == expected_teams
        assert together.settable_statuses == expected_statuses
    assert len(queries) == 0
    if who == "agent":
        assert expected_teams and expected_statuses
        assert "Retired status" not in {status.name for status in expected_statuses}
    else:
        assert not expected_teams


def test_the_queue_page_reads_each_list_once(client, world, file_ticket):
    file_ticket("Support's")
    client.force_login(world.agent)
    client.get(QUEUE)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(QUEUE)
    statements = [query["sql"] for query in queries]
    for table in ("accounts_team", "tickets_ticketstatus", "tickets_tickettype"):
        assert sum(sql.startswith(f'SELECT "{table}"') for sql in statements) == 1, table
    bulk = response.context["bulk_form"]
    assert [label for value, label in bulk.fields["recipient"].choices if value == ""] == [
        "---------"
    ]
    assert len(statements) <= 10, statements


def test_filter_form_choices_are_kept_as_built(world):
    form = QueueFilterForm({"responsible": str(world.colleague.pk)}, user=world.agent)
    responsible = form.fields["responsible"]
    assert isinstance(responsible.choices, NormalChoices)
    assert list(responsible.widget.choices) == list(responsible.choices)
    assert ("none", "Nobody (not taken)") in list(responsible.choices)
    assert form.is_valid() and form.cleaned_data["responsible"].pk == world.colleague.pk
    invalid = QueueFilterForm({"status": "999999", "team": "x"}, user=world.agent)
    assert not invalid.is_valid()
    assert set(invalid.errors) == {"status", "team"}


# ---------------------------------------------------------------------------------------------
# A searched "My tickets": the page's ids come with the counts (PostgreSQL).


@pytest.fixture
def pumps(world, file_ticket):
    """55 of the agent's open tickets about pumps (a page and a bit), and some that are not."""
    tickets = [
        file_ticket(f"Pump {index} leaks", recipient=world.agent, priority=priority)
        for index, priority in zip(
            range(55), ["low", "normal", "high", "urgent"] * 14, strict=False
        )
    ]
    file_ticket("Valve sticks", recipient=world.agent)
    file_ticket("Pump of a colleague", recipient=world.colleague)
    return tickets


def searched_mine(user, text, sort="-updated_at"):
    from desk.forms import SORTS
    from desk.search import search_tickets

    mine = Ticket.objects.visible_to(user).filter(queues.conditions(user)[queues.MINE])
    return list(search_tickets(mine, user, text, few=True).order_by(*SORTS[sort]))


@pytest.mark.postgres_only
@pytest.mark.parametrize("sort", ["-updated_at", "-priority", "number"])
@pytest.mark.parametrize(
    "page,shown", [(None, 1), ("1", 1), ("2", 2), ("3", 2), ("0", 2), ("x", 1)]
)
def test_searched_my_tickets_show_the_page_asked_for(client, world, pumps, sort, page, shown):
    client.force_login(world.agent)
    params = {"q": "pump", "sort": sort, **({"page": page} if page else {})}
    with CaptureQueriesContext(connection) as queries:
        response = client.get(QUEUE, params)
    expected = searched_mine(world.agent, "pump", sort)
    assert len(expected) == 55
    start = (shown - 1) * 50
    assert list(response.context["tickets"]) == expected[start : start + 50]
    assert response.context["paginator"].count == 55
    assert {q["key"]: q["count"] for q in response.context["queues"]}["mine"] == 56
    assert len(queries) <= 12 + (page in ("3", "0"))  # past the end: the last page read again
    assert "55 tickets" in " ".join(response.content.decode().split())


@pytest.mark.postgres_only
def test_searched_my_tickets_past_the_cap(client, world, pumps, settings):
    settings.LIST_COUNT_CAP = 5
    client.force_login(world.agent)
    response = client.get(QUEUE, {"q": "pump leaks"})
    assert list(response.context["tickets"]) == searched_mine(world.agent, "pump leaks")[:50]
    assert response.context["paginator"].count == 51  # counted as far as the page needs
    response = client.get(QUEUE, {"q": "valve"})
    assert [ticket.subject for ticket in response.context["tickets"]] == ["Valve sticks"]
    response = client.get(QUEUE, {"q": "zeppelin"})
    assert list(response.context["tickets"]) == []
    assert "queue-empty" in response.content.decode()
