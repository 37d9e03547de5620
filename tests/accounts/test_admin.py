"""User and team admin: the manual's "create external user" journey, its rules, the password
paths, the can't-file warning, autocomplete narrowing and the user list."""

import re
from smtplib import SMTPException

import pytest
from django.contrib.messages import constants as message_levels
from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts.models import Team, User
from tests.factories import (
    AddressFactory,
    ContactPersonFactory,
    ExternalUserFactory,
    TeamFactory,
    TicketStatusFactory,
    TicketTypeFactory,
    UserFactory,
    role,
)

pytestmark = pytest.mark.django_db

ADD_URL = reverse("admin:accounts_user_add")
CHANGELIST_URL = reverse("admin:accounts_user_changelist")
AUTOCOMPLETE_URL = reverse("admin:autocomplete")
GOOD_PASSWORD = "Sturdy-Lantern-4711"

M2M_FIELDS = (
    "read_addresses",
    "write_addresses",
    "responsible_teams",
    "responsible_users",
    "ticket_types",
    "allowed_statuses",
    "groups",
)


def change_url(user):
    return reverse("admin:accounts_user_change", args=[user.pk])


@pytest.fixture
def superuser():
    return UserFactory(email="root@example.com", is_staff=True, is_superuser=True)


@pytest.fixture
def staff_client(client, superuser):
    client.force_login(superuser)
    return client


@pytest.fixture
def world():
    """Everything the manual's form refers to: a customer with two sites, contact persons,
    a team, internal users, ticket types and statuses."""
    headquarters = AddressFactory(number="20001", name="Acme Maschinenbau GmbH")
    site = AddressFactory(number="20002", name="Acme Werk Süd", parent=headquarters)
    other = AddressFactory(number="30001", name="Other Customer AG")
    return {
        "address": headquarters,
        "site": site,
        "other": other,
        "contact": ContactPersonFactory(address=headquarters, first_name="Erika"),
        "other_contact": ContactPersonFactory(address=other),
        "team": TeamFactory(name="Service"),
        "agent": UserFactory(email="agent@example.com", first_name="Anna", last_name="Agent"),
        "former": UserFactory(
            email="former@example.com", first_name="Anna", last_name="Former", is_active=False
        ),
        "type": TicketTypeFactory(name="Repair"),
        "status_in_progress": TicketStatusFactory(name="Being handled"),
        "status_solved": TicketStatusFactory(name="Answered", is_closed=True),
        "portal_user": role("Portal user"),
    }


def full_external_post(world, **overrides):
    """The POST of the add form with every field of the manual filled in."""
    data = {
        "email": "Erika.Kunde@Example.com",
        "first_name": "Erika",
        "last_name": "Kunde",
        "language": "de",
        "password1": GOOD_PASSWORD,
        "password2": GOOD_PASSWORD,
        "is_external": "on",
        "address": world["address"].pk,
        "read_addresses": [world["address"].pk, world["site"].pk],
        "write_addresses": [world["address"].pk],
        "contact_person": world["contact"].pk,
        "responsible_teams": [world["team"].pk],
        "responsible_users": [world["agent"].pk],
        "ticket_types": [world["type"].pk],
        "restrict_status": "on",
        "allowed_statuses": [world["status_in_progress"].pk, world["status_solved"].pk],
        "groups": [world["portal_user"].pk],
        "is_active": "on",
        "_save": "Save",
    }
    for key, value in overrides.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data


def row_counts():
    counts = {"users": User.objects.count()}
    for name in M2M_FIELDS:
        counts[name] = getattr(User, name).through.objects.count()
    return counts


def shown_messages(response):
    return [(message.level, str(message)) for message in response.context["messages"]]


def form_errors(response):
    return response.context["adminform"].form.errors


def sign_in(email, password):
    """Sign in through the login page, as a person would; returns the signed-in client."""
    browser = Client()
    response = browser.post(reverse("login"), {"username": email, "password": password})
    return browser if response.status_code == 302 and "_auth_user_id" in browser.session else None


# --------------------------------------------------------------------------------------------
# The add form: one page, the manual's order and wording.


