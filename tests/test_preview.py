"""Preview as user: an administrator with the permission sees the portal as an external user
does, read-only and bannered; every start and end is in the admin log.

* Who may preview: active staff with `accounts.preview_as_user` (superusers hold it); never a
  user without it, never a non-staff user, never as an internal or inactive user.
* What the preview shows: exactly what the user gets (same pages, same lists, same refusals).
* Read-only: every portal route refuses every unsafe method with 403 and nothing is saved, and
  even a view that tried to write on GET could not (the database refuses writes).
* Admin and desk keep the real user; ending the preview returns to the admin.
"""

import re
from html import unescape

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from access.preview import SESSION_KEY
from accounts.models import AccessChange, User
from addresses.models import Address
from portal.portal_views import DashboardView
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
from tests.test_url_sweep import all_route_names
from tests.test_url_sweep import snapshot as data_snapshot
from tickets.models import Attachment, Message, TicketStatus

BANNER = "Preview of the portal as"


def text(response):
    body = b"".join(response) if response.streaming else response.content
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", body.decode())).split())


def snapshot():
    return (data_snapshot(), AccessChange.objects.count(), LogEntry.objects.count())


def preview_url(user):
    return reverse("admin:accounts_user_preview", args=[user.pk])


END_URL = reverse("admin:accounts_user_preview_end")


def with_preview_permission(user):
    user.user_permissions.add(
        Permission.objects.get(codename="preview_as_user", content_type__app_label="accounts")
    )
    return User.objects.get(pk=user.pk)


@pytest.fixture
def world(db):
    """An external Portal editor who may write at its own site and read another, with a ticket,
    machine, contact person and attachment at each, and a foreign site it may not reach."""
    team = TeamFactory(name="Support")
    ticket_type = TicketTypeFactory(name="Malfunction")
    own = AddressFactory(name="Own site")
    readonly = AddressFactory(name="Read-only site")
    foreign = AddressFactory(name="Foreign site")
    customer = ExternalUserFactory(
        email="erika@example.com",
        first_name="Erika",
        last_name="Kunde",
        address=own,
        roles=["Portal editor"],
        write=[own],
        read=[readonly],
        types=[ticket_type],
        teams=[team],
    )
    objects = {"user": customer, "team": team, "type": ticket_type}
    for key, address in [("own", own), ("readonly", readonly), ("foreign", foreign)]:
        objects[key] = address
        objects[f"{key}_machine"] = MachineFactory(address=address)
        objects[f"{key}_contact"] = ContactPersonFactory(address=address)
        ticket = TicketFactory(
            address=address, type=ticket_type, responsible_team=team, subject=f"{key} ticket"
        )
        message = MessageFactory(ticket=ticket, kind=Message.Kind.DESCRIPTION)
        objects[f"{key}_ticket"] = ticket
        objects[f"{key}_attachment"] = Attachment.objects.create(
            message=message,
            file=SimpleUploadedFile(f"{key}.txt", b"data"),
            original_name=f"{key}.txt",
            size=4,
        )
    administrator = UserFactory(email="admin@example.com", is_staff=True)
    administrator.user_permissions.add(Permission.objects.get(codename="view_user"))
    objects["admin"] = with_preview_permission(administrator)
    return objects


@pytest.fixture
def previewing(client, world):
    """The administrator's browser, previewing the portal as the customer."""
    client.force_login(world["admin"])
    response = client.post(preview_url(world["user"]))
    assert response.status_code == 302 and response.url == reverse("portal:dashboard")
    return client


# ---------------------------------------------------------------------------------------------
# Who may preview.


def test_start_is_recorded_in_the_admin_log(previewing, world):
    entry = LogEntry.objects.get(object_id=str(world["user"].pk))
    assert entry.user == world["admin"]
    assert entry.content_type == ContentType.objects.get_for_model(User)
    assert entry.action_flag == CHANGE
    assert "preview" in entry.get_change_message()
    assert "admin@example.com" in entry.get_change_message()
    assert abs((timezone.now() - entry.action_time).total_seconds()) < 60
    assert previewing.session[SESSION_KEY] == world["user"].pk


def test_the_confirmation_page_explains_before_starting(client, world):
    client.force_login(world["admin"])
    response = client.get(preview_url(world["user"]))
    assert response.status_code == 200
    assert "read-only" in text(response)
    assert SESSION_KEY not in client.session
    assert not LogEntry.objects.exists()


