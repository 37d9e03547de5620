"""The portal ticket page's conversation, history and details, written in Python
(`tickets/templatetags/portal_ticket.py`): the same markup as the templates they replace, in
English and German, with user content escaped; and the page itself using them."""

import re
from types import SimpleNamespace

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template import Context, Engine, Template, engines
from django.urls import reverse
from django.utils import translation

from tests.factories import (
    AddressFactory,
    ContactPersonFactory,
    ExternalUserFactory,
    MachineFactory,
    MessageFactory,
    TeamFactory,
    TicketTypeFactory,
    UserFactory,
)
from tickets import services
from tickets.models import Message, Ticket, TicketEvent, TicketStatus
from tickets.templatetags.portal_ticket import public_event_text

pytestmark = pytest.mark.django_db

# tickets/partials/message.html, included once per message before the messages moved to Python.
TEMPLATE_MESSAGE = """{% load i18n %}{% spaceless %}
<article class="chat-message {% if message.author_id and message.author_id == user.pk %}mine{% else %}theirs{% endif %}"{% if forloop.last %} id="latest"{% endif %} aria-label="{% if message.author_id == user.pk %}{% translate 'Your message' %}{% else %}{% blocktranslate with author=message.author|default:_('System') %}Message from {{ author }}{% endblocktranslate %}{% endif %}">
  <div class="chat-meta mb-1">
    <strong>{% if message.author_id and message.author_id == user.pk %}{% translate "You" %}{% else %}{{ message.author|default:_("System") }}{% endif %}</strong>
    <span> · </span>
    <time datetime="{{ message.created_at|date:'c' }}">{{ message.created_at|date:"SHORT_DATETIME_FORMAT" }}</time>
    {% if message.kind == "description" %}<span> · {% translate "Description" %}</span>{% endif %}
  </div>
  <div class="chat-body">{{ message.body }}</div>
  {% if message.attachments.all %}
  <ul class="list-unstyled chat-meta mt-2 mb-0">
    {% for attachment in message.attachments.all %}
    <li><a href="{% url 'portal:attachment-download' ticket.number attachment.pk %}" download><i class="bi bi-paperclip" aria-hidden="true"></i> {{ attachment.original_name }}</a><span class="ms-1">({{ attachment.size|filesizeformat }})</span></li>
    {% endfor %}
  </ul>
  {% endif %}
</article>
{% endspaceless %}
"""  # noqa: E501

# The loops of tickets/ticket_detail.html around the message and the event text.
TEMPLATE_CONVERSATION = """{% load i18n %}
      {% for message in conversation %}
      {% include "message" %}
      {% empty %}
      <p class="text-body-secondary">{% translate "No messages yet." %}</p>
      {% endfor %}
"""

# tickets/partials/event_text.html (the dashboard still includes it).
TEMPLATE_EVENT_TEXT = """{% load i18n %}{% if event.kind == "created" %}{% translate "Ticket filed" %}{% if event.new_value %} ({{ event.new_value }}){% endif %}{% elif event.kind == "status_changed" %}{% blocktranslate with old=event.old_value new=event.new_value %}Status changed from “{{ old }}” to “{{ new }}”{% endblocktranslate %}{% elif event.kind == "closed" %}{% translate "Ticket closed" %}{% elif event.kind == "reopened" %}{% translate "Ticket reopened" %}{% else %}{{ event.get_kind_display|capfirst }}{% endif %}"""  # noqa: E501

TEMPLATE_HISTORY = """{% load i18n %}
          {% for event in history %}
          <li class="mb-2">
            {% include "event_text" %}
            <div class="text-body-secondary"><time datetime="{{ event.created_at|date:'c' }}">{{ event.created_at|date:"SHORT_DATETIME_FORMAT" }}</time>{% if event.actor %} · {{ event.actor }}{% endif %}</div>
          </li>
          {% empty %}
          <li class="text-body-secondary">{% translate "No history yet." %}</li>
          {% endfor %}
"""  # noqa: E501

