"""The German translation: key strings, pages in German, and a complete, compiled catalogue.

The catalogue is locale/de/LC_MESSAGES/django.po; refresh it with the command in locale/README.md.
"""

import ast
import random
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext, ngettext

from tests.factories import AddressFactory, ExternalUserFactory, TeamFactory, TicketTypeFactory

PO_FILE = Path(settings.BASE_DIR) / "locale" / "de" / "LC_MESSAGES" / "django.po"
MO_FILE = PO_FILE.with_suffix(".mo")


# ---------------------------------------------------------------------------------------------
# A small .po reader (no extra dependency).


def _unquote(text):
    """The value of one quoted .po string ("..." with C escapes)."""
    return ast.literal_eval(text)


def read_po(path=PO_FILE):
    """Every entry of the catalogue as a dict: msgid, msgid_plural, msgstr (list), flags."""
    entries = []
    entry = None
    field = None
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line:
            entry = field = None
            continue
        if line.startswith("#~"):  # obsolete: not in the catalogue any more
            continue
        if entry is None:
            entry = {"msgid": None, "msgid_plural": None, "msgstr": {}, "flags": set()}
            entries.append(entry)
        if line.startswith("#,"):
            entry["flags"].update(flag.strip() for flag in line[2:].split(","))
            continue
        if line.startswith("#"):
            continue
        match = re.match(r"^(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?)\s+(\".*\")$", line)
        if match:
            keyword, index, value = match.groups()
            value = _unquote(value)
            if keyword.startswith("msgstr"):
                field = ("msgstr", int(index or 0))
                entry["msgstr"][field[1]] = value
            else:
                field = (keyword, None)
                entry[keyword] = value
            continue
        assert line.startswith('"'), f"unexpected line in {path.name}: {raw!r}"
        value = _unquote(line)
        if field[0] == "msgstr":
            entry["msgstr"][field[1]] += value
        else:
            entry[field[0]] = (entry[field[0]] or "") + value
    return [e for e in entries if e["msgid"] is not None]


@pytest.fixture(scope="module")
def catalogue():
    entries = read_po()
    header = [e for e in entries if e["msgid"] == ""]
    assert len(header) == 1
    return header[0], [e for e in entries if e["msgid"] != ""]


# %(name)s / %(count)d, positional %s / %d, and str.format's {name}.
PLACEHOLDER = re.compile(
    r"%\([A-Za-z_]\w*\)[-#0 +]*\d*(?:\.\d+)?[sdifrxXeEgGc]|%[sdif]|\{[A-Za-z_]\w*\}"
)


def placeholders(text):
    return sorted(PLACEHOLDER.findall(text.replace("%%", "")))


# ---------------------------------------------------------------------------------------------
# The catalogue itself.


def test_catalogue_and_compiled_file_exist():
    assert PO_FILE.is_file(), "run the command in locale/README.md"
    assert MO_FILE.is_file(), "run manage.py compilemessages --ignore=.venv"


def test_header_is_german_and_not_fuzzy(catalogue):
    header, entries = catalogue
    assert "fuzzy" not in header["flags"]
    text = header["msgstr"][0]
    assert "Language: de\n" in text
    assert "charset=UTF-8" in text
    assert "Plural-Forms: nplurals=2; plural=(n != 1);" in text
    assert len(entries) > 500


def test_every_entry_is_translated_and_none_is_fuzzy(catalogue):
    _, entries = catalogue
    fuzzy = [e["msgid"] for e in entries if "fuzzy" in e["flags"]]
    assert not fuzzy, f"fuzzy entries: {fuzzy}"
    untranslated = []
    for entry in entries:
        forms = entry["msgstr"]
        expected = 2 if entry["msgid_plural"] is not None else 1
        if len(forms) != expected or not all(forms.get(i, "").strip() for i in range(expected)):
            untranslated.append(entry["msgid"])
    assert not untranslated, f"untranslated entries: {untranslated}"


def test_every_placeholder_survives(catalogue):
    _, entries = catalogue
    wrong = []
    for entry in entries:
        sources = [entry["msgid"]] + ([entry["msgid_plural"]] if entry["msgid_plural"] else [])
        wanted = set().union(*(placeholders(s) for s in sources))
        for form in entry["msgstr"].values():
            if set(placeholders(form)) != wanted:
                wrong.append((entry["msgid"], form))
    assert not wrong, f"placeholders differ: {wrong}"


def test_whitespace_and_line_breaks_are_kept(catalogue):
    _, entries = catalogue
    wrong = []
    for entry in entries:
        msgid = entry["msgid"]
        for form in entry["msgstr"].values():
            if (
                msgid[: len(msgid) - len(msgid.lstrip())] != form[: len(form) - len(form.lstrip())]
                or msgid[len(msgid.rstrip()) :] != form[len(form.rstrip()) :]
                or msgid.count("\n") != form.count("\n")
            ):
                wrong.append(msgid)
    assert not wrong, f"leading/trailing whitespace or line breaks differ: {wrong}"


def test_german_quotation_marks(catalogue):
    _, entries = catalogue
    english = [
        form
        for entry in entries
        for form in entry["msgstr"].values()
        if "“" in entry["msgid"] and ("„" not in form or '"' in form)
    ]
    assert not english, f"use „…“ in German: {english}"


