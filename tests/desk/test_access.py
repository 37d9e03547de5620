"""Who may enter the desk: every desk route, swept from the URLconf, refuses anonymous users
(sign-in), external users and internal users without the desk rights (404, as for a page that
does not exist); POST-only routes answer GET with 405 and change nothing."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLPattern, reverse

from desk import urls as desk_urls
from desk.models import SavedFilter
from tickets import services
from tickets.models import Message, Ticket, TicketEvent

pytestmark = pytest.mark.django_db

# Every desk route: (URL name, methods it serves, path kwargs). A new route must be added
# here, so it cannot slip past the access tests.
ROUTES = {
    "queue": ("GET", {}),
    "autocomplete-addresses": ("GET", {}),
    "bulk": ("POST", {}),
    "filter-save": ("POST", {}),
    "filter-delete": ("POST", {"pk": "saved"}),
    "ticket-detail": ("GET", {"number": "ticket"}),
    "ticket-message": ("POST", {"number": "ticket"}),
    "ticket-take": ("POST", {"number": "ticket"}),
    "ticket-forward": ("POST", {"number": "ticket"}),
    "ticket-type": ("POST", {"number": "ticket"}),
    "ticket-priority": ("POST", {"number": "ticket"}),
    "ticket-status": ("POST", {"number": "ticket"}),
    "ticket-close": ("POST", {"number": "ticket"}),
    "ticket-reopen": ("POST", {"number": "ticket"}),
    "attachment-download": ("GET", {"number": "ticket", "pk": "attachment"}),
}


def test_every_desk_route_is_in_the_sweep():
    names = {p.name for p in desk_urls.urlpatterns if isinstance(p, URLPattern)}
    assert names == set(ROUTES)


@pytest.fixture
def objects(world, file_ticket):
    ticket = file_ticket(files=[SimpleUploadedFile("plan.pdf", b"%PDF-1.4 plan")])
    attachment = ticket.messages.get().attachments.get()
    saved = SavedFilter.objects.create(user=world.agent, name="Mine", query="queue=mine")
    return {"ticket": ticket.number, "attachment": attachment.pk, "saved": saved.pk}


def url_of(name, objects):
    _, kwargs = ROUTES[name]
    return reverse(f"desk:{name}", kwargs={key: objects[value] for key, value in kwargs.items()})


def state():
    return (
        Ticket.objects.values_list(
            "pk",
            "status_id",
            "priority",
            "type_id",
            "responsible_team_id",
            "responsible_user_id",
            "closed_at",
        )
        .order_by("pk")
        .first(),
        Message.objects.count(),
        TicketEvent.objects.count(),
        SavedFilter.objects.count(),
    )


@pytest.mark.parametrize("name", sorted(ROUTES))
def test_anonymous_is_sent_to_sign_in(client, objects, name):
    url = url_of(name, objects)
    for method in ("get", "post"):
        response = getattr(client, method)(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("who", ["customer", "external_agent", "no_rights", "admin_only"])
@pytest.mark.parametrize("name", sorted(ROUTES))
def test_outsiders_get_404_everywhere(client, world, objects, name, who):
    before = state()
    client.force_login(getattr(world, who))
    url = url_of(name, objects)
    assert client.get(url).status_code == 404
    response = client.post(
        url,
        {
            "kind": "reply",
            "body": "hello",
            "action": "take",
            "tickets": [objects["ticket"]],
            "name": "x",
        },
    )
    assert response.status_code == 404
    assert state() == before


@pytest.mark.parametrize("name", sorted(n for n, (m, _) in ROUTES.items() if m == "POST"))
def test_post_routes_refuse_get(client, world, objects, name):
    before = state()
    client.force_login(world.agent)
    assert client.get(url_of(name, objects)).status_code == 405
    assert state() == before


@pytest.mark.parametrize(
    "name", sorted(n for n, (_, kwargs) in ROUTES.items() if "number" in kwargs)
)
def test_unknown_ticket_is_404(client, world, objects, name):
    client.force_login(world.agent)
    url = url_of(name, {**objects, "ticket": 999999999})
    method = ROUTES[name][0].lower()
    assert getattr(client, method)(url).status_code == 404


def test_desk_users_reach_the_desk(client, world, objects):
    for who in ("agent", "reader"):
        client.force_login(getattr(world, who))
        assert client.get(reverse("desk:queue")).status_code == 200
        assert client.get(url_of("ticket-detail", objects)).status_code == 200


def test_home_sends_desk_users_to_the_queue(client, world):
    client.force_login(world.agent)
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"] == reverse("desk:queue")
    client.force_login(world.admin_only)
    assert client.get(reverse("home"))["Location"] == reverse("admin:index")


def test_a_deactivated_agent_is_signed_out(client, world):
    client.force_login(world.agent)
    world.agent.is_active = False
    world.agent.save()
    response = client.get(reverse("desk:queue"))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_a_role_taken_away_closes_the_desk_on_the_next_request(client, world):
    client.force_login(world.agent)
    assert client.get(reverse("desk:queue")).status_code == 200
    world.agent.groups.clear()
    assert client.get(reverse("desk:queue")).status_code == 404


def test_someone_elses_saved_filter_is_404(client, world, objects):
    client.force_login(world.colleague)
    response = client.post(url_of("filter-delete", objects))
    assert response.status_code == 404
    assert SavedFilter.objects.filter(pk=objects["saved"]).exists()


def test_attachment_download_is_a_sandboxed_download(client, world, objects):
    client.force_login(world.agent)
    response = client.get(url_of("attachment-download", objects))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"%PDF-1.4 plan"
    assert response["Content-Disposition"].startswith("attachment;")
    assert 'filename="plan.pdf"' in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"].startswith("sandbox")
    assert response["Content-Type"] == "application/octet-stream"


def test_attachment_is_fetched_through_its_ticket(client, world, objects, file_ticket):
    other = file_ticket("Another ticket")
    client.force_login(world.agent)
    url = reverse(
        "desk:attachment-download", kwargs={"number": other.number, "pk": objects["attachment"]}
    )
    assert client.get(url).status_code == 404


def test_internal_note_attachment_reaches_staff_but_never_the_portal(client, world, file_ticket):
    ticket = file_ticket()
    note = services.ticket_add_internal_note(
        actor=world.agent,
        ticket=ticket,
        body="see photo",
        files=[SimpleUploadedFile("photo.jpg", b"jpeg")],
    )
    attachment = note.attachments.get()
    client.force_login(world.agent)
    url = reverse("desk:attachment-download", kwargs={"number": ticket.number, "pk": attachment.pk})
    assert client.get(url).status_code == 200
    client.force_login(world.customer)
    assert client.get(url).status_code == 404


@pytest.mark.django_db
def test_an_internal_user_with_a_portal_role_does_not_enter_the_desk(client):
    from tests.factories import UserFactory

    user = UserFactory(roles=["Portal editor"])
    client.force_login(user)
    assert client.get("/desk/").status_code == 404
