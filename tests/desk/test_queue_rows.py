"""The queue's rows, written in Python (`desk_extras.queue_rows`): the same markup as the template
they replace, and user content escaped."""

import re

import pytest
from django.template import Context, Template
from django.utils import translation

from tickets.models import Priority, Ticket

pytestmark = pytest.mark.django_db

# The row as queue.html wrote it before the rows moved to Python.
TEMPLATE_ROWS = """{% load i18n desk_extras %}{% for ticket in tickets %}
<tr class="desk-row-{{ ticket.priority }}">
  {% if can_bulk %}<td><input class="form-check-input js-select-row" type="checkbox" name="tickets" value="{{ ticket.number }}" id="select-{{ ticket.number }}" aria-label="{% blocktranslate with number=ticket.number %}Select ticket {{ number }}{% endblocktranslate %}"></td>{% endif %}
  <td class="text-nowrap"><a href="{% url 'desk:ticket-detail' ticket.number %}">#{{ ticket.number }}</a></td>
  <td class="desk-subject"><a class="link-body-emphasis fw-semibold" href="{% url 'desk:ticket-detail' ticket.number %}">{{ ticket.subject }}</a></td>
  <td>{{ ticket.status|status_badge }}</td>
  <td>{{ ticket|priority_badge }}</td>
  <td class="small">{{ ticket.type }}</td>
  <td class="small"><span class="text-body-secondary">{{ ticket.address.number }}</span> {{ ticket.address.name }}</td>
  <td class="small">{% responsible ticket %}</td>
  <td class="small text-nowrap"><time datetime="{{ ticket.created_at|date:'c' }}">{{ ticket.created_at|date:"SHORT_DATE_FORMAT" }}</time></td>
  <td class="small text-nowrap"><time datetime="{{ ticket.updated_at|date:'c' }}">{{ ticket.updated_at|date:"SHORT_DATETIME_FORMAT" }}</time></td>
</tr>
{% endfor %}"""  # noqa: E501


def render(source, **context):
    return Template(source).render(Context(context))


def squeezed(html):
    """Whitespace between tags is not shown; the rest must be the same."""
    return re.sub(r">\s+<", "><", html).strip()


@pytest.fixture
def rows(world, file_ticket):
    """Tickets in every priority, held by the viewer, a colleague, a team or both."""
    file_ticket("<script>alert(\"x\")</script> & 'quoted'", recipient=world.agent)
    file_ticket("Colleague's", recipient=world.colleague, priority=Priority.URGENT)
    file_ticket("Team's", priority=Priority.HIGH, ticket_type=world.question)
    file_ticket("Service", team="service", priority=Priority.LOW, address=world.other)
    file_ticket("Colleague's alone", team=None, recipient=world.colleague)
    return list(
        Ticket.objects.select_related(
            "status", "type", "address", "responsible_user", "responsible_team"
        ).order_by("pk")
    )


@pytest.mark.parametrize("language", ["en", "de"])
@pytest.mark.parametrize("can_bulk", [True, False])
def test_queue_rows_write_what_the_template_wrote(world, rows, language, can_bulk):
    context = {"tickets": rows, "can_bulk": can_bulk, "user": world.agent}
    with translation.override(language):
        expected = render(TEMPLATE_ROWS, **context)
        written = render("{% load desk_extras %}{% queue_rows tickets can_bulk %}", **context)
    assert squeezed(written) == squeezed(expected)
    assert written.count("<tr ") == len(rows)
    assert ("js-select-row" in written) is can_bulk


def test_queue_rows_escape_the_subject(world, rows):
    written = render(
        "{% load desk_extras %}{% queue_rows tickets True %}", tickets=rows, user=world.agent
    )
    assert "<script>" not in written
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#x27;quoted&#x27;" in written
    assert "<strong>me</strong>" in written  # the viewer's own ticket


def test_the_queue_page_shows_the_rows(client, world, rows):
    client.force_login(world.agent)
    response = client.get("/desk/", {"queue": "all"})
    html = response.content.decode()
    assert "&lt;script&gt;alert" in html and "<script>alert" not in html
    for ticket in rows:
        assert f'id="select-{ticket.number}"' in html
        assert f'href="/desk/tickets/{ticket.number}/">#{ticket.number}</a>' in html


def test_queue_rows_without_a_viewer_name_everybody(world, rows):
    """Without a user in the context nobody is "me": names are written instead."""
    written = render("{% load desk_extras %}{% queue_rows tickets False %}", tickets=rows)
    assert "<strong>me</strong>" not in written
    assert "Ada Agent" in written
