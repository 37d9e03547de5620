"""Display helpers for desk templates (no access decisions here)."""

from django import template
from django.template.defaultfilters import filesizeformat, floatformat
from django.utils.html import conditional_escape, format_html, strip_spaces_between_tags
from django.utils.safestring import mark_safe
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from portal.writers import PageWriter, escape, input_html, number_url
from tickets.models import Message, Priority, TicketEvent
from tickets.templatetags.tickets_extras import status_badge

register = template.Library()


@register.filter
def priority_label(value):
    """The translated label of a priority value ("high" -> "high"/"hoch"); history events
    store values, so they read in the viewer's language."""
    try:
        return Priority(value).label
    except ValueError:
        return value


# The badges and the responsible cell are written for every row of a queue page (50 rows), so
# they are filters rather than included templates (an include per cell was a large part of the
# page's rendering time, docs/performance.md). Same markup as the templates they replace.


register.filter("status_badge", status_badge)  # the same badge as in the portal


@register.filter
def priority_badge(ticket):
    """The ticket's priority: urgent and high as badges, low and normal as quiet text."""
    return _priority_badge(ticket.priority, ticket.get_priority_display())


def _priority_badge(priority, label):
    if priority == Priority.URGENT:
        return format_html(
            '<span class="badge text-bg-danger">'
            '<i class="bi bi-exclamation-octagon" aria-hidden="true"></i> {}</span>',
            label,
        )
    if priority == Priority.HIGH:
        return format_html('<span class="badge text-bg-warning">{}</span>', label)
    if priority == Priority.LOW:
        return format_html('<span class="small text-body-tertiary">{}</span>', label)
    return format_html('<span class="small text-body-secondary">{}</span>', label)


@register.simple_tag(takes_context=True)
def responsible(context, ticket):
    """Who holds the ticket: the person ("me" for the viewer) and the team, or a dash."""
    return _responsible(ticket, context.get("user"))


def _responsible(ticket, viewer):
    parts = []
    if ticket.responsible_user_id:
        name = (
            format_html("<strong>{}</strong>", _("me"))
            if viewer is not None and ticket.responsible_user_id == viewer.pk
            else conditional_escape(ticket.responsible_user)
        )
        parts.append(
            format_html(
                '<span class="text-nowrap"><i class="bi bi-person" aria-hidden="true"></i> {}'
                "</span>",
                name,
            )
        )
    if ticket.responsible_team_id:
        parts.append(
            format_html(
                '<span class="text-nowrap text-body-secondary">'
                '<i class="bi bi-people" aria-hidden="true"></i> {}</span>',
                ticket.responsible_team,
            )
        )
    return mark_safe("<br>".join(parts)) if parts else "—"  # noqa: S308 - parts are escaped


# ---------------------------------------------------------------------------------------------
# The queue's rows, written in Python: the template took ~20 ms for a page of 50 rows (about
# 1,300 nodes, a translation, two URL reversals and four date filters per row). Here the
# translations and the date formats are looked up once per page, the ticket URL's pattern once
# per process (`desk_url`), and cells that repeat across rows (status, priority, type,
# responsible) are written once each. The markup is the template's (tests/desk/
# test_queue_rows.py compares the two).


@register.simple_tag(takes_context=True)
def queue_rows(context, tickets, selectable):
    """The `<tr>` of every ticket in `tickets`; `selectable` adds the bulk-selection box."""
    return QueueRows(context, selectable).render(tickets)


_SAMPLE_NUMBER = 918273645  # stands for a ticket number in a reversed URL


