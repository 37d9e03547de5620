"""The URL sweep: every route is probed against objects the user may not reach, or is exempt.

Walks the whole URL conf. A route must either appear in PROBES — requested as an external user
with every basic right on its own addresses, against a foreign address's objects (404, marker
text absent) or a read-only address's objects (403 on writes), with nothing saved — or be listed
in EXEMPT with the reason. A new route that is neither makes this test fail, so no route can
slip past the access tests.
"""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import NoReverseMatch, URLPattern, URLResolver, get_resolver, reverse

from accounts.models import User
from addresses.models import Address, ContactPerson, Machine
from tests.factories import (
    AddressFactory,
    ContactPersonFactory,
    ExternalUserFactory,
    MachineFactory,
    MessageFactory,
    TeamFactory,
    TicketFactory,
    TicketTypeFactory,
    UserFactory,
)
from tickets.models import Attachment, Message, Ticket, TicketEvent, TicketStatus

MARKER = "ZZFOREIGNZZ"
# What the probes search for: matches the marker (case-insensitive substring) without being it,
# so a page that echoes the search term does not count as showing the object.
TERM = MARKER[:-2].lower()

EXEMPT = {
    "home": "redirects to the user's own area; shows no object",
    "healthz": "public liveness probe; shows no data",
    "set_language": "stores the language choice; shows no object",
    "login": "public sign-in form",
    "logout": "signs the caller out",
    "password_change": "changes the caller's own password only",
    "password_change_done": "static confirmation",
    "password_reset": "public; same answer for every e-mail (tests/accounts/test_sign_in.py)",
    "password_reset_done": "static confirmation",
    "password_reset_confirm": "guarded by a signed one-time token",
    "password_reset_complete": "static confirmation",
    "portal:profile": "shows only the caller's own account (tests/accounts/test_profile.py)",
}
# Django admin has its own permission model: it requires is_staff, which an external user can
# never have (database constraint). test_external_users_never_reach_admin checks the door.
EXEMPT_PREFIXES = {"admin:": "Django admin: staff only; see test_external_users_never_reach_admin"}


def all_route_names():
    names = set()

    def walk(patterns, namespace):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = pattern.namespace
                walk(
                    pattern.url_patterns,
                    f"{namespace}:{inner}" if namespace and inner else inner or namespace,
                )
            elif isinstance(pattern, URLPattern):
                name = pattern.name or pattern.pattern.describe()
                names.add(f"{namespace}:{name}" if namespace else name)

    walk(get_resolver().url_patterns, None)
    return names


@pytest.fixture
def world(db):
    team = TeamFactory(name="Support")
    ticket_type = TicketTypeFactory(name="Malfunction")
    own = AddressFactory(name="Own site")
    readonly = AddressFactory(name="Read-only site")
    foreign = AddressFactory(name=f"{MARKER} address")
    user = ExternalUserFactory(
        address=own,
        roles=["Portal editor"],
        write=[own],
        read=[readonly],
        types=[ticket_type],
        teams=[team],
    )
    objects = {"user": user, "own": own, "readonly": readonly, "foreign": foreign}
    for key, address in [("own", own), ("readonly", readonly), ("foreign", foreign)]:
        label = MARKER if key == "foreign" else key
        objects[f"{key}_machine"] = MachineFactory(address=address, name=f"{label} machine")
        objects[f"{key}_contact"] = ContactPersonFactory(address=address, last_name=f"{label}")
        ticket = TicketFactory(
            address=address,
            type=ticket_type,
            responsible_team=team,
            subject=f"{label} ticket",
        )
        message = MessageFactory(ticket=ticket, kind=Message.Kind.DESCRIPTION, body=f"{label} body")
        objects[f"{key}_ticket"] = ticket
        objects[f"{key}_attachment"] = Attachment.objects.create(
            message=message,
            file=SimpleUploadedFile(f"{label}.txt", b"data"),
            original_name=f"{label}.txt",
            size=4,
        )
    # An internal note on the user's own ticket: never visible, nor its attachment.
    note = MessageFactory(
        ticket=objects["own_ticket"], kind=Message.Kind.INTERNAL_NOTE, body=f"{MARKER} note"
    )
    objects["note_attachment"] = Attachment.objects.create(
        message=note,
        file=SimpleUploadedFile(f"{MARKER}-note.txt", b"secret"),
        original_name=f"{MARKER}-note.txt",
        size=6,
    )
    objects["agent"] = UserFactory(roles=["Support agent"])
    return objects


def snapshot():
    return (
        Ticket.objects.count(),
        Message.objects.count(),
        Attachment.objects.count(),
        TicketEvent.objects.count(),
        ContactPerson.objects.count(),
        list(Address.objects.order_by("pk").values_list("name", "street", "updated_at")),
        list(Machine.objects.order_by("pk").values_list("name", "notes")),
        list(ContactPerson.objects.order_by("pk").values_list("last_name", "email")),
        list(Ticket.objects.order_by("pk").values_list("status_id", "closed_at", "subject")),
        list(User.objects.order_by("pk").values_list("language", "first_name")),
    )


def n(key):
    return lambda w: {"number": w[f"{key}_ticket"].number}


def pk(key):
    return lambda w: {"pk": w[key].pk}


def attachment(ticket_key, attachment_key):
    return lambda w: {"number": w[f"{ticket_key}_ticket"].number, "pk": w[attachment_key].pk}


FOREIGN_POST = {
    "subject": "forged value",
    "body": "forged value",
    "description": "forged value",
    "name": "forged value",
    "last_name": "forged value",
    "street": "forged value",
    "notes": "forged value",
}

