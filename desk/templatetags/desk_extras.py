"""Display helpers for desk templates (no access decisions here)."""

from django import template

from tickets.models import Priority

register = template.Library()


@register.filter
def priority_label(value):
    """The translated label of a priority value ("high" -> "high"/"hoch"); history events
    store values, so they read in the viewer's language."""
    try:
        return Priority(value).label
    except ValueError:
        return value
