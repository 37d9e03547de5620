"""Selects written in Python (`portal.writers.select_html`, the `select_control` tag and
`form_field`): byte for byte what Django's Select widget writes, for every shape of select the
pages use and the odd ones around them, with the same queries; widgets it does not write
itself are rendered by Django."""

import re
from types import SimpleNamespace

import pytest
from django import forms
from django.db import connection
from django.forms.renderers import DjangoTemplates
from django.template import Context, Template
from django.test.signals import template_rendered
from django.test.utils import CaptureQueriesContext
from django.urls import reverse, reverse_lazy
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy, override

from desk.forms import AutocompleteSelect
from desk.forms import ModelChoiceField as DeskModelChoiceField
from portal.forms import FormRenderer
from portal.writers import select_html
from tests.factories import (
    AddressFactory,
    ExternalUserFactory,
    TeamFactory,
    TicketStatusFactory,
    TicketTypeFactory,
    UserFactory,
)
from tickets import services
from tickets.forms import offer_choices
from tickets.models import TicketStatus
from tickets.templatetags import tickets_extras

NASTY = 'A & "b" <c>'


class Called:
    def __call__(self):
        return "called <value>"

    def __str__(self):
        return "c"


class Shapes(forms.Form):
    required_with_empty = forms.ChoiceField(
        choices=[("", "---------"), ("a", "Alpha"), ("b", NASTY)]
    )
    required_without_empty = forms.ChoiceField(choices=[("a", "Alpha"), ("b", "Beta")])
    optional = forms.ChoiceField(required=False, choices=[("a", "Alpha"), (None, "nothing")])
    grouped = forms.ChoiceField(
        required=False,
        choices=[
            ("", "---"),
            (NASTY, NASTY),
            (
                'Group <&">',
                [("g1", "one"), (None, "none"), ("g2", mark_safe("<b>safe</b>"))],
            ),
            (gettext_lazy("Open"), [("g3", gettext_lazy("Closed"))]),
        ],
    )
    numbers = forms.TypedChoiceField(
        coerce=int, required=False, choices=[(1, 1234567), (2, 2.5), (3, "three")]
    )
    lazy = forms.ChoiceField(
        choices=[("o", gettext_lazy("Open")), ("c", gettext_lazy("Closed"))],
        help_text="Pick one",
        widget=forms.Select(
            attrs={
                "class": "js-autosubmit form-select",
                "data-url": reverse_lazy("portal:ticket-list"),
                "data-placeholder": gettext_lazy("All statuses"),
                "data-false": False,
                "data-true": True,
                "data-none": None,
                "data-zero": 0,
                "aria-label": NASTY,
                "data-safe": mark_safe("<i>"),
            }
        ),
    )
    duplicate = forms.ChoiceField(choices=[("a", "first"), ("a", "second")])
    disabled = forms.ChoiceField(disabled=True, required=False, choices=[("a", "A"), ("b", "B")])
    many = forms.MultipleChoiceField(
        required=False, choices=[("1", "one"), ("2", "two"), ("G", [("3", "three")])]
    )
    many_required = forms.MultipleChoiceField(choices=[("1", "one"), ("2", "two")])
    own_id = forms.ChoiceField(
        required=False, choices=[("a", "A")], widget=forms.Select(attrs={"id": "mine"})
    )
    described = forms.ChoiceField(
        required=False,
        choices=[("a", "A")],
        widget=forms.Select(attrs={"aria-describedby": "elsewhere"}),
        help_text="Help",
    )
    # A template calls what it writes: labels in a group and values are not called before.
    callable_label = forms.ChoiceField(
        required=False,
        choices=[
            ("a", lambda: "called"),
            ("G", [("b", lambda: "called <in> a group"), (Called(), "value called")]),
        ],
    )
    empty = forms.ChoiceField(required=False, choices=[])
    # Written from their own context (their options or selection differ from Select's).
    maybe = forms.NullBooleanField()
    # Rendered by Django: not selects, their own templates, or a hidden initial value.
    radio = forms.ChoiceField(required=False, choices=[("a", "A")], widget=forms.RadioSelect)
    text = forms.CharField(required=False)
    hidden_initial = forms.ChoiceField(
        required=False, choices=[("a", "A")], show_hidden_initial=True
    )
    own_option = forms.ChoiceField(
        required=False,
        choices=[("a", "A")],
        widget=type(
            "OwnOption",
            (forms.Select,),
            {"option_template_name": "django/forms/widgets/input_option.html"},
        ),
    )


