"""The workspace's conversation, history and other open tickets, written in Python
(`desk_extras.conversation_messages`, `history_items`, `other_open_tickets`): the same markup as
the templates they replace, and user content escaped. Also `desk_url` against `reverse`, and the
desk's people list against the shape it replaced."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Exists, OuterRef, Q
from django.template import Context, Engine, Template, engines
from django.urls import reverse
from django.utils import translation

from access import policy
from accounts.models import User
from desk.choices import DeskChoices
from desk.templatetags.desk_extras import desk_url
from tests.desk.conftest import status
from tests.factories import MessageFactory
from tickets import services
from tickets.models import Message, Ticket, TicketEvent

pytestmark = pytest.mark.django_db

# desk/partials/message.html, included once per message before the messages moved to Python.
TEMPLATE_MESSAGE = """{% load i18n %}{% spaceless %}
{% if message.kind == "internal_note" %}
<article class="desk-message desk-message-internal" id="message-{{ message.pk }}" aria-label="{% blocktranslate with author=message.author|default:_('System') %}Internal note by {{ author }}{% endblocktranslate %}">
  <div class="desk-internal-label"><i class="bi bi-eye-slash-fill" aria-hidden="true"></i> {% translate "Internal note — not visible to the customer" %}</div>
{% elif message.author.is_external %}
<article class="desk-message desk-message-customer" id="message-{{ message.pk }}" aria-label="{% blocktranslate with author=message.author %}Message from the customer {{ author }}{% endblocktranslate %}">
{% else %}
<article class="desk-message desk-message-staff" id="message-{{ message.pk }}" aria-label="{% blocktranslate with author=message.author|default:_('System') %}Reply to the customer by {{ author }}{% endblocktranslate %}">
{% endif %}
  <div class="desk-message-meta mb-1">
    <strong>{{ message.author|default:_("System") }}</strong>
    {% if message.author.is_external %}<span class="badge text-bg-light border ms-1">{% translate "Customer" %}</span>{% elif message.kind != "internal_note" %}<span class="badge text-bg-light border ms-1">{% translate "Visible to the customer" %}</span>{% endif %}
    <span> · </span>
    <time datetime="{{ message.created_at|date:'c' }}">{{ message.created_at|date:"SHORT_DATETIME_FORMAT" }}</time>
    {% if message.kind == "description" %}<span> · {% translate "Description" %}</span>{% endif %}
  </div>
  <div class="desk-message-body">{{ message.body }}</div>
  {% if message.attachments.all %}
  <ul class="list-unstyled desk-message-meta mt-2 mb-0">
    {% for attachment in message.attachments.all %}
    <li><a href="{% url 'desk:attachment-download' ticket.number attachment.pk %}" download><i class="bi bi-paperclip" aria-hidden="true"></i> {{ attachment.original_name }}</a><span class="ms-1">({{ attachment.size|filesizeformat }})</span></li>
    {% endfor %}
  </ul>
  {% endif %}
