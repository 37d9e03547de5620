"""User integrity: e-mail login, unique e-mail, and the external-user constraints."""

import pytest
from django.contrib.auth import authenticate
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.test import RequestFactory

from accounts.models import User
from tests.factories import AddressFactory, ContactPersonFactory, ExternalUserFactory, UserFactory

PASSWORD = "secret-Passw0rd"  # the factories' password


def _sign_in(username, password=PASSWORD):
    # django-axes's backend comes first in AUTHENTICATION_BACKENDS and needs the request.
    return authenticate(request=RequestFactory().post("/"), username=username, password=password)


@pytest.mark.django_db
@pytest.mark.parametrize("typed", ["anna@example.com", "ANNA@Example.com", "  Anna@EXAMPLE.com "])
def test_e_mail_login_is_case_insensitive(typed):
    anna = UserFactory(email="Anna@Example.com")

    assert _sign_in(typed) == anna


@pytest.mark.django_db
def test_login_refuses_a_wrong_password_an_unknown_address_and_an_inactive_user():
    UserFactory(email="anna@example.com")
    UserFactory(email="bert@example.com", is_active=False)

    assert _sign_in("anna@example.com", "wrong-Passw0rd") is None
    assert _sign_in("nobody@example.com") is None
    assert _sign_in("bert@example.com") is None


@pytest.mark.django_db
def test_e_mail_is_stored_in_lower_case():
    user = User.objects.create_user("Anna@Example.COM", password=PASSWORD)

    assert User.objects.get(pk=user.pk).email == "anna@example.com"


@pytest.mark.django_db
def test_e_mail_is_unique_case_insensitively_in_the_database():
    UserFactory(email="anna@example.com")

    # bulk_create skips save(), which would lower-case the address: the constraint must hold.
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.bulk_create([User(email="ANNA@Example.com", password="x")])


@pytest.mark.django_db
def test_e_mail_is_unique_case_insensitively_in_validation():
    UserFactory(email="anna@example.com")
    duplicate = User(email="ANNA@Example.com")
    duplicate.set_password(PASSWORD)

    with pytest.raises(ValidationError) as error:
        duplicate.full_clean()

    assert "email" in error.value.message_dict


@pytest.mark.django_db
@pytest.mark.parametrize(
    "fields",
    [{"is_staff": True}, {"is_superuser": True}, {"is_staff": True, "is_superuser": True}],
)
def test_an_external_user_is_never_staff_or_superuser_in_the_database(fields):
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(
            email="ext@example.com", is_external=True, address=AddressFactory(), **fields
        )


@pytest.mark.django_db
def test_an_external_user_turned_staff_later_is_refused_by_the_database():
    user = ExternalUserFactory()

    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.filter(pk=user.pk).update(is_staff=True)


@pytest.mark.django_db
def test_an_external_user_needs_an_address_in_the_database():
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(email="ext@example.com", is_external=True, address=None)


@pytest.mark.django_db
def test_internal_users_may_be_staff_and_need_no_address():
    user = User.objects.create(email="staff@example.com", is_staff=True, is_superuser=True)

    assert user.pk is not None and user.address is None


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"is_staff": True}, "is_staff"),
        ({"is_superuser": True}, "is_superuser"),
        ({"address": None}, "address"),
    ],
)
def test_clean_refuses_an_invalid_external_user(fields, field):
    user = ExternalUserFactory.build(**{"address": AddressFactory(), **fields})

    with pytest.raises(ValidationError) as error:
        user.clean()

    assert field in error.value.message_dict


@pytest.mark.django_db
def test_clean_refuses_a_contact_person_of_another_address():
    own, other = AddressFactory(), AddressFactory()
    user = ExternalUserFactory(address=own)
    user.contact_person = ContactPersonFactory(address=other)

    with pytest.raises(ValidationError) as error:
        user.clean()

    assert "contact_person" in error.value.message_dict


@pytest.mark.django_db
def test_clean_accepts_a_contact_person_of_the_users_address():
    own = AddressFactory()
    user = ExternalUserFactory(address=own)
    user.contact_person = ContactPersonFactory(address=own)

    user.clean()  # no error


@pytest.mark.django_db
def test_clean_refuses_a_contact_person_without_an_address():
    user = UserFactory()
    user.contact_person = ContactPersonFactory()

    with pytest.raises(ValidationError) as error:
        user.clean()

    assert "contact_person" in error.value.message_dict
