"""Display helpers for desk templates (no access decisions here)."""

import functools
import html

from django import template
from django.conf import settings
from django.urls import reverse
from django.utils import dateformat, formats
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe
from django.utils.timezone import get_current_timezone, is_naive
from django.utils.translation import gettext as _

from tickets.models import Priority
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
# translations, the ticket URL's pattern and the date formats are looked up once per page, and
# cells that repeat across rows (status, priority, type, responsible) are written once each.
# The markup is the template's (tests/desk/test_queue_rows.py compares the two).

_NUMBER_PLACEHOLDER = 918273645  # stands for the ticket number in the reversed URL


def _escape(text):
    """django.utils.html.escape without its lazy-string wrapper (the same five entities)."""
    return html.escape(str(text))


@functools.lru_cache(maxsize=64)
def _date_formatter(format_string):
    """`format_string` (Django's date format syntax) parsed once: a function writing a datetime
    as `django.utils.dateformat.format` does, by the same `DateFormat` methods, without parsing
    the format again for every value."""
    plan = []
    for index, piece in enumerate(dateformat.re_formatchars.split(str(format_string))):
        if index % 2:
            plan.append((True, piece))
        elif piece:
            plan.append((False, dateformat.re_escaped.sub(r"\1", piece)))

    def format_value(value):
        written = dateformat.DateFormat(value)
        return "".join(str(getattr(written, piece)()) if spec else piece for spec, piece in plan)

    return format_value


@register.simple_tag(takes_context=True)
def queue_rows(context, tickets, selectable):
    """The `<tr>` of every ticket in `tickets`; `selectable` adds the bulk-selection box."""
    return QueueRows(context, selectable).render(tickets)


class QueueRows:
    def __init__(self, context, selectable):
        self.viewer = context.get("user")
        self.use_tz = settings.USE_TZ if context.use_tz is None else context.use_tz
        self.use_l10n = context.use_l10n
        url = reverse("desk:ticket-detail", args=[_NUMBER_PLACEHOLDER])
        head, tail = url.rsplit(str(_NUMBER_PLACEHOLDER), 1)
        self.url_head, self.url_tail = _escape(head), _escape(tail)
        self.select_label = _("Select ticket %(number)s") if selectable else None
        self.timezone = get_current_timezone() if self.use_tz else None
        self.date_format = _date_formatter(
            formats.get_format("SHORT_DATE_FORMAT", use_l10n=self.use_l10n)
        )
        self.datetime_format = _date_formatter(
            formats.get_format("SHORT_DATETIME_FORMAT", use_l10n=self.use_l10n)
        )
        # Numbers are written as the template writes them (localized: grouped only where the
        # settings ask for it); when that is plain str(), skip the call per number.
        self.plain_numbers = formats.localize(1234567, use_l10n=self.use_l10n) == "1234567"
        self.cells = {}

    def render(self, tickets):
        return mark_safe("\n".join(self.row(ticket) for ticket in tickets))  # noqa: S308

    def cached(self, key, make):
        try:
            return self.cells[key]
        except KeyError:
            value = self.cells[key] = make()
            return value

    def number(self, value):
        return str(value) if self.plain_numbers else _escape(formats.localize(value, self.use_l10n))

    def time(self, value, date_format):
        """`<time datetime="{{ value|date:'c' }}">{{ value|date:date_format }}</time>`."""
        if value is None:
            return '<time datetime=""></time>'
        if self.timezone is not None and not is_naive(value):
            value = value.astimezone(self.timezone)  # template_localtime, zone looked up once
        return f'<time datetime="{_escape(value.isoformat())}">{_escape(date_format(value))}</time>'

    def row(self, ticket):
        number = self.number(ticket.number)
        url = f"{self.url_head}{ticket.number}{self.url_tail}"
        priority = ticket.priority
        address = ticket.address
        cells = [f'<tr class="desk-row-{_escape(priority)}">']
        if self.select_label is not None:
            label = _escape(self.select_label % {"number": number})
            cells.append(
                '<td><input class="form-check-input js-select-row" type="checkbox" '
                f'name="tickets" value="{number}" id="select-{number}" aria-label="{label}"></td>'
            )
        cells += [
            f'<td class="text-nowrap"><a href="{url}">#{number}</a></td>',
            f'<td class="desk-subject"><a class="link-body-emphasis fw-semibold" href="{url}">'
            f"{_escape(ticket.subject)}</a></td>",
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
            + self.cached(("type", ticket.type_id), lambda: _escape(ticket.type))
            + "</td>",
            f'<td class="small"><span class="text-body-secondary">{_escape(address.number)}</span> '
            f"{_escape(address.name)}</td>",
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