class QueueRows(PageWriter):
    def __init__(self, context, selectable):
        super().__init__(context)
        self.select_label = _("Select ticket %(number)s") if selectable else None
        self.cells = {}
        # The ticket link around its number, escaped once per page (`desk_url` per row looked
        # the URL conf and the script prefix up fifty times).
        link = desk_url("desk:ticket-detail", _SAMPLE_NUMBER).split(str(_SAMPLE_NUMBER))
        self.link = tuple(escape(piece) for piece in link) if len(link) == 2 else None

    def render(self, tickets):
        return mark_safe("\n".join(self.row(ticket) for ticket in tickets))  # noqa: S308

    def cached(self, key, make):
        try:
            return self.cells[key]
        except KeyError:
            value = self.cells[key] = make()
            return value

    def row(self, ticket):
        number = self.number(ticket.number)
        if self.link is None:
            url = escape(desk_url("desk:ticket-detail", ticket.number))
        else:
            url = f"{self.link[0]}{int(ticket.number)}{self.link[1]}"
        priority = ticket.priority
        address = ticket.address
        cells = [f'<tr class="desk-row-{escape(priority)}">']
        if self.select_label is not None:
            label = escape(self.select_label % {"number": number})
            cells.append(
                '<td><input class="form-check-input js-select-row" type="checkbox" '
                f'name="tickets" value="{number}" id="select-{number}" aria-label="{label}"></td>'
            )
        cells += [
            f'<td class="text-nowrap"><a href="{url}">#{number}</a></td>',
            f'<td class="desk-subject"><a class="link-body-emphasis fw-semibold" href="{url}">'
            f"{escape(ticket.subject)}</a></td>",
            "<td>"
            + self.cached(("status", ticket.status_id), lambda: status_badge(ticket.status))
            + "</td>",
            "<td>"
            + self.cached(
                ("priority", priority),
                lambda: _priority_badge(priority, ticket.get_priority_display()),
            )
            + "</td>",
            '<td class="small">'
            + self.cached(("type", ticket.type_id), lambda: escape(ticket.type))
            + "</td>",
            f'<td class="small"><span class="text-body-secondary">{escape(address.number)}</span> '
            f"{escape(address.name)}</td>",
            '<td class="small">'
            + self.cached(
                ("responsible", ticket.responsible_user_id, ticket.responsible_team_id),
                lambda: _responsible(ticket, self.viewer),
            )
            + "</td>",
            '<td class="small text-nowrap">'
            + self.time(ticket.created_at, self.date_format)
            + "</td>",
            '<td class="small text-nowrap">'
            + self.time(ticket.updated_at, self.datetime_format)
            + "</td>",
            "</tr>",
        ]
        return "".join(cells)


# ---------------------------------------------------------------------------------------------
# The rest of the queue page's repeated parts, written in Python like its rows: the queue links
# with their counts (a translation with a number filter each), the sortable column headings,
# and the few text and hidden inputs (Django renders each through three widget templates). The
# markup is the template's (tests/desk/test_queue_cost.py compares them).


@register.simple_tag(takes_context=True)
def queue_links(context, queues):
    """The side bar's link to each queue with its count ("1,000+" past the cap), the shown
    queue marked; `queues` as QueueView builds them."""
    writer = PageWriter(context)
    more_than = _("more than %(limit)s tickets")
    links = []
    for queue in queues:
        active = queue["active"]
        if queue["capped"]:
            limit = conditional_escape(floatformat(queue["limit"], "g"))
            label = more_than % {"limit": limit}
            shown = f"{limit}+"
        else:
            count = queue["count"]
            shown = writer.number(count)
            label = ngettext("%(counter)s ticket", "%(counter)s tickets", count) % {
                "counter": shown
            }
        if active:
            state, current, badge = " active", ' aria-current="page"', "text-bg-light"
        else:
            state, current, badge = "", "", "text-bg-secondary"
        url, help_text, key, name = (
            conditional_escape(queue[item]) for item in ("url", "help", "key", "label")
        )
        links.append(
            '<a class="list-group-item list-group-item-action d-flex justify-content-between '
            f'align-items-center{state}" href="{url}" title="{help_text}"{current} '
            f'id="queue-{key}"><span>{name}</span>'
            f'<span class="badge rounded-pill {badge}" aria-label="{label}">{shown}</span></a>'
        )
    return mark_safe("\n".join(links))  # noqa: S308 - every value escaped