# The details list of tickets/ticket_detail.html.
TEMPLATE_DETAILS = """{% load i18n tickets_extras %}
          <dt class="col-5">{% translate "Status" %}</dt><dd class="col-7">{{ ticket.status }}</dd>
          <dt class="col-5">{% translate "Type" %}</dt><dd class="col-7">{{ ticket.type }}</dd>
          <dt class="col-5">{% translate "Priority" %}</dt><dd class="col-7">{{ ticket|priority_badge }}</dd>
          <dt class="col-5">{% translate "Address" %}</dt>
          <dd class="col-7">{% if show_address_link %}{% url 'portal:address-detail' ticket.address.pk as address_url %}{% endif %}{% if address_url %}<a href="{{ address_url }}">{{ ticket.address }}</a>{% else %}{{ ticket.address }}{% endif %}</dd>
          {% if show_machine %}
          <dt class="col-5">{% translate "Machine" %}</dt>
          <dd class="col-7">{% url 'portal:machine-detail' ticket.machine.pk as machine_url %}{% if machine_url %}<a href="{{ machine_url }}">{{ ticket.machine }}</a>{% else %}{{ ticket.machine }}{% endif %}</dd>
          {% endif %}
          <dt class="col-5">{% translate "Sent to" %}</dt>
          <dd class="col-7">{{ ticket.responsible_team|default_if_none:"" }}{% if ticket.responsible_team and ticket.responsible_user %}, {% endif %}{{ ticket.responsible_user|default_if_none:"" }}</dd>
          <dt class="col-5">{% translate "Filed by" %}</dt><dd class="col-7">{{ ticket.created_by|default:"—" }}</dd>
          {% if ticket.contact_person %}<dt class="col-5">{% translate "Contact person" %}</dt><dd class="col-7">{{ ticket.contact_person }}</dd>{% endif %}
          <dt class="col-5">{% translate "Created" %}</dt><dd class="col-7"><time datetime="{{ ticket.created_at|date:'c' }}">{{ ticket.created_at|date:"SHORT_DATETIME_FORMAT" }}</time></dd>
          <dt class="col-5">{% translate "Updated" %}</dt><dd class="col-7"><time datetime="{{ ticket.updated_at|date:'c' }}">{{ ticket.updated_at|date:"SHORT_DATETIME_FORMAT" }}</time></dd>
          {% if ticket.closed_at %}<dt class="col-5">{% translate "Closed" %}</dt><dd class="col-7"><time datetime="{{ ticket.closed_at|date:'c' }}">{{ ticket.closed_at|date:"SHORT_DATETIME_FORMAT" }}</time></dd>{% endif %}
"""  # noqa: E501

HOSTILE = "<script>alert(\"x\")</script> & 'quoted'"
ESCAPED = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#x27;quoted&#x27;"


def old(name, **context):
    """The replaced template `name`, with the partials it included under short names."""
    engine = Engine(
        libraries=engines["django"].engine.libraries,
        loaders=[
            (
                "django.template.loaders.locmem.Loader",
                {
                    "message": TEMPLATE_MESSAGE,
                    "conversation": TEMPLATE_CONVERSATION,
                    "event_text": TEMPLATE_EVENT_TEXT,
                    "history": TEMPLATE_HISTORY,
                    "details": TEMPLATE_DETAILS,
                },
            )
        ],
    )
    return engine.get_template(name).render(Context(context))


def new(source, **context):
    return Template("{% load portal_ticket %}" + source).render(Context(context))


def squeezed(html):
    """Whitespace between tags, and at the end of an element's text, is not shown."""
    return re.sub(r"\s+<", "<", re.sub(r">\s+<", "><", html)).strip()


def spaced(html):
    """Whitespace between tags dropped; next to a tag, one space (the browser shows none)."""
    html = re.sub(r">\s+<", "><", html.strip())
    return re.sub(r"\s+<", " <", re.sub(r">\s+", "> ", html))


@pytest.fixture
def world():
    site = AddressFactory(name="Site Works")
    team = TeamFactory(name="Support")
    fault = TicketTypeFactory(name="Fault")
    agent = UserFactory(roles=["Support agent"], first_name="Agnes", last_name="Agent")
    customer = ExternalUserFactory(
        roles=["Portal user"],
        first_name="Carla",
        last_name="Customer",
        address=site,
        write=[site],
        types=[fault],
        teams=[team],
    )
    return SimpleNamespace(site=site, team=team, fault=fault, agent=agent, customer=customer)


def file_ticket(world, **kwargs):
    return services.ticket_create(
        actor=kwargs.pop("actor", world.customer),
        address=world.site,
        ticket_type=world.fault,
        subject=kwargs.pop("subject", "Press stops"),
        description=kwargs.pop("description", "It stops."),
        team=world.team,
        **kwargs,
    )


