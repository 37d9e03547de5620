"""Writing repeated page parts in Python, exactly as the templates wrote them.

Lists and conversations are written by template tags in Python (tickets_extras,
desk_extras): the template language spent about 0.3 ms per row on nodes, variable look-ups
and filters (docs/performance.md). What those tags share lives here: escaping, date and number
formatting done the way the template filters do it, with the formats looked up once per page,
links whose URL pattern is reversed once per process, and select controls written as Django's
Select widget writes them. No access decisions here.
"""

import functools
import html
from pathlib import Path

from django import forms
from django.conf import settings
from django.forms.boundfield import BoundField
from django.forms.renderers import DjangoTemplates, TemplatesSetting
from django.template import Context, TemplateDoesNotExist
from django.template.base import render_value_in_context
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import dateformat, formats
from django.utils.functional import Promise
from django.utils.safestring import SafeData, mark_safe
from django.utils.timezone import get_current_timezone, is_naive


def escape(text):
    """django.utils.html.escape without its lazy-string wrapper (the same five entities)."""
    return html.escape(str(text))


@functools.lru_cache(maxsize=64)
def date_formatter(format_string):
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


class PageWriter:
    """What every Python-written part of a page shares: the template context's time zone, date
    formats and number localisation, looked up once, and the writing of those values exactly
    as the template filters write them."""

    def __init__(self, context):
        self.viewer = context.get("user")
        self.use_tz = settings.USE_TZ if context.use_tz is None else context.use_tz
        self.use_l10n = context.use_l10n
        self.timezone = get_current_timezone() if self.use_tz else None
        self.date_format = date_formatter(
            formats.get_format("SHORT_DATE_FORMAT", use_l10n=self.use_l10n)
        )
        self.datetime_format = date_formatter(
            formats.get_format("SHORT_DATETIME_FORMAT", use_l10n=self.use_l10n)
        )
        # Numbers are written as the template writes them (localized: grouped only where the
        # settings ask for it); when that is plain str(), skip the call per number.
        self.plain_numbers = formats.localize(1234567, use_l10n=self.use_l10n) == "1234567"

    def number(self, value):
        return str(value) if self.plain_numbers else escape(formats.localize(value, self.use_l10n))

    def time(self, value, date_format):
        """`<time datetime="{{ value|date:'c' }}">{{ value|date:date_format }}</time>`."""
        if value is None:
            return '<time datetime=""></time>'
        if self.timezone is not None and not is_naive(value):
            value = value.astimezone(self.timezone)  # template_localtime, zone looked up once
        return f'<time datetime="{escape(value.isoformat())}">{escape(date_format(value))}</time>'


# Links: the URL pattern reversed once per process (per URL conf and script prefix), then
# filled with the numbers. A desk workspace links to a dozen of them, a list to one per row.

_NUMBER_PLACEHOLDER = 918273645  # stands for a number in the reversed URL


@functools.lru_cache(maxsize=64)
def _url_pieces(name, arity, urlconf, prefix):
    args = [_NUMBER_PLACEHOLDER + index for index in range(arity)]
    rest = reverse(name, args=args, urlconf=urlconf)
    pieces = []
    for arg in args:
        head, rest = rest.split(str(arg), 1)
        pieces.append(head)
    return (*pieces, rest)


def number_url(name, *numbers):
    """`reverse(name, args=numbers)` for integer arguments (ticket numbers, primary keys)."""
    pieces = _url_pieces(
        name, len(numbers), get_urlconf() or settings.ROOT_URLCONF, get_script_prefix()
    )
    parts = [pieces[0]]
    for number, piece in zip(numbers, pieces[1:], strict=True):
        parts += [str(int(number)), piece]
    return "".join(parts)


# Select controls: a <select> written in one pass over its choices. Django's Select builds a
# context with a dict of attributes per option (`create_option`), and the renderer then writes
# each option (portal/forms.py, or Django's three templates); the desk queue's eleven selects
# took 4-6 ms of a request that way, 2 ms written here (docs/performance.md). `select_html`
# writes what Django's templates write, from the same values, and leaves every widget,
# renderer or value it is not sure about to Django.