_SORTED = {
    "asc": (
        ' aria-sort="ascending"',
        ' <i class="bi bi-caret-up-fill" aria-hidden="true"></i>',
    ),
    "desc": (
        ' aria-sort="descending"',
        ' <i class="bi bi-caret-down-fill" aria-hidden="true"></i>',
    ),
}


@register.simple_tag
def sort_headers(columns):
    """The `<th>` of each column: a link that sorts by it (the sorted one says which way), or
    its label alone; `columns` as QueueView builds them."""
    cells = []
    for column in columns:
        label = conditional_escape(column["label"])
        aria_sort, caret = _SORTED.get(column.get("direction"), ("", ""))
        if column.get("url"):
            label = (
                f'<a class="link-body-emphasis text-decoration-none" '
                f'href="{conditional_escape(column["url"])}">{label}{caret}</a>'
            )
        cells.append(f'<th scope="col" class="text-nowrap"{aria_sort}>\n  {label}\n</th>')
    return mark_safe("\n".join(cells))  # noqa: S308 - every value escaped


@register.simple_tag
def input_control(field):
    """`{{ field }}` for a text or hidden input, written in Python (portal.writers)."""
    return input_html(field)


# Links to a ticket's pages, from the URL pattern reversed once per process.
desk_url = number_url  # the desk's name for it (templates: {% desk_url %})
register.simple_tag(desk_url, name="desk_url")


# ---------------------------------------------------------------------------------------------
# The workspace's conversation, history and the address's other open tickets, written in Python
# like the queue's rows: a template include per message and per event, with its translations and
# date filters, grew with the ticket. The markup is the templates' (tests/desk/test_workspace_
# writers.py compares them); every value from a user is escaped.

_NOTE, _DESCRIPTION = Message.Kind.INTERNAL_NOTE, Message.Kind.DESCRIPTION


@register.simple_tag(takes_context=True)
def conversation_messages(context, messages, ticket):
    """Every message of `messages` as an `<article>` (attachments linked through `ticket`)."""
    return Conversation(context, ticket).render(messages)


class Conversation(PageWriter):
    def __init__(self, context, ticket):
        super().__init__(context)
        self.ticket_number = ticket.number
        self.system = escape(_("System"))
        self.note_label = _("Internal note by %(author)s")
        self.customer_label = _("Message from the customer %(author)s")
        self.staff_label = _("Reply to the customer by %(author)s")
        self.note_banner = (
            '<div class="desk-internal-label"><i class="bi bi-eye-slash-fill" aria-hidden="true">'
            "</i> " + _("Internal note — not visible to the customer") + "</div>"
        )
        badge = '<span class="badge text-bg-light border ms-1">{}</span>'
        self.customer_badge = badge.format(_("Customer"))
        self.visible_badge = badge.format(_("Visible to the customer"))
        self.description = "<span> · " + _("Description") + "</span>"

    def render(self, messages):
        # The template wrote each message inside {% spaceless %}: the same for values that are
        # only whitespace between two tags.
        return mark_safe(  # noqa: S308 - every value escaped
            strip_spaces_between_tags("".join(self.message(message) for message in messages))
        )

    def message(self, message):
        author, kind = message.author, message.kind
        name = self.system if author is None else escape(author)
        external = author is not None and author.is_external
        if kind == _NOTE:
            css, label = "internal", self.note_label
        elif external:
            css, label = "customer", self.customer_label
        else:
            css, label = "staff", self.staff_label
        parts = [
            f'<article class="desk-message desk-message-{css}" '
            f'id="message-{self.number(message.pk)}" aria-label="{label % {"author": name}}">',
            self.note_banner if kind == _NOTE else "",
            f'<div class="desk-message-meta mb-1"><strong>{name}</strong>',
            self.customer_badge if external else self.visible_badge if kind != _NOTE else "",
            "<span> · </span>",
            self.time(message.created_at, self.datetime_format),
            self.description if kind == _DESCRIPTION else "",
            f'</div><div class="desk-message-body">{escape(message.body)}</div>',
        ]
        attachments = message.attachments.all()
        if attachments:
            parts.append('<ul class="list-unstyled desk-message-meta mt-2 mb-0">')
            for attachment in attachments:
                url = desk_url("desk:attachment-download", self.ticket_number, attachment.pk)
                url = escape(url)
                parts.append(
                    f'<li><a href="{url}" download><i class="bi bi-paperclip" aria-hidden="true">'
                    f"</i> {escape(attachment.original_name)}</a>"
                    f'<span class="ms-1">({escape(filesizeformat(attachment.size))})</span></li>'
                )
            parts.append("</ul>")
        parts.append("</article>")
        return "".join(parts)


