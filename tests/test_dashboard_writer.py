"""The dashboard's lists written in Python (tickets/templatetags/dashboard_extras.py): the same
markup and texts as the template loop and tag they replace, in English and German, with user
content escaped; and its short lists and "recent activity" read per address on PostgreSQL
(`portal_views.newest_per_address`) give what the plain queries give."""

import datetime
import re
from types import SimpleNamespace

import pytest
from django.db import connection
from django.template import Context, Template
from django.template.defaultfilters import truncatechars
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.timesince import timesince
from django.utils.translation import gettext

from portal import portal_views
from portal.db import Precompiled
from tests.factories import (
    AddressFactory,
    ExternalUserFactory,
    TeamFactory,
    TicketFactory,
    TicketStatusFactory,
    TicketTypeFactory,
    UserFactory,
)
from tickets import services
from tickets.models import Message, Ticket, TicketEvent, TicketStatus
from tickets.templatetags.dashboard_extras import TimeSince, _truncated
from tickets.templatetags.tickets_extras import status_badge

pytestmark = pytest.mark.django_db

# The "recent activity" loop of portal/dashboard.html and tickets/partials/event_text.html
# (which it included) before the loop moved to Python.
TEMPLATE_ACTIVITY = """{% load i18n %}{% for item in activity %}
          <li class="list-group-item px-0">
            {% if item.kind == "message" %}{% with ticket=item.message.ticket %}
            <div><a href="{% url 'portal:ticket-detail' ticket.number %}">#{{ ticket.number }} {{ ticket.subject }}</a></div>
            <div class="small">{% blocktranslate with author=item.message.author|default:_("System") %}{{ author }} replied:{% endblocktranslate %} <span class="text-body-secondary">{{ item.message.body|truncatechars:140 }}</span></div>
            {% endwith %}{% else %}{% with ticket=item.event.ticket event=item.event %}
            <div><a href="{% url 'portal:ticket-detail' ticket.number %}">#{{ ticket.number }} {{ ticket.subject }}</a></div>
            <div class="small">{% if event.kind == "created" %}{% translate "Ticket filed" %}{% if event.new_value %} ({{ event.new_value }}){% endif %}{% elif event.kind == "status_changed" %}{% blocktranslate with old=event.old_value new=event.new_value %}Status changed from “{{ old }}” to “{{ new }}”{% endblocktranslate %}{% elif event.kind == "closed" %}{% translate "Ticket closed" %}{% elif event.kind == "reopened" %}{% translate "Ticket reopened" %}{% else %}{{ event.get_kind_display|capfirst }}{% endif %}{% if event.actor %} · {{ event.actor }}{% endif %}</div>
            {% endwith %}{% endif %}
            <div class="small text-body-secondary"><time datetime="{{ item.when|date:'c' }}">{% blocktranslate with when=item.when|timesince %}{{ when }} ago{% endblocktranslate %}</time></div>
          </li>
          {% endfor %}"""  # noqa: E501

WRITER_ACTIVITY = "{% load dashboard_extras %}{% activity_items activity %}"


def ticket_list_group(tickets):
    """tickets_extras.ticket_list_group, which wrote the dashboard's short lists before."""
    items = [
        format_html(
            '<li class="list-group-item px-0"><div class="d-flex justify-content-between gap-2">'
            '<a class="fw-semibold text-truncate" href="{}">#{} {}</a>{}</div>'
            '<div class="small text-body-secondary">{} · {} · {}</div></li>',
            reverse("portal:ticket-detail", args=[ticket.number]),
            ticket.number,
            ticket.subject,
            status_badge(ticket.status),
            ticket.address,
            ticket.type,
            gettext("updated %(when)s ago") % {"when": timesince(ticket.updated_at)},
        )
        for ticket in tickets
    ]
    return format_html('<ul class="list-group list-group-flush">{}</ul>', mark_safe("".join(items)))


HOSTILE = "<script>alert(\"x\")</script> & 'quoted'"
ESCAPED = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#x27;quoted&#x27;"


def render(source, **context):
    return Template(source).render(Context(context))


def squeezed(html):
    """Whitespace between tags is not shown."""
    return re.sub(r">\s+<", "><", html).strip()