def test_staff_without_the_permission_cannot_preview(client, world):
    staff = UserFactory(is_staff=True)
    staff.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_user", "change_user"])
    )
    client.force_login(staff)
    assert client.get(preview_url(world["user"])).status_code == 403
    assert client.post(preview_url(world["user"])).status_code == 403
    assert SESSION_KEY not in client.session
    # Even with the session key planted, the portal is not shown as the customer.
    session = client.session
    session[SESSION_KEY] = world["user"].pk
    session.save()
    response = client.get(reverse("portal:dashboard"))
    assert response.status_code == 302
    assert SESSION_KEY not in client.session
    assert not LogEntry.objects.exists()


def test_the_change_page_offers_the_preview_only_with_the_permission(client, world):
    change = reverse("admin:accounts_user_change", args=[world["user"].pk])
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    assert preview_url(world["user"]) in client.get(change).content.decode()
    staff = UserFactory(is_staff=True)
    staff.user_permissions.add(*Permission.objects.filter(codename__in=["view_user"]))
    client.force_login(staff)
    assert preview_url(world["user"]) not in client.get(change).content.decode()


def test_a_non_staff_user_cannot_preview_even_with_the_permission(client, world):
    insider = with_preview_permission(UserFactory())
    client.force_login(insider)
    response = client.post(preview_url(world["user"]))
    assert response.status_code == 302 and response.url.startswith("/admin/login/")
    session = client.session
    session[SESSION_KEY] = world["user"].pk
    session.save()
    response = client.get(reverse("portal:dashboard"))
    assert response.status_code == 302  # the insider's own answer: not a portal user
    assert SESSION_KEY not in client.session


def test_external_users_cannot_preview(client, world):
    other = ExternalUserFactory(roles=["Portal editor"])
    client.force_login(other)
    response = client.post(preview_url(world["user"]))
    assert response.status_code == 302 and response.url.startswith("/admin/login/")
    session = client.session
    session[SESSION_KEY] = world["user"].pk
    session.save()
    response = client.get(reverse("portal:ticket-detail", args=[world["own_ticket"].number]))
    assert response.status_code == 404  # still only the other user's own scope


@pytest.mark.parametrize("kind", ["internal", "internal staff", "inactive external"])
def test_no_preview_as_an_internal_or_inactive_user(client, world, kind):
    target = {
        "internal": lambda: UserFactory(roles=["Support agent"]),
        "internal staff": lambda: UserFactory(is_staff=True, is_superuser=True),
        "inactive external": lambda: ExternalUserFactory(is_active=False),
    }[kind]()
    client.force_login(world["admin"])
    assert client.get(preview_url(target)).status_code == 403
    assert client.post(preview_url(target)).status_code == 403
    assert SESSION_KEY not in client.session
    assert not LogEntry.objects.exists()


def test_unknown_user_is_a_404(client, world):
    client.force_login(world["admin"])
    assert client.post(reverse("admin:accounts_user_preview", args=[999999])).status_code == 404


def test_withdrawing_the_permission_ends_the_preview(previewing, world):
    world["admin"].user_permissions.clear()
    response = previewing.get(reverse("portal:dashboard"))
    assert response.status_code == 302  # the admin's own answer: not a portal user
    assert SESSION_KEY not in previewing.session


def test_deactivating_the_customer_ends_the_preview(previewing, world):
    User.objects.filter(pk=world["user"].pk).update(is_active=False)
    response = previewing.get(reverse("portal:dashboard"))
    assert response.status_code == 302
    assert SESSION_KEY not in previewing.session


# ---------------------------------------------------------------------------------------------
# What the preview shows: the customer's portal, bannered.

PAGES = [
    ("portal:dashboard", None),
    ("portal:ticket-list", None),
    ("portal:ticket-create", None),
    ("portal:ticket-detail", {"number": "own_ticket"}),
    ("portal:ticket-detail", {"number": "readonly_ticket"}),
    ("portal:ticket-detail", {"number": "foreign_ticket"}),
    ("portal:address-list", None),
    ("portal:address-detail", {"pk": "readonly"}),
    ("portal:address-detail", {"pk": "foreign"}),
    ("portal:address-edit", {"pk": "own"}),
    ("portal:address-edit", {"pk": "readonly"}),
    ("portal:machine-detail", {"pk": "foreign_machine"}),
    ("portal:contact-edit", {"pk": "readonly_contact"}),
    ("portal:profile", None),
    ("portal:search", None),
]


