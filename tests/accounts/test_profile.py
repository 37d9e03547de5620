"""/portal/profile/: my account, my language, my contact details, what I may reach."""

import uuid

import pytest
from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from access import policy
from accounts.models import User
from addresses.models import ContactPerson
from tests.factories import (
    AddressFactory,
    ContactPersonFactory,
    ExternalUserFactory,
    TeamFactory,
    TicketStatusFactory,
    TicketTypeFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

PROFILE = "/portal/profile/"


def role_with(*perms):
    group = Group.objects.create(name=f"test role {uuid.uuid4().hex[:8]}")
    for perm in perms:
        app_label, codename = perm.split(".")
        group.permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    return group


@pytest.fixture
def home():
    return AddressFactory(number="60001", name="Home Works GmbH", city="Bremen")


@pytest.fixture
def me_contact(home):
    return ContactPersonFactory(
        address=home, first_name="Petra", last_name="Profile", function="Buyer"
    )


def external(home, contact=None, roles=("Portal editor",), **kwargs):
    return ExternalUserFactory(
        roles=list(roles),
        address=home,
        contact_person=contact,
        first_name="Petra",
        last_name="Profile",
        email="petra@home.example",
        **kwargs,
    )


def contact_data(contact, **changes):
    data = {
        f"contact-{field}": getattr(contact, field)
        for field in [
            "salutation",
            "title",
            "first_name",
            "last_name",
            "function",
            "department",
            "email",
            "phone",
            "mobile",
        ]
    }
    if contact.is_active:
        data["contact-is_active"] = "on"
    data["form"] = "contact"
    data.update({f"contact-{k}": v for k, v in changes.items()})
    return data


def test_route_name():
    assert reverse("portal:profile") == PROFILE


def test_anonymous_is_sent_to_login(client):
    response = client.get(PROFILE)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_internal_user_is_sent_away(client):
    client.force_login(UserFactory(roles=["Support agent"]))
    response = client.get(PROFILE)
    assert response.status_code == 302
    assert response["Location"] == reverse("home")


def test_profile_shows_account_home_address_contact_and_password_link(client, home, me_contact):
    user = external(home, me_contact, write=[home])
    client.force_login(user)
    response = client.get(PROFILE)
    assert response.status_code == 200
    content = response.content.decode()
    assert "Petra Profile" in content
    assert "petra@home.example" in content
    assert "Home Works GmbH" in content
    assert "Buyer" in content
    assert reverse("password_change") in content
    # The e-mail is not a form field: it cannot be changed here.
    assert 'name="profile-email"' not in content
    assert 'name="profile-language"' in content


def test_language_is_saved_and_applied(client, home):
    user = external(home)
    client.force_login(user)
    response = client.post(PROFILE, {"form": "profile", "profile-language": "de"})
    assert response.status_code == 302
    assert response["Location"] == PROFILE
    user.refresh_from_db()
    assert user.language == "de"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "de"


def test_unknown_language_is_a_form_error(client, home):
    user = external(home)
    client.force_login(user)
    response = client.post(PROFILE, {"form": "profile", "profile-language": "xx"})
    assert response.status_code == 200
    assert "language" in response.context["profile_form"].errors
    user.refresh_from_db()
    assert user.language == "en"


def test_forged_profile_fields_are_ignored(client, home):
    user = external(home)
    client.force_login(user)
    client.post(
        PROFILE,
        {
            "form": "profile",
            "profile-language": "de",
            "profile-email": "evil@example.com",
            "profile-first_name": "Evil",
            "profile-is_external": "",
            "profile-is_staff": "on",
        },
    )
    user = User.objects.get(pk=user.pk)
    assert user.email == "petra@home.example"
    assert user.first_name == "Petra"
    assert user.is_external and not user.is_staff


def test_own_contact_is_editable_inline_with_the_write_right(client, home, me_contact):
    user = external(home, me_contact)  # address not even in R(u): the own-contact rule
    client.force_login(user)
    content = client.get(PROFILE).content.decode()
    assert 'name="contact-phone"' in content
    foreign = AddressFactory()
    data = contact_data(me_contact, phone="+49 421 555", address=foreign.pk)
    response = client.post(PROFILE, data)
    assert response.status_code == 302
    me_contact.refresh_from_db()
    assert me_contact.phone == "+49 421 555"
    assert me_contact.address == home


def test_own_contact_is_read_only_without_the_write_right(client, home, me_contact):
    user = external(home, me_contact, roles=("Portal user",), write=[home])
    client.force_login(user)
    content = client.get(PROFILE).content.decode()
    assert "Buyer" in content
    assert 'name="contact-phone"' not in content
    response = client.post(PROFILE, contact_data(me_contact, phone="+49 999"))
    assert response.status_code == 403
    me_contact.refresh_from_db()
    assert me_contact.phone == ""


def test_own_contact_hidden_without_the_contact_read_right(client, home, me_contact):
    user = external(home, me_contact, roles=(role_with(policy.TICKETS_READ),), write=[home])
    client.force_login(user)
    content = client.get(PROFILE).content.decode()
    assert "Buyer" not in content
    response = client.post(PROFILE, contact_data(me_contact, phone="+49 999"))
    assert response.status_code == 404
    me_contact.refresh_from_db()
    assert me_contact.phone == ""


def test_own_contact_main_conflict_is_a_form_error(client, home, me_contact):
    ContactPersonFactory(address=home, is_main=True)
    user = external(home, me_contact)
    client.force_login(user)
    response = client.post(PROFILE, contact_data(me_contact, is_main="on"))
    assert response.status_code == 200
    assert "is_main" in response.context["contact_form"].errors
    assert not ContactPerson.objects.get(pk=me_contact.pk).is_main


def test_summary_lists_what_i_may_reach(client, home):
    site = AddressFactory(name="Visible Site")
    hidden = AddressFactory(name="Hidden Site")
    inactive = AddressFactory(name="Closed Site", is_active=False)
    my_type = TicketTypeFactory(name="Breakdown")
    other_type = TicketTypeFactory(name="SecretType")
    team = TeamFactory(name="Service")
    other_team = TeamFactory(name="Backoffice")
    agent = UserFactory(first_name="Alex", last_name="Agent")
    restricted = TicketStatusFactory(name="Waiting for customer")
    TicketStatusFactory(name="SecretStatus")
    user = external(
        home,
        read=[site, inactive],
        write=[home],
        types=[my_type],
        teams=[team],
        recipients=[agent],
        restrict_status=True,
        statuses=[restricted],
    )
    client.force_login(user)
    content = client.get(PROFILE).content.decode()
    summary = content.split("What you may reach")[1]
    assert "Home Works GmbH" in summary
    assert "Visible Site" in summary
    assert "read and write" in summary
    assert "Hidden Site" not in summary
    assert "Closed Site" not in summary
    assert "Breakdown" in summary and "SecretType" not in summary
    assert "Service" in summary and "Backoffice" not in summary
    assert "Alex Agent" in summary
    assert "Waiting for customer" in summary and "SecretStatus" not in summary
    assert other_type.pk and other_team.pk and hidden.pk


def test_profile_query_count_is_bounded(client, home, me_contact, django_assert_max_num_queries):
    addresses = AddressFactory.create_batch(30)
    user = external(home, me_contact, read=addresses, write=[home])
    client.force_login(user)
    client.get(PROFILE)
    with django_assert_max_num_queries(14):
        assert client.get(PROFILE).status_code == 200


def test_summary_names_no_address_without_the_addresses_right(client, home):
    site = AddressFactory(name="Unnamed Site")
    user = external(home, roles=(role_with(policy.TICKETS_READ),), read=[site], write=[home])
    client.force_login(user)
    content = client.get(PROFILE).content.decode()
    summary = content.split("What you may reach")[1]
    assert "Unnamed Site" not in summary
    assert "Addresses shared with you: 2 (with write permission: 1)." in summary
