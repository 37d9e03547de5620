"""The portal dashboard's lists written in Python (no access decisions here: the view chose the
rows through the policy).

Its "recent activity" loop cost about 0.35 ms a row in the template language (a
`blocktranslate` with `timesince`, a date filter, a URL and an include per row), and
`timesince` alone about 25 µs a call, three lists of ten rows a page. The markup, texts and
msgids are the templates' (tests/test_dashboard_writer.py compares them); every value from a
user is escaped.
"""

import datetime
import unicodedata

from django import template
from django.template.defaultfilters import truncatechars
from django.utils.safestring import mark_safe
from django.utils.timesince import timesince
from django.utils.timezone import is_aware, is_naive
from django.utils.translation import gettext as _

from portal.writers import PageWriter, escape, number_url
from tickets.templatetags.portal_ticket import public_event_text
from tickets.templatetags.tickets_extras import status_badge

register = template.Library()


BODY_CHARS = 140  # a reply's text is cut to this many characters, as `truncatechars:140` cut it
_NUMBER = 918273645  # stands for a ticket number in the reversed URL


class DashboardWriter(PageWriter):
    """What the dashboard's lists share: the ticket link's pattern, and how long ago something
    happened, each worked out once per page (the writers of one page share them through the
    template's render context)."""

    def __init__(self, context):
        super().__init__(context)
        shared = context.render_context.get(DashboardWriter)
        if shared is None:
            head, tail = number_url("portal:ticket-detail", _NUMBER).split(str(_NUMBER))
            shared = (escape(head), escape(tail), TimeSince())
            context.render_context[DashboardWriter] = shared
        self.url_head, self.url_tail, self.timesince = shared

    def ticket_url(self, number):
        """`{% url 'portal:ticket-detail' number %}`, escaped."""
        return f"{self.url_head}{int(number)}{self.url_tail}"


class TimeSince:
    """Django's `timesince` for the many times of one page, each text worked out once.

    Below four weeks, `timesince` counts weeks, days, hours and minutes of the difference
    alone (months and years come from the calendar from 28 days on), so two times the same
    whole number of minutes ago give the same text: it is kept by that number. Outside that
    span, and for times in the future, every text is `timesince`'s own."""

    CALENDAR_FREE = 27 * 24 * 60 * 60  # seconds; a day's margin for clocks moved by DST

    def __init__(self):
        self.known = {}

    def __call__(self, value):
        """`timesince(value)`; ValueError and TypeError as Django raises them."""
        if not isinstance(value, datetime.datetime):
            return timesince(value)
        now = datetime.datetime.now(value.tzinfo if is_aware(value) else None)
        seconds = (now - value).total_seconds()
        if not 0 <= seconds < self.CALENDAR_FREE:
            return timesince(value, now)
        minutes = int(seconds // 60)
        text = self.known.get(minutes)
        if text is None:
            text = self.known[minutes] = timesince(value, now)
        return text


@register.simple_tag(takes_context=True)
def activity_items(context, activity):
    """The `<li>` of each item of the view's `activity` (dicts: "kind" "message" with the
    "message", or "event" with the "event"; "when"): the ticket linked, who replied and the
    start of the reply, or what happened and by whom; how long ago."""
    return RecentActivity(context).render(activity)


class RecentActivity(DashboardWriter):
    def __init__(self, context):
        super().__init__(context)
        self.system = escape(_("System"))
        self.replied = _("%(author)s replied:")
        self.ago = _("%(when)s ago")

    def render(self, activity):
        return mark_safe("".join(self.item(item) for item in activity))  # noqa: S308

    def item(self, item):
        if item["kind"] == "message":
            message = item["message"]
            ticket = message.ticket
            author = message.author
            name = self.system if author is None else escape(author)
            what = (
                f"{self.replied % {'author': name}} "
                f'<span class="text-body-secondary">{escape(_truncated(message.body))}</span>'
            )
        else:
            event = item["event"]
            ticket = event.ticket
            actor = event.actor
            what = public_event_text(event) + ("" if actor is None else f" · {escape(actor)}")
        number = ticket.number
        return (
            '<li class="list-group-item px-0"><div>'
            f'<a href="{self.ticket_url(number)}">#{self.number(number)} '
            f"{escape(ticket.subject)}</a></div>"
            f'<div class="small">{what}</div>'
            f'<div class="small text-body-secondary">{self.since(item["when"])}</div></li>'
        )

    def since(self, when):
        """`<time datetime="{{ when|date:'c' }}">{% blocktranslate with when=when|timesince %}
        {{ when }} ago{% endblocktranslate %}</time>`."""
        if not when:
            return f'<time datetime="">{self.ago % {"when": ""}}</time>'
        try:
            ago = escape(self.timesince(when))
        except (ValueError, TypeError):  # as the filter
            ago = ""
        local = when
        if self.timezone is not None and not is_naive(when):
            local = when.astimezone(self.timezone)  # template_localtime, as `date` gets it
        return f'<time datetime="{escape(local.isoformat())}">{self.ago % {"when": ago}}</time>'


def _truncated(text):
    """`truncatechars:140`; a text that fits is only normalised (NFC), as the filter does,
    without counting its characters one by one."""
    normalised = unicodedata.normalize("NFC", str(text))
    if len(normalised) <= BODY_CHARS:
        return normalised
    return truncatechars(normalised, BODY_CHARS)


@register.simple_tag(takes_context=True)
def short_ticket_list(context, tickets):
    """A short list of tickets (tickets_extras's `ticket_list_group`, written per page rather
    than per row): number and subject linked, status badge, address, type and how long ago it
    was updated."""
    writer = DashboardWriter(context)
    updated = _("updated %(when)s ago")
    badges = {}
    items = []
    for ticket in tickets:
        status_id = ticket.status_id
        badge = badges.get(status_id)
        if badge is None:
            badge = badges[status_id] = status_badge(ticket.status)
        number = ticket.number
        when = escape(updated % {"when": writer.timesince(ticket.updated_at)})
        items.append(
            '<li class="list-group-item px-0"><div class="d-flex justify-content-between gap-2">'
            f'<a class="fw-semibold text-truncate" href="{writer.ticket_url(number)}">'
            f"#{escape(number)} {escape(ticket.subject)}</a>{badge}</div>"
            f'<div class="small text-body-secondary">{escape(ticket.address)} · '
            f"{escape(ticket.type)} · {when}</div></li>"
        )
    return mark_safe(  # noqa: S308 - every value escaped
        f'<ul class="list-group list-group-flush">{"".join(items)}</ul>'
    )