</article>
{% endspaceless %}
"""  # noqa: E501

# desk/partials/event_text.html and the timeline item of ticket_detail.html around it.
TEMPLATE_EVENT_TEXT = """{% load i18n desk_extras %}{% if event.kind == "created" %}{% translate "Ticket filed" %}{% if event.new_value %} ({{ event.new_value }}){% endif %}{% elif event.kind == "status_changed" %}{% blocktranslate with old=event.old_value new=event.new_value %}Status changed from “{{ old }}” to “{{ new }}”{% endblocktranslate %}{% elif event.kind == "closed" %}{% translate "Ticket closed" %}{% elif event.kind == "reopened" %}{% translate "Ticket reopened" %}{% elif event.kind == "taken" %}{% if event.old_value %}{% blocktranslate with old=event.old_value new=event.new_value %}Taken by {{ new }} (was {{ old }}){% endblocktranslate %}{% else %}{% blocktranslate with new=event.new_value %}Taken by {{ new }}{% endblocktranslate %}{% endif %}{% elif event.kind == "forwarded" %}{% blocktranslate with old=event.old_value|default:"—" new=event.new_value %}Forwarded from {{ old }} to {{ new }}{% endblocktranslate %}{% elif event.kind == "type_changed" %}{% blocktranslate with old=event.old_value new=event.new_value %}Type changed from “{{ old }}” to “{{ new }}”{% endblocktranslate %}{% elif event.kind == "priority_changed" %}{% blocktranslate with old=event.old_value|priority_label new=event.new_value|priority_label %}Priority changed from “{{ old }}” to “{{ new }}”{% endblocktranslate %}{% else %}{{ event.get_kind_display|capfirst }}{% endif %}"""  # noqa: E501
TEMPLATE_EVENT = """{% load i18n %}
          <li class="desk-timeline-item desk-event-{{ event.kind }}">
            <div>{% include "event_text" %}</div>
            <div class="text-body-secondary"><time datetime="{{ event.created_at|date:'c' }}">{{ event.created_at|date:"SHORT_DATETIME_FORMAT" }}</time>{% if event.actor %} · {{ event.actor }}{% endif %}{% if not event.is_public %} · <span class="desk-internal-tag">{% translate "internal" %}</span>{% endif %}</div>
          </li>"""  # noqa: E501

TEMPLATE_OTHER_OPEN = """{% load desk_extras %}{% for other in other_open %}
          <li class="d-flex justify-content-between gap-2 mb-1"><a class="text-truncate" href="{% url 'desk:ticket-detail' other.number %}">#{{ other.number }} {{ other.subject }}</a>{{ other.status|status_badge }}</li>
          {% endfor %}"""  # noqa: E501

HOSTILE = "<script>alert(\"x\")</script> & 'quoted'"
ESCAPED = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#x27;quoted&#x27;"


def render(source, **context):
    return Template(source).render(Context(context))


def squeezed(html):
    """Whitespace between tags, and at the end of an element's text, is not shown."""
    return re.sub(r"\s+<", "<", re.sub(r">\s+<", "><", html)).strip()


@pytest.fixture
def conversation(world, file_ticket):
    """A ticket with a customer's description, a staff reply with attachments, an internal note,
    a message without author and one whose author and attachment carry markup."""
    ticket = file_ticket(actor=world.customer, description=f"Belt squeaks {HOSTILE}")
    reply = services.ticket_reply(actor=world.agent, ticket=ticket, body="Grease the bearings.")
    services._save_attachments(
        reply,
        [
            SimpleUploadedFile("photo.jpg", b"x" * 2048),
            SimpleUploadedFile("notes.txt", b"y"),
        ],
    )
    reply.attachments.filter(original_name="notes.txt").update(original_name=f"{HOSTILE}.txt")
    services.ticket_add_internal_note(actor=world.agent, ticket=ticket, body="Known issue")
    MessageFactory(ticket=ticket, author=None, kind=Message.Kind.REPLY, body="  \n")
    world.colleague.first_name = HOSTILE
    world.colleague.save()
    MessageFactory(ticket=ticket, author=world.colleague, kind=Message.Kind.INTERNAL_NOTE)
    messages = list(
        ticket.messages.select_related("author").prefetch_related("attachments").order_by("pk")
    )
    return ticket, messages


@pytest.mark.parametrize("language", ["en", "de"])
def test_conversation_writes_what_the_template_wrote(world, conversation, language):
    ticket, messages = conversation
    with translation.override(language):
        expected = "".join(
            render(TEMPLATE_MESSAGE, message=message, ticket=ticket).strip() for message in messages
        )
        written = render(
            "{% load desk_extras %}{% conversation_messages messages ticket %}",
            messages=messages,
            ticket=ticket,
            user=world.agent,
        )
    assert squeezed(written) == squeezed(expected)
    assert written.count("<article ") == len(messages)


def test_conversation_escapes_what_users_wrote(world, conversation):
    ticket, messages = conversation
    written = render(
        "{% load desk_extras %}{% conversation_messages messages ticket %}",
        messages=messages,
        ticket=ticket,
        user=world.agent,
    )
    assert "<script>" not in written
    assert f"Belt squeaks {ESCAPED}" in written  # the body
    assert f"<strong>{ESCAPED} Colleague</strong>" in written  # the author
    assert f'aria-label="Internal note by {ESCAPED} Colleague"' in written
    assert f"{ESCAPED}.txt</a>" in written  # the attachment's name
    assert "<strong>System</strong>" in written  # no author


