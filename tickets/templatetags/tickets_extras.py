"""Badges written for every row of ticket lists (no access decisions here). Filters rather than
included templates: an include per cell was a large part of a list's rendering time
(docs/performance.md)."""

from django import forms, template
from django.template.defaulttags import querystring
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext

from portal.writers import PageWriter, number_url, select_html
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
        select_html(field, attrs) if control == "form-select" else field.as_widget(attrs=attrs),
        _errors(field),
        _help(field, help_id),
    )


@register.simple_tag
def select_control(field):
    """`{{ field }}` for a field shown as a select, written in Python (`select_html`): Django
    renders every option through two templates. Other fields are rendered by Django."""
    return select_html(field)


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


# ---------------------------------------------------------------------------------------------
# Rows and pagers written in Python: per row, the template language spent about 0.3 ms on
# nodes, variable look-ups and filters; a page of 25 rows and a pager over 40 pages were half
# of the list's rendering time (docs/performance.md). The output is what the templates wrote.

_PORTAL_ROW = (
    '<tr><td class="text-nowrap"><a href="{}">#{}</a></td>'
    '<td><a class="link-body-emphasis" href="{}">{}</a>{}</td>'
    "<td>{}</td><td>{}</td><td>{}</td>"
    '<td class="text-nowrap">{}</td><td class="text-nowrap">{}</td></tr>'
)


@register.simple_tag(takes_context=True)
def portal_ticket_rows(context, tickets):
    """The portal ticket list's table rows: number, subject (with a badge for high and urgent
    priority), status, type, address, created and updated."""
    writer = PageWriter(context)
    rows = []
    for ticket in tickets:
        url = number_url("portal:ticket-detail", ticket.number)
        urgent = ticket.priority in (Priority.HIGH, Priority.URGENT)
        rows.append(
            format_html(
                _PORTAL_ROW,
                url,
                ticket.number,
                url,
                ticket.subject,
                format_html(" {}", priority_badge(ticket)) if urgent else "",
                status_badge(ticket.status),
                ticket.type,
                ticket.address,
                mark_safe(writer.time(ticket.created_at, writer.date_format)),  # noqa: S308
                mark_safe(writer.time(ticket.updated_at, writer.datetime_format)),  # noqa: S308
            )
        )
    return mark_safe("".join(rows))  # noqa: S308 - each row went through format_html


def page_window(number, last):
    """The page numbers a pager shows around page `number` of `last`: the first, the last and
    two on each side of the current one; None marks a gap (shown once as "…")."""
    shown = []
    for page in range(1, last + 1):
        if page in (1, last) or number - 2 <= page <= number + 2:
            shown.append(page)
        elif page in (2, last - 1):
            shown.append(None)
    return shown


@register.simple_tag(takes_context=True)
def pagination(context, small=False):
    """The pager under a paginated list (Bootstrap's pagination), with links that keep the
    request's other parameters. A capped paginator ("more than 1,000") ends with a gap."""
    if not context.get("is_paginated"):
        return ""
    page, paginator = context["page_obj"], context["paginator"]

    def link(number, text, rel=""):
        rel_attr = format_html(' rel="{}"', rel) if rel else ""
        return format_html(
            '<li class="page-item"><a class="page-link" href="{}"{}>{}</a></li>',
            querystring(context, page=number),
            rel_attr,
            text,
        )

    def disabled(text):
        return format_html(
            '<li class="page-item disabled"><span class="page-link">{}</span></li>', text
        )

    items = [
        link(page.previous_page_number(), gettext("Previous"), "prev")
        if page.has_previous()
        else disabled(gettext("Previous"))
    ]
    for number in page_window(page.number, paginator.num_pages):
        if number is None:
            items.append(disabled("…"))
        elif number == page.number:
            items.append(
                format_html(
                    '<li class="page-item active" aria-current="page">'
                    '<span class="page-link">{}</span></li>',
                    number,
                )
            )
        else:
            items.append(link(number, number))
    if getattr(paginator, "capped", False):
        items.append(disabled("…"))
    items.append(
        link(page.next_page_number(), gettext("Next"), "next")
        if page.has_next()
        else disabled(gettext("Next"))
    )
    return format_html(
        '<nav aria-label="{}"><ul class="pagination flex-wrap{}">{}</ul></nav>',
        gettext("Pages"),
        " pagination-sm" if small else "",
        mark_safe("".join(items)),  # noqa: S308 - each item went through format_html
    )
