"""Tags of the base layout: the parts every page renders the same, rendered once per process.

Every signed-in page renders the layout (templates/base.html, portal/base.html, desk/base.html)
around its own content, and most of the layout is the same for every request in a language:
static file addresses (from the manifest, read once per process), reversed URLs and translated
labels. Rendered node by node they cost about 1 ms per page (docs/performance.md), so

* ``{% constant %}…{% endconstant %}`` renders its content once per process and language (and
  script prefix, URL conf, current app, autoescaping) and repeats the text afterwards. It
  refuses, when the template is compiled, anything that could differ between two requests in
  the same language: it may hold only text, ``{% translate %}`` of a literal, ``{% static %}``
  and ``{% url %}`` with literal arguments, and the per-language tags below. A variable inside it
  is a template syntax error, so one user's data can never be repeated to another.
* ``{% portal_nav_links %}`` writes the portal's navigation from the flags the policy computed
  (``nav``) and the page's ``active_nav``; its links and labels come from the same cache.
"""

from django import template
from django.conf import settings
from django.core.signals import setting_changed
from django.template.base import FilterExpression, TextNode, Variable
from django.template.defaulttags import CommentNode, URLNode
from django.templatetags.i18n import TranslateNode
from django.templatetags.static import StaticNode
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import translation
from django.utils.html import conditional_escape, escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_noop

register = template.Library()

# Each cache holds a few entries per language: the key is made of values the server chooses
# (the activated language is always one of LANGUAGES), none of them a client's. The bound is a
# guard, not an expectation.
_MAX_ENTRIES = 64
# Part of every key, counted up whenever a setting changes (tests override LANGUAGES,
# STATIC_URL, ROOT_URLCONF …), so that nothing rendered before is used again.
_settings_version = 0


def _forget(**kwargs):
    global _settings_version
    _settings_version += 1


setting_changed.connect(_forget, dispatch_uid="accounts.templatetags.layout")


def _current_app(context):
    """The current app `{% url %}` reverses with (django.template.defaulttags.URLNode)."""
    request = getattr(context, "request", None)
    try:
        return request.current_app
    except AttributeError:
        try:
            return request.resolver_match.namespace
        except AttributeError:
            return None


def _addressing(context):
    """What reversed and static addresses depend on: script prefix, URL conf, current app.

    None of them changes while a template renders, so it is read once per render (reading the
    first two costs more than the rest of a fragment's lookup)."""
    render_context = context.render_context
    addressing = render_context.get(_addressing)
    if addressing is None:
        addressing = render_context[_addressing] = (
            get_script_prefix(),
            get_urlconf(),
            _current_app(context),
        )
    return addressing


def _key(context):
    """Everything a constant fragment's text may depend on. The language is read each time:
    `{% language %}` may change it in the middle of a render."""
    return (
        translation.get_language(),
        context.autoescape,
        context.use_l10n,
        _addressing(context),
        _settings_version,
    )


def _cached(cache, context, make):
    key = _key(context)
    try:
        return cache[key]
    except KeyError:
        pass
    value = make()
    if len(cache) >= _MAX_ENTRIES:
        cache.clear()
    cache[key] = value
    return value


# --- nodes that are the same for every request in a language ---------------------------------


class LanguageCodeNode(template.Node):
    """The active language's code, as ``{% get_current_language %}`` gives it."""

    constant = True

    def render(self, context):
        return conditional_escape(translation.get_language())


class LanguageOptionsNode(template.Node):
    """The language form's options, the active language selected (as
    ``{% get_available_languages %}`` and a loop over it would write them)."""

    constant = True

    def render(self, context):
        current = translation.get_language()
        return mark_safe(
            "\n".join(
                f'<option value="{escape(code)}"{" selected" if code == current else ""}>'
                f"{escape(translation.gettext(name))}</option>"
                for code, name in settings.LANGUAGES
            )
        )


@register.tag
def language_code(parser, token):
    return LanguageCodeNode()