def _url(world, route, kwargs):
    values = {}
    for name, key in (kwargs or {}).items():
        values[name] = world[key].number if name == "number" else world[key].pk
    return reverse(route, kwargs=values or None)


@pytest.mark.parametrize(("route", "kwargs"), PAGES)
def test_the_preview_answers_as_the_customer_with_a_banner(previewing, world, route, kwargs):
    url = _url(world, route, kwargs)
    as_customer = Client()
    as_customer.force_login(world["user"])
    expected = as_customer.get(url)

    response = previewing.get(url)

    assert response.status_code == expected.status_code
    shown = text(response)
    assert f"{BANNER} Erika Kunde (erika@example.com) — read-only" in shown
    assert "End preview" in shown
    if response.status_code == 200:
        assert response.context["user"] == world["user"]
        for name in ("tickets", "addresses"):
            if name in expected.context:
                assert list(response.context[name]) == list(expected.context[name])


def test_the_ticket_list_shows_the_customers_tickets(previewing, world):
    shown = text(previewing.get(reverse("portal:ticket-list") + "?state=all"))
    assert "own ticket" in shown and "readonly ticket" in shown
    assert "foreign ticket" not in shown


def test_admin_and_desk_keep_the_real_user(previewing, world):
    response = previewing.get(reverse("admin:accounts_user_changelist"))
    assert response.status_code == 200
    assert response.context["request"].user == world["admin"]
    assert BANNER not in text(response)


# ---------------------------------------------------------------------------------------------
# Read-only: every portal route refuses every write, and nothing is saved.


def _portal_routes():
    return sorted(name for name in all_route_names() if name.startswith("portal:"))


# Routes with arguments point at the customer's own objects (where a write would be allowed).
ROUTE_KWARGS = {
    "portal:ticket-detail": lambda w: {"number": w["own_ticket"].number},
    "portal:ticket-reply": lambda w: {"number": w["own_ticket"].number},
    "portal:ticket-status": lambda w: {"number": w["own_ticket"].number},
    "portal:attachment-download": lambda w: {
        "number": w["own_ticket"].number,
        "pk": w["own_attachment"].pk,
    },
    "portal:address-detail": lambda w: {"pk": w["own"].pk},
    "portal:address-edit": lambda w: {"pk": w["own"].pk},
    "portal:contact-create": lambda w: {"pk": w["own"].pk},
    "portal:machine-detail": lambda w: {"pk": w["own_machine"].pk},
    "portal:machine-edit": lambda w: {"pk": w["own_machine"].pk},
    "portal:contact-detail": lambda w: {"pk": w["own_contact"].pk},
    "portal:contact-edit": lambda w: {"pk": w["own_contact"].pk},
}


def _route_url(world, route):
    """A new portal route with arguments fails here until it is added to ROUTE_KWARGS."""
    kwargs = ROUTE_KWARGS.get(route)
    return reverse(route, kwargs=kwargs(world) if kwargs else None)


def _valid_post(world, route):
    """Data the customer could send to `route` and have saved (when not previewing)."""
    return {
        "portal:ticket-create": {
            "address": world["own"].pk,
            "type": world["type"].pk,
            "recipient": f"team:{world['team'].pk}",
            "priority": "normal",
            "subject": "Written in a preview",
            "description": "Written in a preview",
        },
        "portal:ticket-reply": {"body": "Written in a preview"},
        "portal:ticket-status": {
            "status": TicketStatus.objects.filter(is_closed=True, is_active=True).first().pk
        },
        "portal:address-edit": {
            "name": "Written in a preview",
            "street": "Neue Straße 2",
            "postal_code": "10115",
            "city": "Berlin",
            "country": "DE",
        },
        "portal:machine-edit": {"name": "Written in a preview"},
        "portal:contact-edit": {
            "first_name": "Written",
            "last_name": "in a preview",
            "is_active": "on",
        },
        "portal:contact-create": {"first_name": "Written", "last_name": "in a preview"},
        "portal:profile": {"form": "profile", "profile-language": "de"},
    }.get(route, {"name": "Written in a preview", "body": "Written in a preview"})


