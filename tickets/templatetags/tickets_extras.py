"""Badges written for every row of ticket lists (no access decisions here). Filters rather than
included templates: an include per cell was a large part of a list's rendering time
(docs/performance.md)."""

from django import forms, template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

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


@register.simple_tag
def form_field(field):
    """One form field the Bootstrap 5 way (label, control, errors, help text), written in
    Python: crispy-forms took 8–9 ms of a ticket page's 25 ms of CPU for its two small forms
    (docs/performance.md). Used where a page's forms are few and plain; crispy stays for the
    rest. Non-field errors are the page's to show."""
    widget = field.field.widget
    control = "form-select" if isinstance(widget, forms.Select) else "form-control"
    classes = [widget.attrs.get("class", ""), control, "is-invalid" if field.errors else ""]
    attrs = {"class": " ".join(c for c in classes if c)}
    help_id = f"{field.auto_id}_helptext"
    if field.help_text:
        attrs["aria-describedby"] = help_id
    required = mark_safe('<span class="asteriskField">*</span>') if field.field.required else ""
    return format_html(
        '<div class="mb-3" id="div_{}"><label for="{}" class="form-label">{}{}</label>{}{}{}</div>',
        field.auto_id,
        field.id_for_label,
        field.label,
        required,
        field.as_widget(attrs=attrs),
        format_html_join(
            "",
            '<div class="invalid-feedback d-block"><strong>{}</strong></div>',
            ((error,) for error in field.errors),
        ),
        format_html('<div class="form-text" id="{}">{}</div>', help_id, field.help_text)
        if field.help_text
        else "",
    )