@pytest.fixture
def world():
    """A customer writing at `site`, reading `branch`; an agent; tickets with markup in their
    subject, replies (one without author, one long), and every kind of event."""
    site = AddressFactory(name=f"Site {HOSTILE}")
    branch = AddressFactory(name="Branch")
    team = TeamFactory(name="Support")
    fault = TicketTypeFactory(name=f"Fault {HOSTILE}")
    agent = UserFactory(roles=["Support agent"], first_name="Agnes", last_name=HOSTILE)
    customer = ExternalUserFactory(
        first_name="Carla",
        roles=["Portal user"],
        address=site,
        write=[site],
        read=[branch],
        types=[fault],
        teams=[team],
    )
    ticket = services.ticket_create(
        actor=customer,
        address=site,
        ticket_type=fault,
        subject=f"Press stops {HOSTILE}",
        description="It stops.",
        team=team,
    )
    services.ticket_reply(actor=agent, ticket=ticket, body=f"Which model? {HOSTILE}")
    services.ticket_reply(actor=customer, ticket=ticket, body="The big one. " * 20)
    Message.objects.create(ticket=ticket, author=None, kind=Message.Kind.REPLY, body="Imported")
    status = TicketStatus.objects.get(name="In progress")
    services.ticket_set_status(actor=agent, ticket=ticket, status=status)
    TicketEvent.objects.create(
        ticket=ticket,
        actor=None,
        kind=TicketEvent.Kind.STATUS_CHANGED,
        old_value=HOSTILE,
        new_value="Waiting & seeing",
    )
    for kind in (TicketEvent.Kind.CLOSED, TicketEvent.Kind.REOPENED, TicketEvent.Kind.FORWARDED):
        TicketEvent.objects.create(ticket=ticket, actor=agent, kind=kind)
    TicketEvent.objects.create(ticket=ticket, actor=agent, kind=TicketEvent.Kind.CREATED)
    # Some of it happened long ago, so "how long ago" has two parts.
    earlier = timezone.now() - datetime.timedelta(days=2, hours=3, minutes=30)
    Message.objects.filter(author=None).update(created_at=earlier)
    TicketEvent.objects.filter(kind=TicketEvent.Kind.CLOSED).update(created_at=earlier)
    return SimpleNamespace(
        site=site, branch=branch, team=team, fault=fault, agent=agent, customer=customer
    )


def every_item():
    """Every message and event as the view's activity items (the writer must write any)."""
    items = [
        {"kind": "message", "when": message.created_at, "message": message}
        for message in Message.objects.select_related("ticket", "author")
    ]
    items += [
        {"kind": "event", "when": event.created_at, "event": event}
        for event in TicketEvent.objects.select_related("ticket", "actor")
    ]
    return items


@pytest.mark.parametrize("language", ["en", "de"])
@pytest.mark.parametrize("zone", ["Europe/Berlin", "America/New_York"])
def test_activity_items_are_the_templates(world, language, zone):
    items = every_item()
    assert len(items) >= 10
    with translation.override(language), timezone.override(zone):
        old = render(TEMPLATE_ACTIVITY, activity=items)
        new = render(WRITER_ACTIVITY, activity=items)
    assert squeezed(new) == squeezed(old)
    assert ESCAPED in new
    assert "<script>" not in new


def test_activity_items_in_german(world):
    with translation.override("de"):
        html = render(WRITER_ACTIVITY, activity=every_item())
    assert "hat geantwortet:" in html
    assert "System hat geantwortet:" in html
    assert "2\xa0Tage, 3\xa0Stunden her</time>" in html
    assert f"Status von „{ESCAPED}“ auf „Waiting &amp; seeing“ geändert" in html
    assert "Ticket geschlossen" in html


def test_activity_items_in_english(world):
    html = render(WRITER_ACTIVITY, activity=every_item())
    assert "System replied:" in html
    assert "2\xa0days, 3\xa0hours ago</time>" in html
    assert f"Status changed from “{ESCAPED}” to “Waiting &amp; seeing”" in html
    assert "Ticket filed · Agnes" in html
    ticket = Ticket.objects.get()
    assert f'<a href="{reverse("portal:ticket-detail", args=[ticket.number])}">' in html


@pytest.mark.parametrize(
    "text",
    [
        "",
        "short",
        "x" * 140,
        "x" * 141,
        "word " * 60,
        "e\u0301" * 100,  # 200 code points, 100 letters once composed: not cut
        "e\u0301" * 150,
        "\u0301" * 150,  # combining marks alone count for nothing
        f"{HOSTILE} " * 12,
    ],
)
def test_replies_are_cut_as_truncatechars_cuts(text):
    assert _truncated(text) == truncatechars(text, 140)


def test_short_ticket_list_is_ticket_list_group(world):
    done = TicketStatusFactory(name=f"Done {HOSTILE}", is_closed=True)
    other = TicketStatusFactory(name="Parts ordered")
    for status in (done, other):
        ticket = TicketFactory(address=world.branch, type=world.fault, subject=f"S {HOSTILE}")
        Ticket.objects.filter(pk=ticket.pk).update(
            status=status, updated_at=timezone.now() - datetime.timedelta(hours=5)
        )
    TicketFactory(address=world.site, type=world.fault)  # the default status
    tickets = list(Ticket.objects.select_related("status", "type", "address"))
    assert {ticket.status.is_default for ticket in tickets} == {True, False}
    for language in ("en", "de"):
        with translation.override(language):
            old = str(ticket_list_group(tickets))
            new = render("{% load dashboard_extras %}{% short_ticket_list t %}", t=tickets)
        assert new == old
    assert ESCAPED in new


def test_the_dashboard_page_shows_the_written_lists(client, world):
    ticket = Ticket.objects.get()
    services.ticket_reply(actor=world.agent, ticket=ticket, body="Any news?")
    client.force_login(world.customer)
    html = client.get(reverse("portal:dashboard")).content.decode()
    assert html.count('<li class="list-group-item px-0">') == 1 + 1 + 10  # waiting, mine, 10
    assert "Agnes " + ESCAPED + " replied:" in html
    assert "<script>" not in html


