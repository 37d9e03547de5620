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
def form_field(field, wrapper=""):
    """One form field the Bootstrap 5 way (label, control, errors, help text), written in
    Python: crispy-forms took 8–9 ms of a ticket page's 25 ms of CPU for its two small forms
    and a third of the ticket list's rendering for its filter form (docs/performance.md). Used
    where a page's forms are few and plain; crispy stays for the rest. `wrapper` puts the field
    in a `<div>` with these classes (a grid column). Non-field errors are the page's to show."""
    widget = field.field.widget
    if isinstance(widget, forms.CheckboxInput):
        html = _checkbox(field)
    else:
        html = _labelled_control(field, widget)
    if wrapper:
        return format_html('<div class="{}">{}</div>', wrapper, html)
    return html


def _errors(field):
    return format_html_join(
        "",
        '<div class="invalid-feedback d-block"><strong>{}</strong></div>',
        ((error,) for error in field.errors),
    )


def _help(field, help_id):
    if not field.help_text:
        return ""
    return format_html('<div class="form-text" id="{}">{}</div>', help_id, field.help_text)


def _labelled_control(field, widget):
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
        _errors(field),
        _help(field, help_id),
    )


def _checkbox(field):
    """A check box with its label after it (Bootstrap's form-check)."""
    classes = [field.field.widget.attrs.get("class", ""), "form-check-input"]
    if field.errors:
        classes.append("is-invalid")
    help_id = f"{field.auto_id}_helptext"
    attrs = {"class": " ".join(c for c in classes if c)}
    if field.help_text:
        attrs["aria-describedby"] = help_id
    return format_html(
        '<div class="mb-3"><div id="div_{}" class="form-check">{}'
        '<label for="{}" class="form-check-label">{}</label>{}{}</div></div>',
        field.auto_id,
        field.as_widget(attrs=attrs),
        field.id_for_label,
        field.label,
        _errors(field),
        _help(field, help_id),
    )
