"""Badges written for every row of ticket lists (no access decisions here). Filters rather than
included templates: an include per cell was a large part of a list's rendering time
(docs/performance.md)."""

from django import template
from django.utils.html import format_html

from tickets.models import Priority

register = template.Library()


@register.filter
def status_badge(status):
    """A ticket status as a badge: closed grey, the default status blue, the others cyan."""
    if status.is_closed:
        tone = "text-bg-secondary"
    elif status.is_default:
        tone = "text-bg-primary"
    else:
        tone = "text-bg-info"
    return format_html('<span class="badge {}">{}</span>', tone, status)


@register.filter
def priority_badge(ticket):
    """The portal's priority: urgent and high as badges, the others as quiet text."""
    label = ticket.get_priority_display()
    if ticket.priority == Priority.URGENT:
        return format_html('<span class="badge text-bg-danger">{}</span>', label)
    if ticket.priority == Priority.HIGH:
        return format_html('<span class="badge text-bg-warning">{}</span>', label)
    return format_html('<span class="text-body-secondary">{}</span>', label)