# route name -> list of (method, kwargs builder or None, query string, expected statuses)
PROBES = {
    "portal:dashboard": [("get", None, "", {200})],
    "portal:search": [("get", None, f"?q={TERM}", {200})],
    "portal:ticket-list": [
        ("get", None, f"?q={TERM}&state=all", {200}),
        ("get", None, "?address={foreign}&state=all", {200}),
    ],
    "portal:ticket-create": [("post", None, "", {200})],
    "portal:ticket-detail": [("get", n("foreign"), "", {404})],
    "portal:ticket-reply": [
        ("post", n("foreign"), "", {404}),
        ("post", n("readonly"), "", {403}),
    ],
    "portal:ticket-status": [
        ("post", n("foreign"), "", {404}),
        ("post", n("readonly"), "", {403}),
    ],
    "portal:attachment-download": [
        ("get", attachment("foreign", "foreign_attachment"), "", {404}),
        ("get", attachment("own", "foreign_attachment"), "", {404}),
        ("get", attachment("own", "note_attachment"), "", {404}),
    ],
    "portal:autocomplete-addresses": [
        ("get", None, f"?term={TERM}", {200}),
        ("get", None, f"?term={TERM}&purpose=filter", {200}),
    ],
    "portal:autocomplete-machines": [("get", None, "?address={foreign}", {200})],
    "portal:autocomplete-recipients": [("get", None, f"?term={TERM}", {200})],
    "portal:address-list": [("get", None, f"?q={TERM}", {200})],
    "portal:address-detail": [("get", pk("foreign"), "", {404})],
    "portal:address-edit": [
        ("get", pk("foreign"), "", {404}),
        ("post", pk("foreign"), "", {404}),
        ("post", pk("readonly"), "", {403}),
    ],
    "portal:contact-create": [
        ("post", pk("foreign"), "", {404}),
        ("post", pk("readonly"), "", {403}),
    ],
    "portal:machine-detail": [("get", pk("foreign_machine"), "", {404})],
    "portal:machine-edit": [
        ("post", pk("foreign_machine"), "", {404}),
        ("post", pk("readonly_machine"), "", {403}),
    ],
    "portal:contact-detail": [("get", pk("foreign_contact"), "", {404})],
    "portal:contact-edit": [
        ("post", pk("foreign_contact"), "", {404}),
        ("post", pk("readonly_contact"), "", {403}),
    ],
}


def _resolve_query(query, world):
    return query.replace("{foreign}", str(world["foreign"].pk))


def test_every_route_is_probed_or_exempt():
    names = all_route_names()
    uncovered = sorted(
        name
        for name in names
        if name not in PROBES
        and name not in EXEMPT
        and not name.startswith("desk:")
        and not any(name.startswith(prefix) for prefix in EXEMPT_PREFIXES)
    )
    assert uncovered == [], f"routes with no access probe and no exemption: {uncovered}"
    stale = sorted(set(PROBES) - names)
    assert stale == [], f"probes for routes that no longer exist: {stale}"


@pytest.mark.django_db
@pytest.mark.parametrize("route", sorted(PROBES))
def test_route_refuses_what_the_user_may_not_reach(client, world, route):
    client.force_login(world["user"])
    for method, kwargs, query, expected in PROBES[route]:
        url = reverse(route, kwargs=kwargs(world) if kwargs else None)
        url += _resolve_query(query, world)
        before = snapshot()
        if method == "get":
            response = client.get(url)
        else:
            data = dict(FOREIGN_POST)
            data.update(
                {
                    "address": world["foreign"].pk,
                    "machine": world["foreign_machine"].pk,
                    "ticket_type": world["own_ticket"].type_id,
                    "recipient": f"team:{world['own_ticket'].responsible_team_id}",
                    "status": TicketStatus.objects.filter(is_closed=True).first().pk,
                }
            )
            response = client.post(url, data)
        assert response.status_code in expected, (route, method, url, response.status_code)
        body = b"".join(response) if response.streaming else response.content
        assert MARKER.encode() not in body, (route, method, url)
        assert snapshot() == before, f"{route} {method} {url} changed data"


@pytest.mark.django_db
def test_every_desk_route_is_a_404_for_external_users(client, world):
    """Every desk route refuses external users with 404, even for their own ticket (GET may be
    405 on POST-only routes, which reveals nothing either)."""
    client.force_login(world["user"])
    desk_routes = sorted(name for name in all_route_names() if name.startswith("desk:"))
    assert desk_routes, "the desk has routes"
    number, attachment_pk = world["own_ticket"].number, world["own_attachment"].pk
    candidates = [{}, {"number": number}, {"number": number, "pk": attachment_pk}, {"pk": 1}]
    for route in desk_routes:
        url = None
        for kwargs in candidates:
            try:
                url = reverse(route, kwargs=kwargs or None)
                break
            except NoReverseMatch:
                continue
        assert url, f"cannot build a URL for {route}"
        before = snapshot()
        assert client.get(url).status_code in {404, 405}, route
        response = client.post(url, {"action": "take", "tickets": [world["own_ticket"].pk]})
        assert response.status_code == 404, (route, response.status_code)
        assert snapshot() == before, f"{route} changed data"


@pytest.mark.django_db
def test_external_users_never_reach_admin(client, world):
    client.force_login(world["user"])
    for url in ["/admin/", "/admin/accounts/user/", "/admin/tickets/ticket/"]:
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith("/admin/login/")