def test_add_form_shows_external_access_in_the_manuals_order(staff_client, world):
    response = staff_client.get(ADD_URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert "External access" in html
    assert "After you’ve created a user" not in html  # no second page to finish the user
    labels = [
        "External",
        "Address",
        "Read permission",
        "Write permission",
        "Contact person",
        "Person responsible: teams",
        "Person responsible: users",
        "Type of ticket",
        "Restrict customer status",
        "Ticket status",
    ]
    field_ids = [
        "id_is_external",
        "id_address",
        "id_read_addresses",
        "id_write_addresses",
        "id_contact_person",
        "id_responsible_teams",
        "id_responsible_users",
        "id_ticket_types",
        "id_restrict_status",
        "id_allowed_statuses",
    ]
    positions = []
    for field_id, label in zip(field_ids, labels, strict=True):
        match = re.search(rf'<label[^>]*for="{field_id}"[^>]*>{re.escape(label)}:?</label>', html)
        assert match, f"label {label!r} for {field_id} missing"
        positions.append(match.start())
    assert positions == sorted(positions)
    # Roles are labelled as the basic rights, and every relation searches as you type.
    assert "Roles (basic rights)" in html
    assert "Addresses, Machines, Contact person and Tickets" in html
    for field_id in [*field_ids, "id_groups"]:
        if field_id not in ("id_is_external", "id_restrict_status"):
            select = re.search(rf'<select[^>]*id="{field_id}"[^>]*>', html).group(0)
            assert "admin-autocomplete" in select, field_id
    assert SEND_LINK_TEXT in html


SEND_LINK_TEXT = "Send the user an e-mail with a link to set the password"


def test_add_external_user_with_every_field_in_one_save(staff_client, world):
    response = staff_client.post(ADD_URL, full_external_post(world), follow=True)

    assert response.status_code == 200
    user = User.objects.get(email="erika.kunde@example.com")
    assert response.redirect_chain[-1][0] == change_url(user)
    assert (user.first_name, user.last_name, user.language) == ("Erika", "Kunde", "de")
    assert user.is_external and user.is_active
    assert not user.is_staff and not user.is_superuser
    assert user.address == world["address"]
    assert set(user.read_addresses.all()) == {world["address"], world["site"]}
    assert set(user.write_addresses.all()) == {world["address"]}
    assert user.contact_person == world["contact"]
    assert set(user.responsible_teams.all()) == {world["team"]}
    assert set(user.responsible_users.all()) == {world["agent"]}
    assert set(user.ticket_types.all()) == {world["type"]}
    assert user.restrict_status
    assert set(user.allowed_statuses.all()) == {
        world["status_in_progress"],
        world["status_solved"],
    }
    assert set(user.groups.all()) == {world["portal_user"]}
    # The user can file tickets, so there is no warning; just the success message.
    levels = [level for level, _text in shown_messages(response)]
    assert message_levels.WARNING not in levels
    assert message_levels.SUCCESS in levels


def test_the_password_set_on_the_form_lets_the_user_sign_in(staff_client, world):
    staff_client.post(ADD_URL, full_external_post(world))
    assert sign_in("erika.kunde@example.com", GOOD_PASSWORD) is not None
    assert sign_in("erika.kunde@example.com", "wrong-password") is None


def test_add_internal_staff_user(staff_client, world):
    data = {
        "email": "support@example.com",
        "first_name": "Sam",
        "last_name": "Support",
        "language": "en",
        "password1": GOOD_PASSWORD,
        "password2": GOOD_PASSWORD,
        "groups": [role("Support agent").pk],
        "is_active": "on",
        "is_staff": "on",
        "_save": "Save",
    }
    response = staff_client.post(ADD_URL, data, follow=True)
    user = User.objects.get(email="support@example.com")
    assert not user.is_external and user.is_staff
    assert user.address is None
    # Internal users get no "cannot file" warning.
    assert all(level != message_levels.WARNING for level, _t in shown_messages(response))


# --------------------------------------------------------------------------------------------
# Validation: a clear message on the field, nothing saved.

INVALID_ADDS = {
    "external user without address": (
        {"address": None, "contact_person": None},
        "address",
        "An external user needs an address.",
    ),
    "contact person of another address": (
        {"contact_person": "other_contact"},
        "contact_person",
        "belongs to address 30001, not to the user's address 20001",
    ),
    "inactive internal user responsible": (
        {"responsible_users": ["agent", "former"]},
        "responsible_users",
        "Only active internal users can be responsible; not: Anna Former.",
    ),
    "external user responsible": (
        {"responsible_users": ["a_customer"]},
        "responsible_users",
        "Only active internal users can be responsible",
    ),
    "restricted status without statuses": (
        {"allowed_statuses": None},
        "allowed_statuses",
        "Restrict customer status needs at least one ticket status.",
    ),
    "statuses without the restriction": (
        {"restrict_status": None},
        "allowed_statuses",
        "These statuses apply only when “Restrict customer status” is ticked.",
    ),
    "external staff": ({"is_staff": "on"}, "is_staff", "An external user can never be staff."),
    "external superuser": (
        {"is_superuser": "on"},
        "is_superuser",
        "An external user can never be a superuser.",
    ),
    "neither password nor link": (
        {"password1": None, "password2": None},
        "password1",
        "Set a password, or tick “Send the user an e-mail with a link to set the password”.",
    ),
    "password and link": (
        {"send_password_link": "on"},
        "password1",
        "Either set a password or send a link, not both",
    ),
    "passwords differ": (
        {"password2": GOOD_PASSWORD + "x"},
        "password2",
        "The two password fields didn’t match.",
    ),
    "password too weak": (
        {"password1": "password", "password2": "password"},
        "password2",
        "This password is too common.",
    ),
    "e-mail taken in another case": (
        {"email": "AGENT@example.com"},
        "email",
        "A user with this e-mail address already exists.",
    ),
}


def resolve(world, value):
    """Turn world keys in a POST override into primary keys."""
    if isinstance(value, list):
        return [resolve(world, item) for item in value]
    if isinstance(value, str) and value in world:
        return world[value].pk
    return value


@pytest.mark.parametrize("case", INVALID_ADDS, ids=list(INVALID_ADDS))
def test_invalid_add_shows_the_message_and_saves_nothing(staff_client, world, case):
    overrides, field, message = INVALID_ADDS[case]
    world["a_customer"] = ExternalUserFactory(email="customer@example.com")
    before = row_counts()

    data = full_external_post(world, **{k: resolve(world, v) for k, v in overrides.items()})
    response = staff_client.post(ADD_URL, data)

    assert response.status_code == 200
    errors = form_errors(response)
    assert any(message in text for text in errors[field]), errors
    # One clear message per rule: the model's own wording is not repeated on the field.
    assert len(errors[field]) == 1, errors[field]
    assert message in response.content.decode().replace("&#x27;", "'")
    assert row_counts() == before
    assert len(mail.outbox) == 0


def test_internal_user_with_external_access_fields_is_rejected(staff_client, world):
    """Decision: external-access fields on an internal user are rejected, not cleared."""
    before = row_counts()
    data = full_external_post(world, is_external=None)
    response = staff_client.post(ADD_URL, data)

    assert response.status_code == 200
    errors = form_errors(response)
    for field in (
        "address",
        "read_addresses",
        "write_addresses",
        "contact_person",
        "responsible_teams",
        "responsible_users",
        "ticket_types",
        "restrict_status",
        "allowed_statuses",
    ):
        assert errors[field] == [
            "Only external users have this. Tick “External”, or empty this field."
        ]
    assert row_counts() == before


def test_unticking_external_needs_the_access_fields_emptied(staff_client, world):
    customer = ExternalUserFactory(
        email="customer@example.com", address=world["address"], write=[world["address"]]
    )
    base = {
        "email": customer.email,
        "first_name": customer.first_name,
        "last_name": customer.last_name,
        "language": "en",
        "is_active": "on",
        "_save": "Save",
    }
    response = staff_client.post(
        change_url(customer),
        {**base, "address": world["address"].pk, "write_addresses": [world["address"].pk]},
    )
    assert response.status_code == 200
    assert "address" in form_errors(response)
    customer.refresh_from_db()
    assert customer.is_external
    assert customer.write_addresses.count() == 1

    response = staff_client.post(change_url(customer), base)
    assert response.status_code == 302
    customer.refresh_from_db()
    assert not customer.is_external
    assert customer.address is None
    assert customer.write_addresses.count() == 0


def test_inactive_contact_person_cannot_be_chosen(staff_client, world):
    world["contact"].is_active = False
    world["contact"].save()
    before = row_counts()
    response = staff_client.post(ADD_URL, full_external_post(world))
    assert form_errors(response)["contact_person"] == [f"{world['contact']} is inactive."]
    assert row_counts() == before


def test_change_form_applies_the_same_rules(staff_client, world):
    customer = ExternalUserFactory(email="customer@example.com", address=world["address"])
    data = full_external_post(world, email=customer.email, password1=None, password2=None)
    data.update({"is_staff": "on", "contact_person": world["other_contact"].pk})
    response = staff_client.post(change_url(customer), data)
    errors = form_errors(response)
    assert errors["is_staff"] == ["An external user can never be staff."]
    assert "contact_person" in errors
    customer.refresh_from_db()
    assert not customer.is_staff
    assert customer.contact_person is None
    assert customer.read_addresses.count() == 0


# --------------------------------------------------------------------------------------------
# Passwords: an e-mailed link, or the usual change link.


def extract_link(message):
    match = re.search(r"http://testserver(/accounts/password/reset/\S+/\S+/)", message.body)
    assert match, message.body
    return match.group(1)


def test_send_link_instead_of_password(staff_client, world, django_capture_on_commit_callbacks):
    data = full_external_post(world, password1=None, password2=None, send_password_link="on")
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(ADD_URL, data, follow=True)

    user = User.objects.get(email="erika.kunde@example.com")
    assert not user.has_usable_password()
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["erika.kunde@example.com"]
    # The new user chose German: the mail is in German.
    assert message.subject == "Legen Sie Ihr Passwort für das Kundenportal fest"
    assert (
        message_levels.SUCCESS,
        "A link to set the password will be e-mailed to erika.kunde@example.com.",
    ) in shown_messages(response)

    # The user follows the link, sets a password and can sign in with it.
    browser = Client()
    page = browser.get(extract_link(message), follow=True)
    assert page.status_code == 200
    assert page.context["validlink"]
    done = browser.post(
        page.redirect_chain[-1][0],
        {"new_password1": "Brand-New-Secret-42", "new_password2": "Brand-New-Secret-42"},
    )
    assert done.status_code == 302
    assert sign_in(user.email, "Brand-New-Secret-42") is not None
    # The link works once.
    again = Client().get(extract_link(message), follow=True)
    assert not again.context["validlink"]


def test_no_mail_when_the_save_fails(staff_client, world, django_capture_on_commit_callbacks):
    data = full_external_post(
        world, password1=None, password2=None, send_password_link="on", address=None
    )
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = staff_client.post(ADD_URL, data)
    assert response.status_code == 200
    assert callbacks == []
    assert mail.outbox == []


def test_link_refused_for_an_inactive_account(staff_client, world):
    before = row_counts()
    data = full_external_post(
        world, password1=None, password2=None, send_password_link="on", is_active=None
    )
    response = staff_client.post(ADD_URL, data)
    assert "The account is inactive" in form_errors(response)["send_password_link"][0]
    assert row_counts() == before


def test_change_form_has_password_link_and_can_send_a_set_link(
    staff_client, world, django_capture_on_commit_callbacks
):
    customer = ExternalUserFactory(email="customer@example.com", address=world["address"])
    page = staff_client.get(change_url(customer))
    html = page.content.decode()
    assert 'href="../password/"' in html
    assert (
        staff_client.get(reverse("admin:auth_user_password_change", args=[customer.pk])).status_code
        == 200
    )
    assert SEND_LINK_TEXT in html

    data = full_external_post(
        world, email=customer.email, password1=None, password2=None, send_password_link="on"
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(change_url(customer), data)
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [customer.email]
    # The current password keeps working until the user sets a new one.
    customer.refresh_from_db()
    assert customer.check_password("secret-Passw0rd")


def test_admin_action_sends_links_to_active_users(staff_client, world):
    active = ExternalUserFactory(email="one@example.com")
    inactive = ExternalUserFactory(email="two@example.com", is_active=False)
    response = staff_client.post(
        CHANGELIST_URL,
        {"action": "email_password_link", "_selected_action": [active.pk, inactive.pk]},
        follow=True,
    )
    assert [message.to for message in mail.outbox] == [["one@example.com"]]
    texts = [text for _l, text in shown_messages(response)]
    assert "A link to set the password was sent to 1 user." in texts
    assert "1 inactive user got no link." in texts


def test_admin_action_reports_a_mail_that_could_not_be_sent(staff_client, monkeypatch):
    def broken_send_mail(*args, **kwargs):
        raise SMTPException("mail server down")

    monkeypatch.setattr("accounts.admin.send_mail", broken_send_mail)
    user = ExternalUserFactory(email="one@example.com")
    response = staff_client.post(
        CHANGELIST_URL,
        {"action": "email_password_link", "_selected_action": [user.pk]},
        follow=True,
    )
    assert (
        message_levels.ERROR,
        "The e-mail could not be sent to 1 user. Try again later.",
    ) in shown_messages(response)


# --------------------------------------------------------------------------------------------
# After saving: a warning when the external user cannot file any ticket.


def warnings(response):
    return [text for level, text in shown_messages(response) if level == message_levels.WARNING]


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"groups": None}, "no role grants the basic right Tickets (file)"),
        ({"write_addresses": None}, "no active address in the write set"),
        ({"ticket_types": None}, "no active ticket type is allowed"),
        ({"responsible_teams": None, "responsible_users": None}, "no active team or user"),
    ],
    ids=["no role", "no write address", "no ticket type", "no recipient"],
)
def test_warning_when_the_new_user_cannot_file(staff_client, world, overrides, reason):
    response = staff_client.post(ADD_URL, full_external_post(world, **overrides), follow=True)
    assert User.objects.filter(email="erika.kunde@example.com").exists()
    [warning] = warnings(response)
    assert warning.startswith("Erika Kunde cannot file any ticket yet: ")
    assert reason in warning


