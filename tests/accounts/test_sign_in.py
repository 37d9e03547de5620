"""Sign in and out, throttling, password reset (/accounts/…)."""

import re

import pytest
from django.core import mail

from tests.factories import AddressFactory, ExternalUserFactory, UserFactory

PASSWORD = "secret-Passw0rd"
SAME_MESSAGE = "Please enter a correct e-mail address and password."


@pytest.fixture
def customer():
    site = AddressFactory()
    return ExternalUserFactory(email="anna@example.com", roles=["Portal user"], read=[site])


def login(client, email, password=PASSWORD, **extra):
    return client.post("/accounts/login/", {"username": email, "password": password, **extra})


@pytest.mark.django_db
def test_sign_in_is_case_insensitive_and_external_users_land_in_the_portal(client, customer):
    response = login(client, "ANNA@Example.com")
    assert response.status_code == 302
    assert client.get("/").url == "/portal/"


@pytest.mark.django_db
def test_administrators_without_desk_rights_land_in_the_administration(client):
    UserFactory(email="admin@example.com", is_staff=True)
    login(client, "admin@example.com")
    assert client.get("/").url == "/admin/"


@pytest.mark.django_db
def test_support_agents_land_in_the_desk(client):
    UserFactory(email="agent@example.com", roles=["Support agent"])
    login(client, "agent@example.com")
    assert client.get("/").url == "/desk/"


@pytest.mark.django_db
def test_unknown_email_wrong_password_and_inactive_account_get_the_same_message(client, customer):
    UserFactory(email="gone@example.com", is_active=False)
    for email, password in [
        ("anna@example.com", "wrong"),
        ("nobody@example.com", PASSWORD),
        ("gone@example.com", PASSWORD),
    ]:
        response = login(client, email, password)
        assert response.status_code == 200
        assert SAME_MESSAGE in response.content.decode()
        assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_sign_in_is_throttled_per_account(client, customer, settings):
    settings.AXES_FAILURE_LIMIT = 3
    for _ in range(3):
        login(client, "anna@example.com", "wrong")
    response = login(client, "anna@example.com")  # the right password, but locked now
    assert response.status_code == 429
    assert "Too many sign-in attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_sign_in_is_throttled_per_client_address(client, customer, settings):
    settings.AXES_FAILURE_LIMIT = 3
    for index in range(3):
        login(client, f"guess{index}@example.com", "wrong")
    response = login(client, "anna@example.com")
    assert response.status_code == 429


@pytest.mark.django_db
def test_next_is_followed_only_within_this_site(client, customer):
    response = login(client, "anna@example.com", next="https://evil.example.net/")
    assert response.status_code == 302
    assert not response.url.startswith("https://evil")
    client.post("/accounts/logout/")
    response = login(client, "anna@example.com", next="/portal/tickets/")
    assert response.url == "/portal/tickets/"


@pytest.mark.django_db
def test_logout_needs_post(client, customer):
    client.force_login(customer)
    assert client.get("/accounts/logout/").status_code == 405
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_password_reset_mails_a_working_link_only_to_existing_accounts(client, customer):
    response = client.post("/accounts/password/reset/", {"email": "nobody@example.com"})
    assert response.status_code == 302
    assert mail.outbox == []

    response = client.post("/accounts/password/reset/", {"email": "ANNA@example.com"})
    assert response.url == "/accounts/password/reset/done/"
    assert len(mail.outbox) == 1
    link = re.search(r"https?://[^/]+(/accounts/password/reset/\S+/)", mail.outbox[0].body)[1]
    response = client.get(link, follow=True)
    form_url = response.redirect_chain[-1][0]
    response = client.post(
        form_url, {"new_password1": "N3w-Passw0rd!x", "new_password2": "N3w-Passw0rd!x"}
    )
    assert response.url == "/accounts/password/reset/complete/"
    client.logout()
    assert login(client, "anna@example.com", "N3w-Passw0rd!x").status_code == 302


@pytest.mark.django_db
def test_password_change(client, customer):
    client.force_login(customer)
    response = client.post(
        "/accounts/password/change/",
        {
            "old_password": PASSWORD,
            "new_password1": "An0ther-Passw0rd",
            "new_password2": "An0ther-Passw0rd",
        },
    )
    assert response.url == "/accounts/password/change/done/"
    customer.refresh_from_db()
    assert customer.check_password("An0ther-Passw0rd")


@pytest.mark.django_db
def test_login_page_sends_a_strict_content_security_policy(client):
    response = client.get("/accounts/login/")
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy
    assert response["X-Content-Type-Options"] == "nosniff"
