"""Display helpers for desk templates (no access decisions here)."""

from django import template
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe
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
    label = ticket.get_priority_display()
    if ticket.priority == Priority.URGENT:
        return format_html(
            '<span class="badge text-bg-danger">'
            '<i class="bi bi-exclamation-octagon" aria-hidden="true"></i> {}</span>',
            label,
        )
    if ticket.priority == Priority.HIGH:
        return format_html('<span class="badge text-bg-warning">{}</span>', label)
    if ticket.priority == Priority.LOW:
        return format_html('<span class="small text-body-tertiary">{}</span>', label)
    return format_html('<span class="small text-body-secondary">{}</span>', label)


@register.simple_tag(takes_context=True)
def responsible(context, ticket):
    """Who holds the ticket: the person ("me" for the viewer) and the team, or a dash."""
    parts = []
    if ticket.responsible_user_id:
        viewer = context.get("user")
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