@register.simple_tag(takes_context=True)
def history_items(context, events):
    """Every event of `events` as a timeline `<li>`: what happened, when, by whom."""
    return History(context).render(events)


_EventKind = TicketEvent.Kind


class History(PageWriter):
    def __init__(self, context):
        super().__init__(context)
        self.internal = ' · <span class="desk-internal-tag">' + _("internal") + "</span>"

    def render(self, events):
        return mark_safe("".join(self.event(event) for event in events))  # noqa: S308

    def event(self, event):
        actor = f" · {escape(event.actor)}" if event.actor is not None else ""
        return (
            f'<li class="desk-timeline-item desk-event-{escape(event.kind)}">'
            f"<div>{event_text(event)}</div>"
            '<div class="text-body-secondary">'
            f"{self.time(event.created_at, self.datetime_format)}{actor}"
            f"{'' if event.is_public else self.internal}</div></li>"
        )


def event_text(event):
    """What happened, in the viewer's language (desk/partials/event_text.html before)."""
    kind, old, new = event.kind, event.old_value, event.new_value
    if kind == _EventKind.CREATED:
        text = _("Ticket filed")  # translations are written as they are, like {% translate %}
        return f"{text} ({escape(new)})" if new else text
    if kind == _EventKind.STATUS_CHANGED:
        return _("Status changed from “%(old)s” to “%(new)s”") % _values(old, new)
    if kind == _EventKind.CLOSED:
        return _("Ticket closed")
    if kind == _EventKind.REOPENED:
        return _("Ticket reopened")
    if kind == _EventKind.TAKEN:
        if old:
            return _("Taken by %(new)s (was %(old)s)") % _values(old, new)
        return _("Taken by %(new)s") % _values(old, new)
    if kind == _EventKind.FORWARDED:
        return _("Forwarded from %(old)s to %(new)s") % _values(old or "—", new)
    if kind == _EventKind.TYPE_CHANGED:
        return _("Type changed from “%(old)s” to “%(new)s”") % _values(old, new)
    if kind == _EventKind.PRIORITY_CHANGED:
        return _("Priority changed from “%(old)s” to “%(new)s”") % _values(
            priority_label(old), priority_label(new)
        )
    return escape(capfirst(event.get_kind_display()))


def _values(old, new):
    return {"old": escape(old), "new": escape(new)}


@register.simple_tag(takes_context=True)
def other_open_tickets(context, tickets):
    """The `<li>` of each ticket: its number and subject linked, and its status."""
    writer = PageWriter(context)
    return mark_safe(  # noqa: S308 - every value escaped
        "".join(
            '<li class="d-flex justify-content-between gap-2 mb-1"><a class="text-truncate" '
            f'href="{escape(desk_url("desk:ticket-detail", ticket.number))}">'
            f"#{writer.number(ticket.number)} {escape(ticket.subject)}</a>"
            f"{status_badge(ticket.status)}</li>"
            for ticket in tickets
        )
    )