def test_warning_after_a_change_takes_the_saved_relations(staff_client, world):
    staff_client.post(ADD_URL, full_external_post(world))
    user = User.objects.get(email="erika.kunde@example.com")
    data = full_external_post(world, email=user.email, password1=None, password2=None)

    response = staff_client.post(change_url(user), {**data, "ticket_types": []}, follow=True)
    assert warnings(response) == [
        "Erika Kunde cannot file any ticket yet: no active ticket type is allowed."
    ]
    # Giving the type back removes the warning on the next save.
    response = staff_client.post(change_url(user), data, follow=True)
    assert warnings(response) == []


# --------------------------------------------------------------------------------------------
# Autocomplete narrowing.


def autocomplete(client, field_name, term="", model_name="user", app_label="accounts"):
    response = client.get(
        AUTOCOMPLETE_URL,
        {"app_label": app_label, "model_name": model_name, "field_name": field_name, "term": term},
    )
    assert response.status_code == 200
    return {result["text"] for result in response.json()["results"]}


def test_responsible_users_offers_only_active_internal_users(staff_client, world):
    ExternalUserFactory(email="anna.kunde@example.com", first_name="Anna", last_name="Kunde")
    assert autocomplete(staff_client, "responsible_users", "Anna") == {"Anna Agent"}
    # The same search on the user list finds all three.
    response = staff_client.get(CHANGELIST_URL, {"q": "Anna"})
    assert response.context["cl"].result_count == 3