@pytest.fixture
def conversation(world):
    """The customer's description, a reply with attachments (one name carrying markup), a
    message without author, one by a person whose name carries markup, one whose body is only
    whitespace, and the customer's own reply last."""
    ticket = file_ticket(world, description=f"Belt squeaks {HOSTILE}\nsecond line")
    reply = services.ticket_reply(actor=world.agent, ticket=ticket, body="Grease the bearings.")
    services._save_attachments(
        reply,
        [
            SimpleUploadedFile("photo.jpg", b"x" * 2048),
            SimpleUploadedFile("notes.txt", b"y"),
            SimpleUploadedFile("big.pdf", b"z" * 1_500_000),
        ],
    )
    reply.attachments.filter(original_name="notes.txt").update(original_name=f"{HOSTILE}.txt")
    MessageFactory(ticket=ticket, author=None, kind=Message.Kind.REPLY, body="From the system")
    hostile = UserFactory(roles=["Support agent"], first_name=HOSTILE, last_name="Colleague")
    MessageFactory(ticket=ticket, author=hostile, kind=Message.Kind.REPLY, body="  \n")
    MessageFactory(ticket=ticket, author=world.customer, body="  Thanks!  ")
    messages = list(
        ticket.messages.select_related("author").prefetch_related("attachments").order_by("pk")
    )
    return ticket, messages


@pytest.mark.parametrize("language", ["en", "de"])
@pytest.mark.parametrize("viewer", ["customer", "agent"])
def test_conversation_writes_what_the_template_wrote(world, conversation, language, viewer):
    ticket, messages = conversation
    context = {"conversation": messages, "ticket": ticket, "user": getattr(world, viewer)}
    with translation.override(language):
        expected = old("conversation", **context)
        written = new("{% portal_conversation conversation ticket %}", **context)
    assert squeezed(written) == squeezed(expected)
    assert written.count("<article ") == len(messages)
    assert written.count('id="latest"') == 1


def test_conversation_marks_mine_and_the_latest(world, conversation):
    ticket, messages = conversation
    written = new(
        "{% portal_conversation conversation ticket %}",
        conversation=messages,
        ticket=ticket,
        user=world.customer,
    )
    articles = re.findall(r"<article [^>]*>", written)
    assert articles[0] == '<article class="chat-message mine" aria-label="Your message">'
    assert (
        articles[1] == '<article class="chat-message theirs" aria-label="Message from Agnes Agent">'
    )
    assert articles[2] == '<article class="chat-message theirs" aria-label="Message from System">'
    assert articles[-1] == (
        '<article class="chat-message mine" id="latest" aria-label="Your message">'
    )
    assert "<strong>You</strong>" in written and "<span> · Description</span>" in written
    url = reverse(
        "portal:attachment-download", args=[ticket.number, messages[1].attachments.first().pk]
    )
    assert f'<a href="{url}" download>' in written
    assert "(2.0\xa0KB)" in written and "(1.4\xa0MB)" in written


def test_conversation_in_german(world, conversation):
    ticket, messages = conversation
    with translation.override("de"):
        written = new(
            "{% portal_conversation conversation ticket %}",
            conversation=messages,
            ticket=ticket,
            user=world.customer,
        )
    assert 'aria-label="Ihre Nachricht"' in written
    assert 'aria-label="Nachricht von Agnes Agent"' in written
    assert "<strong>Sie</strong>" in written and "<span> · Beschreibung</span>" in written
    assert "(2,0\xa0KB)" in written


def test_conversation_escapes_what_users_wrote(world, conversation):
    ticket, messages = conversation
    written = new(
        "{% portal_conversation conversation ticket %}",
        conversation=messages,
        ticket=ticket,
        user=world.customer,
    )
    assert "<script>" not in written
    assert f"Belt squeaks {ESCAPED}\nsecond line" in written  # the body
    assert f"<strong>{ESCAPED} Colleague</strong>" in written  # the author
    assert f'aria-label="Message from {ESCAPED} Colleague"' in written
    assert f"{ESCAPED}.txt</a>" in written  # the attachment's name
    assert '<div class="chat-body"></div>' in written  # only whitespace: spaceless
    assert '<div class="chat-body">  Thanks!  </div>' in written  # text keeps its spaces


@pytest.mark.parametrize("language", ["en", "de"])
def test_an_empty_conversation_and_history_say_so(world, language):
    ticket = SimpleNamespace(number=100001)
    context = {"conversation": [], "history": [], "ticket": ticket, "user": world.customer}
    with translation.override(language):
        assert squeezed(new("{% portal_conversation conversation ticket %}", **context)) == (
            squeezed(old("conversation", **context))
        )
        assert squeezed(new("{% portal_history history %}", **context)) == squeezed(
            old("history", **context)
        )
    assert "No messages yet." in new("{% portal_conversation conversation ticket %}", **context)