WRITING_ROUTES = [
    "portal:ticket-create",
    "portal:ticket-reply",
    "portal:ticket-status",
    "portal:address-edit",
    "portal:machine-edit",
    "portal:contact-edit",
    "portal:contact-create",
    "portal:profile",
]


def test_the_sweep_knows_every_writing_route():
    assert set(WRITING_ROUTES) <= set(_portal_routes())


@pytest.mark.parametrize("route", _portal_routes())
def test_every_portal_route_refuses_writes_in_preview(previewing, world, route):
    url = _route_url(world, route)
    before = snapshot()
    responses = [
        previewing.post(url, _valid_post(world, route)),
        previewing.put(url, "name=x"),
        previewing.patch(url, "name=x"),
        previewing.delete(url),
    ]
    for response in responses:
        assert response.status_code == 403, (route, response.status_code)
        assert "The preview is read-only" in text(response)
        assert BANNER in text(response)
    assert snapshot() == before, f"{route} changed data in a preview"


@pytest.mark.parametrize("route", WRITING_ROUTES)
def test_the_same_posts_save_for_the_customer_himself(client, world, route):
    """The control: the data sent in the preview test is valid, so only the preview refused it."""
    client.force_login(world["user"])
    before = snapshot()
    response = client.post(_route_url(world, route), _valid_post(world, route))
    assert response.status_code == 302, (route, response.status_code)
    assert snapshot() != before


@pytest.mark.django_db
def test_a_view_that_writes_on_get_saves_nothing_in_preview(client, monkeypatch):
    """Defence in depth: the database refuses writes for the whole previewed request."""
    own = AddressFactory(name="Unchanged")
    customer = ExternalUserFactory(address=own, roles=["Portal editor"], write=[own])
    admin_user = with_preview_permission(UserFactory(is_staff=True))
    original = DashboardView.get_context_data

    def writing_context(self, **kwargs):
        Address.objects.filter(pk=own.pk).update(name="Written on GET")
        return original(self, **kwargs)

    monkeypatch.setattr(DashboardView, "get_context_data", writing_context)
    client.force_login(admin_user)
    client.post(preview_url(customer))

    response = client.get(reverse("portal:dashboard"))

    assert response.status_code == 403
    assert "The preview is read-only" in text(response)
    own.refresh_from_db()
    assert own.name == "Unchanged"
    # The same view writes for the customer: the refusal came from the preview.
    as_customer = Client()
    as_customer.force_login(customer)
    assert as_customer.get(reverse("portal:dashboard")).status_code == 200
    own.refresh_from_db()
    assert own.name == "Written on GET"


@pytest.mark.django_db
def test_refused_posts_save_nothing(client):
    own = AddressFactory()
    team, ticket_type = TeamFactory(name="Support"), TicketTypeFactory(name="Malfunction")
    customer = ExternalUserFactory(
        address=own, roles=["Portal editor"], write=[own], types=[ticket_type], teams=[team]
    )
    ticket = TicketFactory(address=own, type=ticket_type, responsible_team=team)
    client.force_login(with_preview_permission(UserFactory(is_staff=True)))
    client.post(preview_url(customer))
    before = snapshot()
    assert (
        client.post(reverse("portal:ticket-reply", args=[ticket.number]), {"body": "x"}).status_code
        == 403
    )
    assert client.post(reverse("portal:ticket-create"), {"subject": "x"}).status_code == 403
    assert snapshot() == before


# ---------------------------------------------------------------------------------------------
# Ending the preview.


def test_ending_the_preview_returns_to_the_admin(previewing, world):
    response = previewing.post(END_URL)
    assert response.status_code == 302
    assert response.url == reverse("admin:accounts_user_change", args=[world["user"].pk])
    assert SESSION_KEY not in previewing.session
    messages = [entry.get_change_message() for entry in LogEntry.objects.order_by("pk")]
    assert messages[0].startswith("Started") and messages[1].startswith("Ended")
    # The portal is the administrator's own again: internal users are sent to their start page.
    assert previewing.get(reverse("portal:dashboard")).status_code == 302


def test_ending_is_a_post(previewing):
    assert previewing.get(END_URL).status_code == 405
    assert SESSION_KEY in previewing.session


def test_the_banner_ends_the_preview_from_any_portal_page(previewing, world):
    html = previewing.get(reverse("portal:ticket-list")).content.decode()
    assert f'action="{END_URL}"' in html