def test_team_members_offers_only_internal_users(staff_client, world):
    ExternalUserFactory(email="anna.kunde@example.com", first_name="Anna", last_name="Kunde")
    assert autocomplete(staff_client, "members", "Anna", model_name="team") == {
        "Anna Agent",
        "Anna Former",
    }


def test_contact_person_offers_only_active_contacts(staff_client, world):
    ContactPersonFactory(address=world["address"], last_name="Gone", is_active=False)
    ContactPersonFactory(address=world["address"], last_name="Goneril")
    names = autocomplete(staff_client, "contact_person", "Gone")
    assert len(names) == 1
    assert next(iter(names)).endswith("Goneril")


def test_other_relations_offer_only_active_entries(staff_client, world):
    TeamFactory(name="Service old", is_active=False)
    TicketTypeFactory(name="Repair old", is_active=False)
    TicketStatusFactory(name="Being handled old", is_active=False)
    AddressFactory(number="20009", name="Acme closed site", is_active=False)
    assert autocomplete(staff_client, "responsible_teams", "Service") == {"Service"}
    assert autocomplete(staff_client, "ticket_types", "Repair") == {"Repair"}
    assert autocomplete(staff_client, "allowed_statuses", "Being handled") == {"Being handled"}
    assert autocomplete(staff_client, "write_addresses", "Acme") == {
        "20001 Acme Maschinenbau GmbH",
        "20002 Acme Werk Süd",
    }
    assert "Portal user" in autocomplete(staff_client, "groups", "Portal")