@pytest.fixture
def history(world):
    """The public kinds of event, from people and from nobody, with values carrying markup, and
    kinds the portal writes by their label."""
    ticket = file_ticket(world)
    services.ticket_set_status(
        actor=world.agent, ticket=ticket, status=TicketStatus.objects.get(name="Closed")
    )
    services.ticket_set_status(
        actor=world.agent, ticket=ticket, status=TicketStatus.objects.get(name="New")
    )
    TicketEvent.objects.create(
        ticket=ticket, kind=TicketEvent.Kind.STATUS_CHANGED, old_value=HOSTILE, new_value="New"
    )
    TicketEvent.objects.create(ticket=ticket, kind=TicketEvent.Kind.CREATED, new_value=HOSTILE)
    TicketEvent.objects.create(ticket=ticket, kind=TicketEvent.Kind.CREATED, actor=world.agent)
    TicketEvent.objects.create(ticket=ticket, kind=TicketEvent.Kind.TAKEN, new_value="Agnes")
    TicketEvent.objects.create(ticket=ticket, kind="unknown_kind")
    return list(ticket.events.select_related("actor").order_by("pk"))


@pytest.mark.parametrize("language", ["en", "de"])
def test_history_writes_what_the_template_wrote(world, history, language):
    assert {event.kind for event in history} >= set(TicketEvent.PUBLIC_KINDS)
    with translation.override(language):
        expected = old("history", history=history)
        written = new("{% portal_history history %}", history=history, user=world.customer)
        texts = [public_event_text(event) for event in history]
        expected_texts = [old("event_text", event=event) for event in history]
    assert spaced(written) == spaced(expected)
    assert texts == expected_texts
    assert ESCAPED in written and "<script>" not in written


def test_history_in_german(world, history):
    with translation.override("de"):
        written = new("{% portal_history history %}", history=history, user=world.customer)
    assert "Ticket erstellt (New)" in written
    assert "Status von „New“ auf „Closed“ geändert" in written


@pytest.mark.parametrize("language", ["en", "de"])
@pytest.mark.parametrize("show_address_link", [True, False])
def test_details_write_what_the_template_wrote(world, language, show_address_link):
    machine = MachineFactory(address=world.site, name=f"Press {HOSTILE}")
    contact = ContactPersonFactory(address=world.site, first_name=HOSTILE)
    world.site.name = HOSTILE
    world.site.save()
    world.team.name = f"Team {HOSTILE}"
    world.team.save()
    full = file_ticket(
        world,
        actor=world.agent,
        machine=machine,
        contact_person=contact,
        recipient=world.agent,
        priority="urgent",
    )
    services.ticket_set_status(
        actor=world.agent, ticket=full, status=TicketStatus.objects.get(name="Closed")
    )
    plain = file_ticket(world, priority="low")
    Ticket.objects.filter(pk=plain.pk).update(created_by=None)
    nobody = file_ticket(world, priority="high")
    Ticket.objects.filter(pk=nobody.pk).update(responsible_team=None, responsible_user=world.agent)
    tickets = Ticket.objects.select_related(
        "status", "type", "address", "machine", "contact_person", "created_by"
    ).select_related("responsible_team", "responsible_user")
    for ticket in tickets:
        for show_machine in {False, bool(ticket.machine)}:
            context = {
                "ticket": ticket,
                "show_address_link": show_address_link,
                "show_machine": show_machine,
                "user": world.customer,
            }
            with translation.override(language):
                expected = old("details", **context)
                written = new(
                    "{% portal_ticket_details ticket show_address_link show_machine %}", **context
                )
            assert squeezed(written) == squeezed(expected)
            assert "<script>" not in written


def test_details_link_the_address_and_the_machine(world):
    machine = MachineFactory(address=world.site)
    ticket = file_ticket(world, machine=machine)
    written = new(
        "{% portal_ticket_details ticket True True %}", ticket=ticket, user=world.customer
    )
    assert f'<a href="{reverse("portal:address-detail", args=[world.site.pk])}">' in written
    assert f'<a href="{reverse("portal:machine-detail", args=[machine.pk])}">' in written


# ---------------------------------------------------------------------------------------------
# The page itself.


@pytest.mark.parametrize("language", ["en", "de"])
def test_the_page_shows_what_the_writers_write(client, world, conversation, language):
    ticket, messages = conversation
    world.customer.language = language
    world.customer.save()
    client.force_login(world.customer)
    html = client.get(reverse("portal:ticket-detail", args=[ticket.number])).content.decode()
    assert html.count('id="latest"') == 1
    assert html.count("<article ") == len(messages)
    attachment = messages[1].attachments.order_by("pk").first()
    assert reverse("portal:attachment-download", args=[ticket.number, attachment.pk]) in html
    label = {"en": "Your message", "de": "Ihre Nachricht"}[language]
    assert f'<article class="chat-message mine" id="latest" aria-label="{label}">' in html
    filed = {"en": "Ticket filed", "de": "Ticket erstellt"}[language]
    assert f'<li class="mb-2">\n{filed} (' in html
    assert f'href="{reverse("portal:address-detail", args=[world.site.pk])}"' in html
    assert "<script>alert" not in html and ESCAPED in html
