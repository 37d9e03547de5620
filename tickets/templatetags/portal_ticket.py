"""The portal ticket page's conversation, history and details, written in Python (no access
decisions here: the view chose the messages, the events and the flags).

An included template per message and per event, with its translations and date filters, was
about half of the page's template time and grew with the ticket (docs/performance.md). Here
the translations and date formats are looked up once per page and the attachment link's
pattern once per process. The markup is what tickets/partials/message.html, the history loop
and the details list of tickets/ticket_detail.html wrote (tests/test_portal_ticket_writer.py
compares them); every value from a user is escaped.
"""

from django import template
from django.template.defaultfilters import filesizeformat
from django.utils.html import strip_spaces_between_tags
from django.utils.safestring import mark_safe
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from portal.writers import PageWriter, escape, number_url
from tickets.models import Message, TicketEvent
from tickets.templatetags.tickets_extras import priority_badge

register = template.Library()

_DESCRIPTION = Message.Kind.DESCRIPTION
_EventKind = TicketEvent.Kind


def _writer(context):
    """One writer for the page's three parts: the time zone and formats looked up once."""
    render_context = context.render_context
    if _Writer not in render_context:
        render_context[_Writer] = _Writer(context)
    return render_context[_Writer]


@register.simple_tag(takes_context=True)
def portal_conversation(context, messages, ticket):
    """Every message of `messages` as a chat `<article>` ("mine" for the viewer's, `latest` on
    the last one), attachments linked through `ticket`; a line saying so when there are none."""
    return _writer(context).conversation(messages, ticket)


@register.simple_tag(takes_context=True)
def portal_history(context, events):
    """Every event of `events` as an `<li>`: what happened, when, by whom; a line saying so
    when there are none."""
    return _writer(context).history(events)


@register.simple_tag(takes_context=True)
def portal_ticket_details(context, ticket, show_address_link, show_machine):
    """The `<dt>`/`<dd>` pairs of the details card: status, type, priority, address (linked
    when `show_address_link`), machine (when `show_machine`), who it was sent to and filed by,
    the contact person and the dates."""
    return _writer(context).details(ticket, show_address_link, show_machine)


class _Writer(PageWriter):
    def __init__(self, context):
        super().__init__(context)
        self.viewer_pk = None if self.viewer is None else self.viewer.pk
        self.system = escape(_("System"))
        self.you = _("You")  # translations are written as they are, like {% translate %}
        self.own_label = _("Your message")
        self.other_label = _("Message from %(author)s")
        self.description = "<span> · " + _("Description") + "</span>"

    def conversation(self, messages, ticket):
        messages = list(messages)
        if not messages:
            return mark_safe(  # noqa: S308 - a translation, like {% translate %}
                '<p class="text-body-secondary">' + _("No messages yet.") + "</p>"
            )
        number, last = ticket.number, len(messages) - 1
        # The template wrote each message inside {% spaceless %}: the same for values that are
        # only whitespace between two tags.
        return mark_safe(  # noqa: S308 - every value escaped
            strip_spaces_between_tags(
                "".join(
                    self.message(message, number, index == last)
                    for index, message in enumerate(messages)
                )
            )
        )

    def message(self, message, ticket_number, latest):
        author_id, author = message.author_id, message.author
        own = author_id == self.viewer_pk
        mine = bool(author_id) and own  # a message without author is never "mine"
        name = self.system if author is None else escape(author)
        label = self.own_label if own else self.other_label % {"author": name}
        parts = [
            f'<article class="chat-message {"mine" if mine else "theirs"}"',
            ' id="latest"' if latest else "",
            f' aria-label="{label}"><div class="chat-meta mb-1"><strong>',
            self.you if mine else name,
            "</strong><span> · </span>",
            self.time(message.created_at, self.datetime_format),
            self.description if message.kind == _DESCRIPTION else "",
            f'</div><div class="chat-body">{escape(message.body)}</div>',
        ]
        attachments = message.attachments.all()
        if attachments:
            parts.append('<ul class="list-unstyled chat-meta mt-2 mb-0">')
            for attachment in attachments:
                url = number_url("portal:attachment-download", ticket_number, attachment.pk)
                parts.append(
                    f'<li><a href="{escape(url)}" download><i class="bi bi-paperclip" '
                    f'aria-hidden="true"></i> {escape(attachment.original_name)}</a>'
                    f'<span class="ms-1">({escape(filesizeformat(attachment.size))})</span></li>'
                )
            parts.append("</ul>")
        parts.append("</article>")
        return "".join(parts)

    def history(self, events):
        items = [
            # The text stands between line breaks, as in the template (not between tags).
            f'<li class="mb-2">\n{public_event_text(event)}\n<div class="text-body-secondary">'
            f"{self.time(event.created_at, self.datetime_format)}"
            f"{'' if event.actor is None else ' · ' + escape(event.actor)}</div>\n</li>"
            for event in events
        ]
        if not items:
            items.append(f'<li class="text-body-secondary">{_("No history yet.")}</li>')
        return mark_safe("".join(items))  # noqa: S308 - every value escaped

    def details(self, ticket, show_address_link, show_machine):
        def item(term, description):
            return f'<dt class="col-5">{term}</dt><dd class="col-7">{description}</dd>'

        def time(value):
            return self.time(value, self.datetime_format)

        address = escape(ticket.address)
        if show_address_link:
            url = escape(number_url("portal:address-detail", ticket.address.pk))
            address = f'<a href="{url}">{address}</a>'
        team, person = ticket.responsible_team, ticket.responsible_user
        items = [
            item(_("Status"), escape(ticket.status)),
            item(_("Type"), escape(ticket.type)),
            item(_("Priority"), priority_badge(ticket)),
            item(_("Address"), address),
        ]
        if show_machine:
            url = escape(number_url("portal:machine-detail", ticket.machine.pk))
            items.append(item(_("Machine"), f'<a href="{url}">{escape(ticket.machine)}</a>'))
        sent_to = "" if team is None else escape(team)
        if team and person:
            sent_to += ", "
        sent_to += "" if person is None else escape(person)
        items += [
            item(_("Sent to"), sent_to),
            item(_("Filed by"), escape(ticket.created_by or "—")),
        ]
        if ticket.contact_person:
            items.append(item(_("Contact person"), escape(ticket.contact_person)))
        items += [
            item(_("Created"), time(ticket.created_at)),
            item(_("Updated"), time(ticket.updated_at)),
        ]
        if ticket.closed_at:
            items.append(item(_("Closed"), time(ticket.closed_at)))
        return mark_safe("".join(items))  # noqa: S308 - every value escaped


def public_event_text(event):
    """What happened, in the current language, as HTML (values escaped), for the events a
    customer sees: what tickets/partials/event_text.html writes, with its msgids."""
    kind = event.kind
    if kind == _EventKind.CREATED:
        text = _("Ticket filed")
        return f"{text} ({escape(event.new_value)})" if event.new_value else text
    if kind == _EventKind.STATUS_CHANGED:
        return _("Status changed from “%(old)s” to “%(new)s”") % {
            "old": escape(event.old_value),
            "new": escape(event.new_value),
        }
    if kind == _EventKind.CLOSED:
        return _("Ticket closed")
    if kind == _EventKind.REOPENED:
        return _("Ticket reopened")
    return escape(capfirst(event.get_kind_display()))
