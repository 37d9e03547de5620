"""accounts.backends.EmailBackend.get_user reads the signed-in user with a statement written
once: the same user, with the same field values, as Django's ModelBackend gives, and None
whenever Django's gives None (unknown id, inactive user)."""

import pytest
from django.contrib.auth.backends import ModelBackend
from django.utils import timezone

from accounts.backends import EmailBackend
from tests.factories import ExternalUserFactory, UserFactory

pytestmark = pytest.mark.django_db


def field_values(user):
    return {field.attname: getattr(user, field.attname) for field in user._meta.concrete_fields}


@pytest.mark.parametrize("factory", [UserFactory, ExternalUserFactory])
def test_the_user_is_the_one_model_backend_reads(factory):
    user = factory(last_login=timezone.now())
    ours, django = EmailBackend().get_user(user.pk), ModelBackend().get_user(user.pk)
    assert ours is not None and ours.pk == user.pk
    assert field_values(ours) == field_values(django)
    assert ours._state.adding is False and ours._state.db == django._state.db
    assert ours.last_login.tzinfo is not None  # converted as the ORM converts it


def test_an_unknown_or_inactive_user_is_none():
    user = UserFactory(is_active=False)
    assert EmailBackend().get_user(user.pk) is None
    assert EmailBackend().get_user(user.pk + 1000) is None


def test_a_signed_in_request_gets_its_user(client):
    user = ExternalUserFactory(roles=["Portal user"])
    client.force_login(user)
    response = client.get("/portal/")
    assert response.status_code == 200
    assert response.wsgi_request.user.pk == user.pk