@register.tag
def language_options(parser, token):
    return LanguageOptionsNode()


def _is_literal(expression):
    if expression is None:
        return True
    if not isinstance(expression, FilterExpression) or expression.filters:
        return False
    var = expression.var
    return isinstance(var, str) or (isinstance(var, Variable) and var.lookups is None)


def _constant_problem(node):
    """Why `node` could render differently for two requests in one language (None if not)."""
    if isinstance(node, TextNode | CommentNode) or getattr(node, "constant", False):
        return None
    if isinstance(node, TranslateNode):
        if node.asvar or not _is_literal(node.filter_expression):
            return "{% translate %} of a literal string, without 'as'"
        if not _is_literal(node.message_context):
            return "{% translate %} with a literal context"
        return None
    if isinstance(node, StaticNode):
        if node.varname or not _is_literal(node.path):
            return "{% static %} of a literal path, without 'as'"
        return None
    if isinstance(node, URLNode):
        arguments = [node.view_name, *node.args, *node.kwargs.values()]
        if node.asvar or not all(_is_literal(argument) for argument in arguments):
            return "{% url %} with literal arguments, without 'as'"
        return None
    return "text, {% translate %}, {% static %}, {% url %} and the layout's language tags"


class ConstantNode(template.Node):
    # It holds no {% block %}: {% extends %} need not look inside it for one (it walks the
    # parent's whole node tree on every render).
    child_nodelists = ()

    def __init__(self, nodelist):
        self.nodelist = nodelist
        self.cache = {}

    def render(self, context):
        return _cached(self.cache, context, lambda: mark_safe(self.nodelist.render(context)))


@register.tag
def constant(parser, token):
    """``{% constant %}…{% endconstant %}``: rendered once per process and language (module doc)."""
    nodelist = parser.parse(("endconstant",))
    parser.delete_first_token()
    for node in nodelist:
        problem = _constant_problem(node)
        if problem is not None:
            raise template.TemplateSyntaxError(
                f"{{% constant %}} may hold only {problem}; "
                f"found {node.token.contents if node.token else type(node).__name__!r}."
            )
    return ConstantNode(nodelist)


# --- the portal's navigation -------------------------------------------------------------------

# (active_nav, URL name, label, the `nav` flag that shows it or None for always)
PORTAL_NAV = (
    ("dashboard", "portal:dashboard", gettext_noop("Overview"), None),
    ("tickets", "portal:ticket-list", gettext_noop("Tickets"), "tickets"),
    ("addresses", "portal:address-list", gettext_noop("Addresses"), "addresses"),
    ("profile", "portal:profile", gettext_noop("My account"), None),
)
_portal_nav_cache = {}


def _portal_nav_items(context):
    """Each link as (inactive, active) markup, for the context's language and URL prefix."""

    def make():
        # The labels are msgids of the template this replaced (locale/*/django.po).
        items = {}
        for name, url_name, label, _flag in PORTAL_NAV:
            url = escape(reverse(url_name, current_app=_current_app(context)))
            label = escape(translation.gettext(label))
            items[name] = (
                f'<li class="nav-item"><a class="nav-link" href="{url}">{label}</a></li>',
                f'<li class="nav-item"><a class="nav-link active" aria-current="page" '
                f'href="{url}">{label}</a></li>',
            )
        return items

    return _cached(_portal_nav_cache, context, make)


@register.simple_tag(takes_context=True)
def portal_nav_links(context):
    """The portal's main navigation; a link the user may not use (``nav``) is left out."""
    items = _portal_nav_items(context)
    nav = context.get("nav")
    active = context.get("active_nav")
    links = [
        items[name][name == active]
        for name, _url_name, _label, flag in PORTAL_NAV
        if flag is None or getattr(nav, flag, False)
    ]
    return mark_safe('<ul class="navbar-nav me-auto">\n  ' + "\n  ".join(links) + "\n</ul>")
