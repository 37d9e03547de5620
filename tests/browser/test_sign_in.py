import pytest

from tests.browser.conftest import sign_in
from tests.factories import AddressFactory, ExternalUserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_wrong_password_and_unknown_email_get_the_same_message(page):
    ExternalUserFactory(email="anna@example.com")
    sign_in(page, "anna@example.com", "wrong-password")
    wrong_password = page.locator(".alert-danger, .invalid-feedback, .errorlist").first.inner_text()
    sign_in(page, "nobody@example.com", "wrong-password")
    unknown = page.locator(".alert-danger, .invalid-feedback, .errorlist").first.inner_text()
    assert "correct e-mail address and password" in wrong_password
    assert wrong_password == unknown
    assert page.csp_errors == []


def test_external_user_signs_in_case_insensitively_and_lands_in_the_portal(page):
    site = AddressFactory(name="Werk Nord")
    ExternalUserFactory(
        email="anna@example.com", roles=["Portal user"], read=[site], first_name="Anna"
    )
    sign_in(page, "Anna@Example.COM", "secret-Passw0rd")
    page.wait_for_url("**/portal/")
    assert page.csp_errors == []
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/accounts/login/")