INITIAL = {
    "required_with_empty": "b",
    "grouped": "g2",
    "numbers": 2,
    "many": ["1", "3"],
    "maybe": True,
    "disabled": "b",
    "hidden_initial": "a",
}
VALID = {
    "required_with_empty": "b",
    "required_without_empty": "b",
    "optional": "",
    "grouped": NASTY,
    "numbers": "1",
    "lazy": "c",
    "duplicate": "a",
    "many": ["2", "3"],
    "many_required": ["1"],
    "maybe": "false",
    "own_id": "a",
    "callable_label": "c",
    "radio": "a",
    "text": NASTY,
    "hidden_initial": "a",
}
INVALID = {
    "required_with_empty": "zzz",
    "required_without_empty": "",
    "grouped": "None",  # the string "None" matches the grouped option whose value is None
    "numbers": "x",
    "lazy": NASTY,
    "many": ["9", "1"],
    "maybe": "perhaps",
    "own_option": "b",
}
FORM_KWARGS = [
    {},
    {"prefix": "p", "auto_id": "f_%s"},
    {"auto_id": False},
    {"use_required_attribute": False},
]


def as_django(bound_field, attrs=None):
    return str(bound_field) if attrs is None else bound_field.as_widget(attrs=attrs)


def assert_written_as_django(form_class, data=None, initial=None, **kwargs):
    """Every field of the form, with and without extra attributes, with the project's renderer
    and with Django's template renderer, against Django's templates."""
    for name in form_class.base_fields:
        for attrs in (None, {"class": "form-select is-invalid", "aria-describedby": "x_help"}):
            expected = as_django(
                form_class(data, initial=initial, renderer=DjangoTemplates(), **kwargs)[name],
                attrs,
            )
            for renderer in (FormRenderer(), DjangoTemplates()):
                form = form_class(data, initial=initial, renderer=renderer, **kwargs)
                assert select_html(form[name], attrs) == expected, (name, attrs, kwargs)


@pytest.mark.parametrize("kwargs", FORM_KWARGS)
@pytest.mark.parametrize(
    ("data", "initial"), [(None, None), (None, INITIAL), (VALID, None), (INVALID, INITIAL)]
)
def test_every_shape_is_written_as_django_writes_it(data, initial, kwargs):
    assert_written_as_django(Shapes, data, initial, **kwargs)


def test_german_labels_and_localized_numbers(settings):
    settings.USE_THOUSAND_SEPARATOR = True
    with override("de"):
        assert_written_as_django(Shapes, VALID)
        html = select_html(Shapes(VALID)["numbers"])
        assert "1.234.567" in html and "2,5" in html
        assert ">Offen</option>" in select_html(Shapes()["lazy"])


def test_values_and_labels_are_escaped_and_the_selection_is_djangos():
    html = select_html(Shapes(VALID)["grouped"])
    assert '<optgroup label="Group &lt;&amp;&quot;&gt;">' in html
    assert (
        '<option value="A &amp; &quot;b&quot; &lt;c&gt;" selected>'
        "A &amp; &quot;b&quot; &lt;c&gt;</option>" in html
    )
    assert "<b>safe</b>" in html  # a label marked safe stays markup, as with Django
    html = select_html(Shapes(INITIAL)["lazy"])
    assert 'aria-label="A &amp; &quot;b&quot; &lt;c&gt;"' in html
    assert 'data-url="/portal/tickets/"' in html and " data-false" not in html
    assert 'data-none="None"' in html and " data-true " in html
    # A single select marks the first of two equal values only; an invalid value none.
    html = select_html(Shapes({"duplicate": "a"})["duplicate"])
    assert html.count(" selected") == 1
    html = select_html(Shapes(INVALID)["required_with_empty"])
    assert " selected" not in html and 'aria-invalid="true"' in html and " required" in html
    html = select_html(Shapes(VALID)["many"])
    assert html.count(" selected") == 2 and " multiple" in html


# ---------------------------------------------------------------------------------------------
# Model choices: the same markup and the same queries.


