"""Address integrity: headquarters without cycles, one main contact, ISO country codes."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from addresses.models import ContactPerson
from tests.factories import AddressFactory, ContactPersonFactory

# --- Headquarters ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_address_cannot_be_its_own_headquarters():
    address = AddressFactory()
    address.parent = address

    with pytest.raises(ValidationError) as error:
        address.full_clean()

    assert "parent" in error.value.message_dict


@pytest.mark.django_db
@pytest.mark.parametrize("depth", [1, 2, 4])
def test_a_headquarters_cycle_is_refused(depth):
    # head <- site_1 <- … <- site_depth; making head a site of the last site closes a cycle.
    head = AddressFactory()
    chain = [head]
    for _ in range(depth):
        chain.append(AddressFactory(parent=chain[-1]))
    head.parent = chain[-1]

    with pytest.raises(ValidationError) as error:
        head.full_clean()

    assert "parent" in error.value.message_dict


@pytest.mark.django_db
def test_a_site_chain_without_a_cycle_is_accepted():
    head = AddressFactory()
    region = AddressFactory(parent=head)
    site = AddressFactory()
    site.parent = region

    site.full_clean()  # no error
    new_site = AddressFactory.build(number="99999", parent=region)
    new_site.full_clean()  # an unsaved address with a headquarters: no error either


# --- Main contact ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_address_has_at_most_one_main_contact_in_the_database():
    address = AddressFactory()
    ContactPersonFactory(address=address, is_main=True)

    with pytest.raises(IntegrityError), transaction.atomic():
        ContactPersonFactory(address=address, is_main=True)


@pytest.mark.django_db
def test_a_second_main_contact_is_refused_in_validation():
    address = AddressFactory()
    ContactPersonFactory(address=address, is_main=True)
    second = ContactPersonFactory.build(address=address, is_main=True)

    with pytest.raises(ValidationError):
        second.full_clean()


@pytest.mark.django_db
def test_main_contacts_of_different_addresses_and_other_contacts_are_fine():
    first, second = AddressFactory(), AddressFactory()
    ContactPersonFactory(address=first, is_main=True)
    ContactPersonFactory(address=second, is_main=True)
    ContactPersonFactory.create_batch(2, address=first, is_main=False)

    assert ContactPerson.objects.filter(address=first).count() == 3
    assert ContactPerson.objects.filter(is_main=True).count() == 2


# --- Country code ------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("country", ["DE", "AT", "CH", ""])
def test_two_letter_country_codes_are_accepted(country):
    AddressFactory.build(country=country).full_clean()  # no error


@pytest.mark.django_db
@pytest.mark.parametrize("country", ["D", "DEU", "Germany", "1A", "D-", "Ä1"])
def test_other_country_values_are_refused(country):
    with pytest.raises(ValidationError) as error:
        AddressFactory.build(country=country).full_clean()

    assert "country" in error.value.message_dict


@pytest.mark.django_db
def test_a_lower_case_country_code_is_normalised():
    address = AddressFactory.build(country="de")

    address.full_clean()

    assert address.country == "DE"