@pytest.fixture
def history(world, file_ticket):
    """Every kind of event, from people and from nobody, with values carrying markup."""
    ticket = file_ticket(actor=world.customer)
    services.ticket_take(actor=world.agent, ticket=ticket)
    services.ticket_forward(actor=world.agent, ticket=ticket, recipient=world.colleague)
    services.ticket_change_priority(actor=world.agent, ticket=ticket, priority="urgent")
    services.ticket_change_type(actor=world.agent, ticket=ticket, ticket_type=world.question)
    services.ticket_set_status(actor=world.agent, ticket=ticket, status=status("Closed"))
    services.ticket_set_status(actor=world.agent, ticket=ticket, status=status("New"))
    TicketEvent.objects.create(
        ticket=ticket, kind=TicketEvent.Kind.STATUS_CHANGED, old_value=HOSTILE, new_value="New"
    )
    TicketEvent.objects.create(ticket=ticket, kind=TicketEvent.Kind.FORWARDED, new_value=HOSTILE)
    TicketEvent.objects.create(ticket=ticket, kind=TicketEvent.Kind.TAKEN, new_value="Ada Agent")
    TicketEvent.objects.create(ticket=ticket, kind="unknown_kind")
    return list(ticket.events.select_related("actor"))


@pytest.mark.parametrize("language", ["en", "de"])
def test_history_writes_what_the_template_wrote(world, history, language):
    kinds = {event.kind for event in history}
    assert kinds >= {kind.value for kind in TicketEvent.Kind}  # every kind is compared
    with translation.override(language):
        expected = "".join(
            Template(TEMPLATE_EVENT, engine=_engine()).render(Context({"event": event}))
            for event in history
        )
        written = render(
            "{% load desk_extras %}{% history_items history %}", history=history, user=world.agent
        )
    assert squeezed(written) == squeezed(expected)
    assert ESCAPED in written and "<script>" not in written


def _engine():
    """A template engine that knows the event text under the name "event_text"."""
    return Engine(
        libraries=engines["django"].engine.libraries,
        loaders=[("django.template.loaders.locmem.Loader", {"event_text": TEMPLATE_EVENT_TEXT})],
    )


def test_other_open_tickets_write_what_the_template_wrote(world, file_ticket):
    file_ticket(HOSTILE)
    file_ticket("Second")
    tickets = list(Ticket.objects.select_related("status").order_by("pk"))
    context = {"other_open": tickets, "user": world.agent}
    expected = render(TEMPLATE_OTHER_OPEN, **context)
    written = render("{% load desk_extras %}{% other_open_tickets other_open %}", **context)
    assert squeezed(written) == squeezed(expected)
    assert ESCAPED in written and "<script>" not in written


def test_desk_url_is_reverse():
    assert desk_url("desk:queue") == reverse("desk:queue")
    assert desk_url("desk:ticket-take", 1042) == reverse("desk:ticket-take", args=[1042])
    assert desk_url("desk:attachment-download", 7, 918273645) == reverse(
        "desk:attachment-download", args=[7, 918273645]
    )


# ---------------------------------------------------------------------------------------------
# The people list: the same people and flags as the shape it replaced.


def old_people(user):
    forwardable = policy.users_forwardable(User.objects.all(), user).filter(pk=OuterRef("pk"))
    holds_tickets = Exists(Ticket.objects.filter(responsible_user=OuterRef("pk")))
    return [
        (person.pk, person.forwardable)
        for person in User.objects.filter(is_external=False)
        .filter(Q(pk__in=policy.desk_users(User.objects.all()).values("pk")) | Q(holds_tickets))
        .annotate(forwardable=Exists(forwardable))
        .order_by("last_name", "first_name", "email")
    ]


@pytest.mark.parametrize("who", ["agent", "reader", "no_rights", "admin_only", "customer"])
def test_people_are_the_same_as_before(world, file_ticket, who):
    # A ticket held by an internal user outside the desk keeps them in the list.
    ticket = file_ticket()
    Ticket.objects.filter(pk=ticket.pk).update(responsible_user=world.no_rights)
    user = getattr(world, who)
    people = DeskChoices(user).people
    assert [(person.pk, person.forwardable) for person in people] == old_people(user)
    assert world.no_rights.pk in {person.pk for person in people}
    forwardable = [person.pk for person in people if person.forwardable]
    assert [person.pk for person in DeskChoices(user).forward_people] == forwardable
    choices = DeskChoices(user)
    assert choices.people  # read first: the forward list is taken from it
    assert [person.pk for person in choices.forward_people] == forwardable