# --------------------------------------------------------------------------------------------
# The user list: filters, search, bounded queries.


def shown_emails(response):
    return {user.email for user in response.context["cl"].result_list}


@pytest.fixture
def people(world):
    return {
        "customer": ExternalUserFactory(
            email="customer@example.com", address=world["address"], roles=["Portal user"]
        ),
        "site_customer": ExternalUserFactory(
            email="site@example.com", address=world["site"], is_active=False
        ),
        "agent": world["agent"],
        "former": world["former"],
    }


def test_changelist_columns(staff_client, people):
    response = staff_client.get(CHANGELIST_URL)
    html = response.content.decode()
    for header in ("E-mail address", "Name", "External", "Address", "Active", "Roles"):
        assert header in html
    assert "Portal user" in html
    assert "20001 Acme Maschinenbau GmbH" in html


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"kind": "external"}, {"customer", "site_customer"}),
        ({"kind": "internal"}, {"agent", "former", "root"}),
        ({"address__id__exact": "address"}, {"customer"}),
        ({"groups__id__exact": "portal_user"}, {"customer"}),
        ({"is_active__exact": "0"}, {"site_customer", "former"}),
        ({"q": "20002"}, {"site_customer"}),
        ({"q": "Former"}, {"former"}),
        ({"q": "customer@example"}, {"customer"}),
    ],
)
def test_changelist_filters_and_search(staff_client, world, people, params, expected):
    params = {key: resolve(world, value) for key, value in params.items()}
    response = staff_client.get(CHANGELIST_URL, params)
    assert response.status_code == 200
    emails = {"root": "root@example.com", **{k: v.email for k, v in people.items()}}
    assert shown_emails(response) == {emails[name] for name in expected}


