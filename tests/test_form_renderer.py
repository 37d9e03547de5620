"""The project's form renderer writes <select> widgets in Python: byte for byte what Django's
templates write, for every kind of select the forms use."""

import pytest
from django import forms
from django.conf import settings
from django.forms.renderers import DjangoTemplates, get_default_renderer

from portal.forms import FormRenderer


class Everything(forms.Form):
    plain = forms.ChoiceField(
        required=False,
        choices=[("", "---"), ("1", 'A & "b" <c>'), ("Group <g>", [("2", "x"), ("3", "y")])],
    )
    many = forms.MultipleChoiceField(choices=[("1", "one"), ("2", "two")], required=False)
    maybe = forms.NullBooleanField()
    typed = forms.TypedChoiceField(
        choices=[(1, "x"), (2, "<y>")],
        coerce=int,
        widget=forms.Select(
            attrs={"class": "form-select", "data-none": None, "disabled": True, "hidden": False}
        ),
    )


@pytest.mark.parametrize(
    "data", [None, {"plain": "2", "many": ["1", "2"], "maybe": "true", "typed": "2"}]
)
def test_selects_render_exactly_as_with_djangos_templates(data):
    ours, django = (
        Everything(data, renderer=FormRenderer()),
        Everything(data, renderer=DjangoTemplates()),
    )
    for name in Everything.base_fields:
        assert str(ours[name]) == str(django[name]), name
    assert "&lt;c&gt;" in str(ours["plain"]) and 'label="Group &lt;g&gt;"' in str(ours["plain"])


def test_the_project_uses_it():
    assert settings.FORM_RENDERER == "portal.forms.FormRenderer"
    assert isinstance(get_default_renderer(), FormRenderer)


def test_a_select_with_its_own_option_template_keeps_the_templates():
    class Custom(forms.Select):
        option_template_name = "django/forms/widgets/input_option.html"

    class Form(forms.Form):
        field = forms.ChoiceField(choices=[("1", "one")], widget=Custom)

    assert str(Form(renderer=FormRenderer())["field"]) == str(
        Form(renderer=DjangoTemplates())["field"]
    )
