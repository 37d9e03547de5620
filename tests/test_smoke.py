import pytest

from tests.factories import ExternalUserFactory, TicketFactory


@pytest.mark.django_db
def test_ticket_gets_number_and_default_status():
    first = TicketFactory()
    second = TicketFactory()
    assert first.number >= 100001
    assert second.number > first.number
    assert first.status.is_default


@pytest.mark.django_db
def test_external_user_factory():
    user = ExternalUserFactory(roles=["Portal user"])
    assert user.is_external
    assert user.groups.filter(name="Portal user").exists()