_SELECT = forms.Select.template_name
_OPTION = forms.Select.option_template_name
_ATTRS = "django/forms/widgets/attrs.html"
# Django's widget templates, whose output is written here.
_DJANGO_WIDGET_TEMPLATES = Path(forms.__file__).parent / "templates"
# The methods whose results the writer reproduces: a widget that overrides any of them is
# written from its own context (or by Django).
_SELECT_METHODS = ("get_context", "optgroups", "create_option", "format_value", "build_attrs")
_PLAIN_CONTEXT = Context(autoescape=True)  # how a widget template writes a value: read only


def _text(value):
    """`{{ value }}` in a widget template (localized, escaped unless safe)."""
    if type(value) is str:
        return html.escape(value)
    if isinstance(value, Promise):  # a lazy translation: the template only casts it to str
        value = str(value)
        return value if isinstance(value, SafeData) else html.escape(value)
    return render_value_in_context(value, _PLAIN_CONTEXT)


def _value(value):
    """`{{ value|stringformat:'s' }}`: the filter keeps a safe string safe."""
    return str(value) if isinstance(value, SafeData) else html.escape(str(value))


def _attrs(attrs):
    """attrs.html: False leaves an attribute out, True writes its name alone."""
    return "".join(
        f" {_text(name)}" if value is True else f' {_text(name)}="{_value(value)}"'
        for name, value in attrs.items()
        if value is not False
    )


@functools.lru_cache(maxsize=16)
def _renders_django_templates(renderer, names=(_SELECT, _OPTION, _ATTRS)):
    """Whether `renderer` writes widgets with Django's own templates `names` (not overridden
    ones, not another template language)."""
    if not isinstance(renderer, DjangoTemplates | TemplatesSetting):
        return False
    for name in names:
        try:
            origin = Path(renderer.get_template(name).template.origin.name)
        except (AttributeError, TypeError, TemplateDoesNotExist):
            return False
        if origin != _DJANGO_WIDGET_TEMPLATES / name:
            return False
    return True


@functools.lru_cache(maxsize=64)
def _select_kind(widget_class):
    """How a widget class is written: "plain" for Django's Select and SelectMultiple (and
    subclasses that change nothing they render); "context" for a Select with its own context
    (options, selection) rendered by select.html; None for anything else (Django renders it)."""
    if not issubclass(widget_class, forms.Select):
        return None
    if widget_class.render is not forms.Widget.render or (
        widget_class._render is not forms.Widget._render
    ):
        return None
    same = all(
        getattr(widget_class, name) is getattr(forms.Select, name) for name in _SELECT_METHODS
    )
    return "plain" if same and widget_class.choices is forms.Select.choices else "context"


def select_html(field, attrs=None):
    """`str(field)` (`field.as_widget(attrs=attrs)` with `attrs`) for a field shown as a select:
    the same markup, attributes and selected options, with the choices read once (a model
    choice field's query runs once, as with Django). Fields that are not selects, custom
    select widgets with their own templates, and renderers with other templates are rendered
    by Django, and so are bound fields of another class (their own `as_widget`)."""
    widget = field.field.widget
    kind = _select_kind(type(widget))
    form_field = field.field
    renderer = field.form.renderer
    if (
        kind is None
        or type(field).as_widget is not BoundField.as_widget
        or type(field).__str__ is not BoundField.__str__
        or form_field.show_hidden_initial
        or widget.template_name != _SELECT
        or not _renders_django_templates(renderer)
    ):
        return str(field) if attrs is None else field.as_widget(attrs=attrs)
    if form_field.localize:
        widget.is_localized = True
    # BoundField.as_widget, step by step: the same attributes and value.
    attrs = field.build_widget_attrs(attrs or {}, widget)
    if field.auto_id and "id" not in widget.attrs:
        attrs.setdefault("id", field.auto_id)
    value = field.value()
    if kind == "plain" and _plain_options(widget):
        return _plain_select(widget, renderer, field.html_name, value, attrs)
    return _select_from_context(widget, renderer, widget.get_context(field.html_name, value, attrs))


def _plain_options(widget):
    """Whether options are written as Django's Select writes them."""
    return (
        widget.option_template_name == _OPTION
        and not widget.option_inherits_attrs
        and widget.checked_attribute == {"selected": True}
    )