def test_changelist_filter_choices_are_named(staff_client, people):
    html = staff_client.get(CHANGELIST_URL).content.decode().lower()
    for title in ("by external or internal", "by address", "by role", "by active"):
        assert title in html


def test_changelist_queries_do_not_grow_with_users(
    staff_client, world, django_assert_max_num_queries
):
    portal_user, editor = role("Portal user"), role("Portal editor")
    for _number in range(30):
        ExternalUserFactory(address=world["address"], roles=[portal_user, editor])
    staff_client.get(CHANGELIST_URL)  # warm caches (content types, session)
    with django_assert_max_num_queries(10):
        response = staff_client.get(CHANGELIST_URL)
    assert response.context["cl"].result_count == 33
    assert response.content.decode().count("Portal editor, Portal user") == 30


# --------------------------------------------------------------------------------------------
# Teams.


def test_team_with_internal_members(staff_client, world):
    response = staff_client.post(
        reverse("admin:accounts_team_add"),
        {"name": "Field service", "email": "field@example.com", "members": [world["agent"].pk]},
    )
    assert response.status_code == 302
    assert list(Team.objects.get(name="Field service").members.all()) == [world["agent"]]


def test_team_refuses_external_members(staff_client, world):
    customer = ExternalUserFactory()
    teams_before = Team.objects.count()
    response = staff_client.post(
        reverse("admin:accounts_team_add"),
        {"name": "Field service", "members": [world["agent"].pk, customer.pk]},
    )
    assert response.status_code == 200
    assert form_errors(response)["members"] == ["Only internal users can be team members."]
    assert Team.objects.count() == teams_before
    assert Team.members.through.objects.count() == 0


def test_team_list_and_search(staff_client, world):
    world["team"].members.add(world["agent"])
    response = staff_client.get(reverse("admin:accounts_team_changelist"), {"q": "Serv"})
    assert [team.name for team in response.context["cl"].result_list] == ["Service"]
    assert "Anna Agent" in response.content.decode()