def test_compiled_catalogue_matches_the_po_file(catalogue):
    """A stale .mo (compiled before the last .po change) answers with other strings."""
    _, entries = catalogue
    singular = [e for e in entries if e["msgid_plural"] is None]
    plural = [e for e in entries if e["msgid_plural"] is not None]
    sample = random.Random(20).sample(singular, 20) + plural[:5]
    with translation.override("de"):
        for entry in sample:
            if entry["msgid_plural"] is None:
                assert gettext(entry["msgid"]) == entry["msgstr"][0], entry["msgid"]
            else:
                for n, form in ((1, 0), (2, 1)):
                    got = ngettext(entry["msgid"], entry["msgid_plural"], n)
                    assert got == entry["msgstr"][form], entry["msgid"]


# ---------------------------------------------------------------------------------------------
# Key strings: the product family's established German terms.


@pytest.mark.parametrize(
    ("english", "german"),
    [
        ("External", "Extern"),
        ("Address", "Adresse"),
        ("Read permission", "Leserecht"),
        ("Write permission", "Schreibrecht"),
        ("Contact person", "Ansprechpartner"),
        ("Type of ticket", "Ticketart"),
        ("Restrict customer status", "Kundenstatus einschränken"),
        ("Ticket status", "Ticketstatus"),
        ("Basic rights", "Grundrechte"),
        ("Internal note", "Interne Notiz"),
        ("role", "Rolle"),
        ("headquarters", "Hauptsitz"),
        ("Sites", "Standorte"),
        ("Machine", "Maschine"),
        ("Ticket", "Ticket"),
        ("Support desk", "Service-Desk"),
        ("Sign in", "Anmelden"),
        ("Sign out", "Abmelden"),
        ("New ticket", "Neues Ticket"),
        ("name 2", "Name 2"),
        ("German", "Deutsch"),
    ],
)
def test_key_strings_are_german(english, german):
    with translation.override("de"):
        assert gettext(english) == german
    with translation.override("en"):
        assert gettext(english) == english


def test_person_responsible_and_plurals():
    with translation.override("de"):
        assert gettext("Person responsible: teams") == "Verantwortlicher: Teams"
        assert ngettext("%(counter)s ticket", "%(counter)s tickets", 1) % {"counter": 1} == (
            "1 Ticket"
        )
        assert ngettext("%(counter)s ticket", "%(counter)s tickets", 3) % {"counter": 3} == (
            "3 Tickets"
        )


def test_model_field_labels_are_german():
    from accounts.models import User

    with translation.override("de"):
        labels = {
            name: str(User._meta.get_field(name).verbose_name)
            for name in ("is_external", "read_addresses", "write_addresses", "contact_person")
        }
    assert labels == {
        "is_external": "Extern",
        "read_addresses": "Leserecht",
        "write_addresses": "Schreibrecht",
        "contact_person": "Ansprechpartner",
    }


# ---------------------------------------------------------------------------------------------
# Pages in German.


@pytest.mark.django_db
def test_login_page_follows_the_language_cookie(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "de"
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    content = response.content.decode()
    assert '<html lang="de"' in content
    assert "Anmelden" in content
    assert "Passwort vergessen?" in content
    assert "Sign in" not in content


@pytest.mark.django_db
def test_login_page_stays_english_without_a_choice(client):
    response = client.get("/accounts/login/")
    content = response.content.decode()
    assert "Sign in" in content
    assert "Anmelden" not in content


@pytest.mark.django_db
def test_external_user_with_language_de_sees_the_portal_in_german(client):
    home = AddressFactory(name="Werk Nord")
    user = ExternalUserFactory(
        language="de",
        address=home,
        roles=["Portal user"],
        write=[home],
        types=[TicketTypeFactory(name="Fault")],
        teams=[TeamFactory(name="Support")],
    )
    client.force_login(user)

    response = client.get(reverse("portal:dashboard"))
    assert response.status_code == 200
    content = response.content.decode()
    assert '<html lang="de"' in content
    for german in ("Übersicht", "Mein Konto", "Neues Ticket", "Meine offenen Tickets", "Abmelden"):
        assert german in content, german
    assert "My open tickets" not in content

    response = client.get(reverse("portal:ticket-create"))
    assert response.status_code == 200
    content = response.content.decode()
    assert "Ticketart" in content
    assert "Betreff" in content


@pytest.mark.django_db
def test_external_user_with_language_en_sees_the_portal_in_english(client):
    home = AddressFactory()
    user = ExternalUserFactory(language="en", address=home, roles=["Portal user"], write=[home])
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "de"  # the account's language wins
    content = client.get(reverse("portal:dashboard")).content.decode()
    assert "My account" in content
    assert "Mein Konto" not in content


@pytest.mark.django_db
def test_a_users_language_holds_for_their_request_only(client):
    from django.utils import translation

    from tests.factories import AddressFactory, ExternalUserFactory

    site = AddressFactory()
    user = ExternalUserFactory(language="de", roles=["Portal user"], read=[site])
    client.force_login(user)
    response = client.get("/portal/")
    assert response["Content-Language"] == "de"
    assert translation.get_language() == "en"