def _plain_select(widget, renderer, name, value, extra_attrs):
    """Django's Select.get_context and select.html in one pass over the choices."""
    attrs = widget.build_attrs(widget.attrs, extra_attrs)
    if widget.allow_multiple_selected:
        attrs["multiple"] = True
    if any(callable(attr) for attr in attrs.values()):  # the template would call it
        return widget.render(name, value, attrs=extra_attrs, renderer=renderer)
    chosen = widget.format_value(value)
    multiple = widget.allow_multiple_selected
    has_selected = False

    def written(options):
        nonlocal has_selected
        for subvalue, sublabel in options:
            selected = (not has_selected or multiple) and str(subvalue) in chosen
            has_selected |= selected
            if callable(subvalue) or callable(sublabel):
                yield "\n  " + _django_option(renderer, subvalue, sublabel, selected)
            else:
                yield _option(subvalue, " selected" if selected else "", sublabel)

    def groups():
        for option_value, option_label in widget.choices:
            if isinstance(option_label, list | tuple):
                yield option_value, written(option_label)
            else:
                plain = "" if option_value is None else option_value
                yield None, written(((plain, option_label),))

    return _select(name, _attrs(attrs), groups())


def _select(name, attrs, groups):
    """select.html: `attrs` written already; `groups` of (optgroup label or None, the options'
    markup), written in order (their options may be generated as they are written)."""
    parts = [f'<select name="{_text(name)}"{attrs}>']
    for label, options in groups:
        if label:
            parts.append(f'\n  <optgroup label="{_text(label)}">')
        parts.extend(options)
        if label:
            parts.append("\n  </optgroup>")
    parts.append("\n</select>")
    return mark_safe("".join(parts))  # noqa: S308 - every value and label escaped


def _option(value, attrs, label):
    """select_option.html with its attributes written already."""
    return f'\n  <option value="{_value(value)}"{attrs}>{_text(label)}</option>\n'


def _django_option(renderer, value, label, selected):
    """One option through select_option.html, as select.html includes it."""
    option = {"value": value, "label": label, "attrs": {"selected": True} if selected else {}}
    return renderer.get_template(_OPTION).render({"widget": option})


def _select_from_context(widget, renderer, context):
    """select.html written from the widget's context (its own options and selection)."""
    data = context["widget"]
    options = [option for _name, group, _index in data["optgroups"] for option in group]
    if any(
        option.get("template_name") != _OPTION
        or callable(option["value"])
        or callable(option["label"])
        or any(callable(attr) for attr in option["attrs"].values())
        for option in options
    ) or any(callable(attr) for attr in data["attrs"].values()):
        return widget._render(widget.template_name, context, renderer)
    groups = (
        (label, (_option(opt["value"], _attrs(opt["attrs"]), opt["label"]) for opt in group))
        for label, group, _index in data["optgroups"]
    )
    return _select(data["name"], _attrs(data["attrs"]), groups)


# Django's text and hidden inputs, written as its templates write them (input.html, attrs.html).
_INPUTS = {forms.TextInput, forms.HiddenInput}
_INPUT_TEMPLATES = tuple(
    sorted(
        {widget.template_name for widget in _INPUTS} | {"django/forms/widgets/input.html", _ATTRS}
    )
)


def input_html(field):
    """`str(field)` for a field shown as Django's text or hidden input, written in Python; any
    other widget, bound field or renderer is left to Django."""
    widget = field.field.widget
    if (
        type(widget) not in _INPUTS
        or type(field) is not BoundField
        or field.field.show_hidden_initial
        or field.field.localize
        or not _renders_django_templates(field.form.renderer, _INPUT_TEMPLATES)
    ):
        return str(field)
    # BoundField.as_widget and Input.get_context, step by step: the same attributes and value.
    attrs = field.build_widget_attrs({}, widget)
    if field.auto_id and "id" not in widget.attrs:
        attrs.setdefault("id", field.auto_id)
    data = widget.get_context(field.html_name, field.value(), attrs)["widget"]
    if any(callable(value) for value in data["attrs"].values()):  # the template would call it
        return str(field)
    value = data["value"]
    value = "" if value is None else f' value="{_value(value)}"'
    return mark_safe(  # noqa: S308 - every value escaped
        f'<input type="{_text(data["type"])}" name="{_text(data["name"])}"'
        f"{value}{_attrs(data['attrs'])}>"
    )