class ModelShapes(forms.Form):
    optional = forms.ModelChoiceField(
        queryset=TicketStatus.objects.all(), required=False, empty_label=NASTY
    )
    required = forms.ModelChoiceField(queryset=TicketStatus.objects.all(), empty_label=None)
    desk = DeskModelChoiceField(queryset=TicketStatus.objects.all(), required=False)
    many = forms.ModelMultipleChoiceField(queryset=TicketStatus.objects.all(), required=False)
    offered = forms.ModelChoiceField(queryset=TicketStatus.objects.all(), empty_label="All")
    autocomplete = DeskModelChoiceField(
        queryset=TicketStatus.objects.all(),
        required=False,
        empty_label="Any",
        widget=AutocompleteSelect(attrs={"data-autocomplete-url": "/x/"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        offer_choices(self.fields["offered"], self.fields["offered"].queryset)


@pytest.fixture
def nasty_status(db):
    return TicketStatusFactory(name=NASTY)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "initial"),
    [
        (None, None),
        (None, "instance"),
        ("pk", None),
        ({"optional": "999999", "required": "abc", "desk": "abc", "many": ["x"]}, "instance"),
        ({"desk": str(2**70), "autocomplete": "999999", "many": ["999999"]}, None),
    ],
)
def test_model_choices_are_written_as_django_writes_them(nasty_status, data, initial):
    pk = str(nasty_status.pk)
    if initial == "instance":
        initial = dict.fromkeys(ModelShapes.base_fields, nasty_status)
        initial["many"] = [nasty_status]
    if data == "pk":
        data = dict.fromkeys(ModelShapes.base_fields, pk) | {"many": [pk]}
    assert_written_as_django(ModelShapes, data, initial)
    html = select_html(ModelShapes(data, initial=initial)["optional"])
    assert f'<option value="{pk}"' in html and "A &amp; &quot;b&quot; &lt;c&gt;" in html


def queries(render, bound_field):
    with CaptureQueriesContext(connection) as captured:
        render(bound_field)
    return len(captured.captured_queries)


@pytest.mark.django_db
@pytest.mark.parametrize("name", list(ModelShapes.base_fields))
@pytest.mark.parametrize("data", [None, "pk"])
def test_model_choices_cost_the_queries_django_spends(nasty_status, name, data):
    if data == "pk":
        data = {name: str(nasty_status.pk), "many": [str(nasty_status.pk)]}
    ours, django = ModelShapes(data), ModelShapes(data)
    assert ours.errors == django.errors  # validation's queries are not the select's
    ours = queries(select_html, ours[name])
    assert ours == queries(str, django[name])
    if name in ("optional", "desk", "many"):
        assert ours == 1  # the choices are read once


def test_the_tags_write_selects_and_leave_other_fields_to_django():
    template = Template(
        "{% load tickets_extras %}{% select_control form.lazy %}|{% select_control form.text %}"
        "|{% form_field form.lazy %}"
    )
    form = Shapes(INVALID)
    html = template.render(Context({"form": form}))
    control, text, field = html.split("|")
    assert control == str(form["lazy"])
    assert text == str(form["text"])
    assert '<select name="lazy" class="js-autosubmit form-select form-select is-invalid"' in field
    assert field.count("<option") == 2


# ---------------------------------------------------------------------------------------------
# The pages: what they wrote with Django's rendering of every select, and the options offered.


@pytest.fixture
def world(db):
    site = AddressFactory(name=f"Site {NASTY}")
    other = AddressFactory(name="Other works")
    team = TeamFactory(name="Support & Co")
    fault = TicketTypeFactory(name='Fault "<x>"')
    agent = UserFactory(roles=["Support agent"], first_name="Ada", last_name="O'Brien <a>")
    team.members.add(agent)
    customer = ExternalUserFactory(
        roles=["Portal user"],
        address=site,
        write=[site, other],
        types=[fault],
        teams=[team],
        recipients=[agent],
    )
    ticket = services.ticket_create(
        actor=agent,
        address=site,
        ticket_type=fault,
        subject="Press stops",
        description="It stops.",
        team=team,
        recipient=None,
    )
    return SimpleNamespace(
        site=site,
        other=other,
        team=team,
        fault=fault,
        agent=agent,
        customer=customer,
        ticket=ticket,
    )


def page(client, monkeypatch, url, *, django):
    """The page's HTML (without the per-request CSRF tokens), its selects written by Django
    when `django`."""
    if django:
        monkeypatch.setattr(tickets_extras, "select_html", as_django)
    else:
        monkeypatch.setattr(tickets_extras, "select_html", select_html)
    response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", html)


def assert_page_unchanged(client, monkeypatch, url):
    ours = page(client, monkeypatch, url, django=False)
    assert ours == page(client, monkeypatch, url, django=True)
    return ours


def select(html, name, occurrence=0):
    return re.findall(rf'<select name="{name}".*?</select>', html, re.S)[occurrence]


@pytest.mark.parametrize(
    "query", ["", "?status={status}&address={address}&state=all", "?address=abc&type=9"]
)
def test_portal_list(client, monkeypatch, world, query):
    client.force_login(world.customer)
    status = TicketStatus.objects.get(is_default=True)
    url = reverse("portal:ticket-list") + query.format(status=status.pk, address=world.site.pk)
    html = assert_page_unchanged(client, monkeypatch, url)
    address = select(html, "address")
    assert f'<option value="{world.site.pk}"' in address
    assert "Site A &amp; &quot;b&quot; &lt;c&gt;" in address
    if "status=" in query:
        assert f'<option value="{world.site.pk}" selected>' in address
        assert f'<option value="{status.pk}" selected>' in select(html, "status")
    else:
        assert f'<option value="{world.site.pk}" selected>' not in address
        assert ('<option value="" selected>' in address) == (not query)
        assert '<option value="" selected>' in select(html, "status")


def test_portal_file_form(client, monkeypatch, world):
    client.force_login(world.customer)
    html = assert_page_unchanged(client, monkeypatch, reverse("portal:ticket-create"))
    recipient = select(html, "recipient")
    assert f'<option value="team:{world.team.pk}">Support &amp; Co</option>' in recipient
    assert '<optgroup label="People">' in recipient
    assert f'<option value="{world.fault.pk}" selected>' in select(html, "type")
    assert " required" in select(html, "address")


@pytest.mark.parametrize(
    "query",
    [
        "?queue=open",
        "?queue=open&priority=normal&responsible=none&sort=number",
        "?queue=all&status=abc&address=99",
    ],
)
def test_desk_queue(client, monkeypatch, world, query):
    client.force_login(world.agent)
    html = assert_page_unchanged(client, monkeypatch, reverse("desk:queue") + query)
    assert f'<option value="team:{world.team.pk}">Support &amp; Co</option>' in select(
        html, "recipient"
    )
    assert "O&#x27;Brien &lt;a&gt;" in select(html, "responsible")
    if "priority" in query:
        assert '<option value="normal" selected>' in select(html, "priority")
        assert '<option value="number" selected>' in select(html, "sort")
    assert select(html, "address").count("<option") == 1


def test_desk_workspace(client, monkeypatch, world):
    client.force_login(world.agent)
    url = reverse("desk:ticket-detail", kwargs={"number": world.ticket.number})
    html = assert_page_unchanged(client, monkeypatch, url)
    recipient = select(html, "recipient")
    assert '<optgroup label="Teams">' in recipient and " required" in recipient
    assert f'<option value="{world.ticket.status_id}" selected>' in select(html, "status")
    assert f'<option value="{world.fault.pk}" selected>' in select(html, "type")
    assert f'<option value="{world.ticket.priority}" selected>' in select(html, "priority")


@pytest.mark.django_db
def test_selects_are_written_without_djangos_templates(nasty_status):
    """The point of the writer: no template per option (Django still renders what it is not
    sure about)."""
    rendered = []

    def record(sender, template, **kwargs):
        rendered.append(template.name)

    template_rendered.connect(record)
    try:
        for form in (Shapes(VALID), ModelShapes({"autocomplete": str(nasty_status.pk)})):
            for name in form.fields:
                del rendered[:]
                select_html(form[name])
                django_renders = name in (
                    "radio",
                    "text",
                    "hidden_initial",
                    "own_option",
                    "callable_label",  # its called label and value only
                )
                assert bool(rendered) == django_renders, (name, rendered)
    finally:
        template_rendered.disconnect(record)
