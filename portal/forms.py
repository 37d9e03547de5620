"""The form renderer: Django's, with <select> widgets rendered in Python.

Django renders a select through a template that includes a second template for every option;
a desk page with its filter and bulk-action forms renders several hundred options, and those
includes were a third of the page's time (docs/performance.md). `FormRenderer` produces the
same markup as Django's `select.html`, `select_option.html` and `attrs.html` (same escaping,
same attributes, same order) directly; every other template renders as before. Widgets whose
option template is not Django's own keep the templates.
"""

from django.forms.renderers import DjangoTemplates
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe

SELECT = "django/forms/widgets/select.html"
OPTION = "django/forms/widgets/select_option.html"


def _attrs(attrs):
    """Django's attrs.html: False leaves an attribute out, True writes its name alone."""
    return "".join(
        f" {conditional_escape(name)}"
        if value is True
        else f' {conditional_escape(name)}="{conditional_escape(str(value))}"'
        for name, value in attrs.items()
        if value is not False
    )


def _option(option):
    return format_html(
        '<option value="{}"{}>{}</option>',
        str(option["value"]),
        mark_safe(_attrs(option["attrs"])),  # noqa: S308 - every part escaped by _attrs
        option["label"],
    )


def render_select(widget):
    """The markup of Django's select.html for the widget context `widget`."""
    parts = [format_html('<select name="{}"', widget["name"]), _attrs(widget["attrs"]), ">"]
    for group_name, options, _index in widget["optgroups"]:
        if group_name:
            parts.append(format_html('\n  <optgroup label="{}">', group_name))
        for option in options:
            parts += ["\n  ", _option(option), "\n"]  # the option template ends in a newline
        if group_name:
            parts.append("\n  </optgroup>")
    parts.append("\n</select>")
    return "".join(parts)


class FormRenderer(DjangoTemplates):
    def render(self, template_name, context, request=None):
        widget = context.get("widget") if template_name == SELECT else None
        if widget is not None and all(
            option.get("template_name") == OPTION
            for _group, options, _index in widget["optgroups"]
            for option in options
        ):
            return render_select(widget)
        return super().render(template_name, context, request)
