"""The base layout: the same page as the templates it replaced, for less work per request.

templates/base.html and portal/base.html render what is the same for every request in a
language once per process (`{% constant %}`, accounts/templatetags/layout.py) and write the
portal's navigation in Python. Each test renders the layout with the templates as they were
before (tests/layout_before/) and as they are, for the same request, and compares the HTML.
"""

import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.contrib import messages
from django.template import TemplateSyntaxError, engines
from django.template.backends.django import DjangoTemplates
from django.urls import clear_script_prefix, reverse, set_script_prefix
from django.utils import translation

from tests.factories import AddressFactory, ExternalUserFactory, UserFactory

# The layout's templates as they were before (base.html, portal/base.html, includes/).
BEFORE = Path(__file__).resolve().parent / "layout_before"


def _old_engine():
    """The project's template settings, with the layout's templates as they were before."""
    options = dict(settings.TEMPLATES[0]["OPTIONS"])
    options["loaders"] = [
        ("django.template.loaders.filesystem.Loader", [BEFORE, *settings.TEMPLATES[0]["DIRS"]]),
        "django.template.loaders.app_directories.Loader",
    ]
    return DjangoTemplates({"NAME": "old", "DIRS": [], "APP_DIRS": False, "OPTIONS": options})


def _normalised(html):
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', 'name="csrfmiddlewaretoken"', html)
    html = re.sub(r">\s+<", "><", html)
    return re.sub(r"\s+", " ", html).strip()


def _both(request, parent, language, **context):
    """The layout around a small page, rendered by the old templates and by the new."""
    page = f'{{% extends "{parent}" %}}{{% block content %}}<p>Body</p>{{% endblock %}}'
    with translation.override(language):
        old = _old_engine().from_string(page).render(dict(context), request)
        new = engines["django"].from_string(page).render(dict(context), request)
    return _normalised(old), _normalised(new)


@pytest.fixture
def customer(db):
    home = AddressFactory()
    return ExternalUserFactory(
        first_name="Ann <&>", last_name='"Quote"', address=home, roles=["Portal user"], read=[home]
    )


def _request(client, user, path="/portal/"):
    """A request that went through every middleware (session, user, CSRF, messages, preview)."""
    if user is not None:
        client.force_login(user)
    response = client.get(path)
    return response.wsgi_request


@pytest.mark.parametrize("language", ["en", "de"])
@pytest.mark.parametrize("active_nav", ["dashboard", "tickets", "addresses", "profile", None])
def test_portal_layout_is_the_same_html(client, customer, language, active_nav):
    request = _request(client, customer)
    old, new = _both(
        request, "portal/base.html", language, active_nav=active_nav, search_query='a<b & "c"'
    )
    assert old == new
    assert 'value="a&lt;b &amp; &quot;c&quot;"' in new
    assert "Ann &lt;&amp;&gt; &quot;Quote&quot;" in new


@pytest.mark.parametrize(
    "flags",
    [
        {"tickets": True, "addresses": True, "can_file": True},
        {"tickets": False, "addresses": True, "can_file": False},
        {"tickets": True, "addresses": False, "can_file": True},
        {"tickets": False, "addresses": False, "can_file": False},
    ],
)
def test_portal_navigation_follows_the_flags(client, customer, flags):
    request = _request(client, customer)
    nav = SimpleNamespace(**flags)
    old, new = _both(request, "portal/base.html", "de", nav=nav, active_nav="tickets")
    assert old == new
    assert ('href="/portal/tickets/"' in new) is flags["tickets"]
    assert ('href="/portal/addresses/"' in new) is flags["addresses"]
    assert ('href="/portal/tickets/new/"' in new) is flags["can_file"]


@pytest.mark.parametrize("language", ["en", "de"])
def test_desk_and_sign_in_layouts_are_the_same_html(client, db, language):
    agent = UserFactory(roles=["Support agent"])
    old, new = _both(_request(client, agent, "/desk/"), "desk/base.html", language)
    assert old == new
    client.logout()
    old, new = _both(_request(client, None, "/accounts/login/"), "base.html", language)
    assert old == new
    assert "navbar-toggler" not in new  # nobody is signed in


def test_messages_are_shown_escaped(client, customer):
    request = _request(client, customer)
    messages.success(request, "Saved <b>it</b> & more")
    messages.error(request, "Refused")
    old, new = _both(request, "portal/base.html", "en")
    assert old == new
    assert "Saved &lt;b&gt;it&lt;/b&gt; &amp; more" in new
    assert "alert-danger" in new


def test_language_form_selects_the_active_language(client, customer):
    request = _request(client, customer, "/portal/?q=x&y=<1>")
    for language, selected in (("en", "English"), ("de", "Deutsch"), ("en", "English")):
        _old, new = _both(request, "portal/base.html", language)
        assert f'<option value="{language}" selected>{selected}</option>' in new
        assert f'<html lang="{language}">' in new
        assert 'name="next" type="hidden" value="/portal/?q=x&amp;y=%3C1%3E"' in new
        assert f'action="{reverse("set_language")}"' in new


def test_preview_banner_is_kept(client, customer):
    request = _request(client, customer)
    request.access_preview = SimpleNamespace(user=customer)
    old, new = _both(request, "portal/base.html", "en")
    assert old == new
    assert 'id="preview-banner"' in new


def test_a_constant_fragment_follows_language_and_script_prefix(client, customer):
    request = _request(client, customer)
    page = engines["django"].from_string('{% extends "portal/base.html" %}')
    with translation.override("de"):
        assert "Abmelden" in page.render({}, request)
    with translation.override("en"):
        assert "Abmelden" not in page.render({}, request)
    set_script_prefix("/prefix/")
    try:
        html = page.render({}, request)
    finally:
        clear_script_prefix()
        set_script_prefix("/")
    assert 'href="/prefix/portal/tickets/"' in html  # the navigation
    assert 'action="/prefix/portal/search/"' in html
    assert 'action="/prefix/accounts/logout/"' in html
    assert 'action="/portal/search/"' in page.render({}, request)


@pytest.mark.parametrize(
    "inside",
    [
        "{{ user }}",
        "{% if user %}x{% endif %}",
        "{% translate greeting %}",
        "{% translate 'Hello' as greeting %}",
        "{% translate 'Hello'|upper %}",
        "{% static path %}",
        "{% static 'css/portal.css' as css %}",
        "{% url 'portal:ticket-detail' number %}",
        "{% url view_name %}",
        "{% csrf_token %}",
        "{% block title %}{% endblock %}",
        "{% include 'includes/messages.html' %}",
    ],
)
def test_a_constant_fragment_refuses_what_could_differ_between_users(inside):
    source = "{% load i18n static layout %}{% constant %}" + inside + "{% endconstant %}"
    with pytest.raises(TemplateSyntaxError, match="constant"):
        engines["django"].from_string(source)


def test_a_constant_fragment_takes_literals():
    source = (
        "{% load i18n static layout %}{% constant %}<a href=\"{% url 'portal:ticket-detail' 7 %}\">"
        "{% translate 'Sign out' %}</a>{% static 'css/portal.css' %}{% endconstant %}"
    )
    page = engines["django"].from_string(source)
    with translation.override("de"):
        assert page.render({}) == '<a href="/portal/tickets/7/">Abmelden</a>/static/css/portal.css'