# ---------------------------------------------------------------------------------------------
# The lists read per address (PostgreSQL) against the plain queries.


@pytest.fixture
def many(world):
    """Tickets at four addresses of the customer (write: site and two more; read: branch) and
    at a foreign one, newer than all of them; many share an `updated_at`; a third wait for the
    customer, some are closed."""
    extra = AddressFactory.create_batch(2)
    world.customer.write_addresses.add(*extra)
    foreign = AddressFactory()
    sites = [world.site, world.branch, *extra]
    start = timezone.now() - datetime.timedelta(days=30)
    closed = TicketStatus.objects.filter(is_closed=True).first()
    for index in range(120):
        ticket = TicketFactory(address=sites[index % 4], type=world.fault)
        moment = start + datetime.timedelta(hours=(index * 7) % 40)  # repeats: ties
        fields = {"updated_at": moment, "awaiting_customer": index % 3 == 0}
        if index % 10 == 0:
            fields.update(status=closed, closed_at=moment)
        Ticket.objects.filter(pk=ticket.pk).update(**fields)
    for _ in range(20):
        ticket = TicketFactory(address=foreign, type=world.fault)
        Ticket.objects.filter(pk=ticket.pk).update(
            updated_at=timezone.now(), awaiting_customer=True
        )
    world.customer = type(world.customer).objects.get(pk=world.customer.pk)  # its new rights
    return world


def plain(monkeypatch, function, *args):
    """`function(*args)` without the per-address reading, its statements compiled anew."""
    with monkeypatch.context() as patched:
        patched.setattr(portal_views, "newest_per_address", lambda *a: None)
        patched.setattr(
            Precompiled, "_compiled", lambda self, values, using: self._compile(values, using)
        )
        return function(*args)


def test_short_lists_and_activity_are_the_plain_queries(many, monkeypatch):
    user = many.customer
    awaiting = portal_views.awaiting_rows(user, 11)
    assert [t.pk for t in awaiting] == [
        t.pk for t in plain(monkeypatch, portal_views.awaiting_rows, user, 11)
    ]
    assert len(awaiting) == 11
    writable = set(Ticket.objects.writable_by(user).values_list("pk", flat=True))
    assert all(t.pk in writable and t.awaiting_customer and t.closed_at is None for t in awaiting)
    activity = portal_views.recent_activity(user)
    expected = plain(monkeypatch, portal_views.recent_activity, user)
    assert [(i["kind"], i["when"]) for i in activity] == [(i["kind"], i["when"]) for i in expected]


def test_per_address_reading_is_used_on_postgresql_only(many):
    tickets = Ticket.objects.visible_to(many.customer)
    merged = portal_views.newest_per_address(tickets, [many.site.pk, many.branch.pk], 5)
    assert (merged is not None) is (connection.vendor == "postgresql")
    assert portal_views.newest_per_address(tickets, [], 5) is None
    assert portal_views.newest_per_address(tickets.none(), [many.site.pk], 5) is None


@pytest.mark.postgres_only
def test_the_merged_ranges_are_the_newest_in_order(many):
    tickets = Ticket.objects.visible_to(many.customer)
    addresses = sorted(set(Ticket.objects.values_list("address_id", flat=True)))
    sql, params = portal_views.newest_per_address(tickets, addresses, 30)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    expected = list(tickets.order_by("-updated_at", "-pk").values_list("pk", "updated_at")[:30])
    assert rows == expected  # the foreign address's newer tickets are outside `tickets`


def test_nothing_waits_for_a_reader_or_at_a_foreign_address(many):
    reader = ExternalUserFactory(roles=["Portal user"], address=many.site, read=[many.site])
    assert portal_views.awaiting_rows(reader, 11) == []
    foreign_only = ExternalUserFactory(roles=["Portal user"], address=AddressFactory())
    assert portal_views.awaiting_rows(foreign_only, 11) == []


@pytest.mark.parametrize("zone", [datetime.UTC, None])
def test_times_since_are_timesinces(zone):
    """Every text `TimeSince` keeps is the one `timesince` writes, from seconds to years ago,
    and for times to come."""
    since = TimeSince()
    now = datetime.datetime.now(zone)
    seconds = [0, 1, 59, 60, 61, 119, 3599, 3600, 3661, 86399, 86400, 86460, 604799, 604800]
    seconds += [27 * 86400 - 1, 27 * 86400, 28 * 86400, 31 * 86400, 400 * 86400, -60, -86400]
    seconds += list(range(0, 40 * 86400, 7777))
    for language in ("en", "de"):
        with translation.override(language):
            for offset in seconds:
                for fraction in (0, 0.5):
                    value = now - datetime.timedelta(seconds=offset + fraction)
                    assert since(value) == timesince(value), (offset, fraction)
                    assert since(value) == timesince(value)  # kept, still the same
        since = TimeSince()  # one page is in one language
