"""Writing repeated page parts in Python, exactly as the templates wrote them.

Lists and conversations are written by template tags in Python (tickets_extras,
desk_extras): the template language spent about 0.3 ms per row on nodes, variable look-ups
and filters (docs/performance.md). What those tags share lives here: escaping, date and number
formatting done the way the template filters do it, with the formats looked up once per page,
and links whose URL pattern is reversed once per process. No access decisions here.
"""

import functools
import html

from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import dateformat, formats
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
