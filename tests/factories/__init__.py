"""factory-boy factories for every model. Related objects are created as needed."""

import factory
from django.contrib.auth.models import Group

from accounts.models import Team, User
from addresses.models import Address, ContactPerson, Machine
from tickets.models import Message, Ticket, TicketStatus, TicketType


def role(name):
    """One of the shipped roles (created by migration): Portal user, Portal editor, …"""
    return Group.objects.get(name=name)


class AddressFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Address

    # Far from the five-digit numbers tests write by hand, so a sequence never collides.
    number = factory.Sequence(lambda n: f"9{n:07d}")
    name = factory.Sequence(lambda n: f"Customer {n} GmbH")
    street = "Hauptstraße 1"
    postal_code = "10115"
    city = "Berlin"
    country = "DE"


class ContactPersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ContactPerson

    address = factory.SubFactory(AddressFactory)
    first_name = factory.Sequence(lambda n: f"Erika{n}")
    last_name = factory.Sequence(lambda n: f"Mustermann{n}")
    email = factory.LazyAttribute(lambda o: f"{o.first_name.lower()}@example.com")


class MachineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Machine

    address = factory.SubFactory(AddressFactory)
    number = factory.Sequence(lambda n: f"M-{50000 + n}")
    name = factory.Sequence(lambda n: f"Press {n}")
    manufacturer = "Acme"


class UserFactory(factory.django.DjangoModelFactory):
    """An internal user."""

    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    first_name = "Max"
    last_name = factory.Sequence(lambda n: f"Staff{n}")
    password = factory.PostGenerationMethodCall("set_password", "secret-Passw0rd")

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        if create and extracted:
            self.groups.add(*[role(name) if isinstance(name, str) else name for name in extracted])

    @classmethod
    def _after_postgeneration(cls, instance, create, results=None):
        if create and results:
            instance.save()


class ExternalUserFactory(UserFactory):
    """An external user belonging to an address. Pass read=, write=, types=, teams= … lists."""

    email = factory.Sequence(lambda n: f"customer{n}@example.com")
    is_external = True
    address = factory.SubFactory(AddressFactory)

    @factory.post_generation
    def read(self, create, extracted, **kwargs):
        if create and extracted:
            self.read_addresses.add(*extracted)

    @factory.post_generation
    def write(self, create, extracted, **kwargs):
        if create and extracted:
            self.write_addresses.add(*extracted)

    @factory.post_generation
    def types(self, create, extracted, **kwargs):
        if create and extracted:
            self.ticket_types.add(*extracted)

    @factory.post_generation
    def teams(self, create, extracted, **kwargs):
        if create and extracted:
            self.responsible_teams.add(*extracted)

    @factory.post_generation
    def recipients(self, create, extracted, **kwargs):
        if create and extracted:
            self.responsible_users.add(*extracted)

    @factory.post_generation
    def statuses(self, create, extracted, **kwargs):
        if create and extracted:
            self.allowed_statuses.add(*extracted)


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Team {n}")


class TicketTypeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TicketType
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Type {n}")


class TicketStatusFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TicketStatus
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Status {n}")
    order = factory.Sequence(lambda n: 100 + n)


class TicketFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Ticket

    subject = factory.Sequence(lambda n: f"Machine stops after {n} cycles")
    type = factory.SubFactory(TicketTypeFactory)
    address = factory.SubFactory(AddressFactory)
    responsible_team = factory.SubFactory(TeamFactory)


class MessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Message

    ticket = factory.SubFactory(TicketFactory)
    kind = Message.Kind.REPLY
    body = factory.Sequence(lambda n: f"Message text {n}")
