"""Fixtures of the desk tests: two teams, support agents, a read-only desk user, internal users
without the desk rights, a customer, and tickets filed through the services."""

from types import SimpleNamespace

import pytest
from django.contrib.auth.models import Group, Permission

from tests.factories import (
    AddressFactory,
    ContactPersonFactory,
    ExternalUserFactory,
    MachineFactory,
    TeamFactory,
    TicketTypeFactory,
    UserFactory,
)
from tickets import services
from tickets.models import TicketStatus


def status(name):
    return TicketStatus.objects.get(name=name)


@pytest.fixture
def desk_reader_role(db):
    """A role that lets its holders into the desk but not change tickets."""
    group = Group.objects.create(name="Desk reader")
    group.permissions.add(
        *Permission.objects.filter(
            content_type__app_label="tickets", codename__in=["view_ticket", "use_desk"]
        )
    )
    return group


@pytest.fixture
def world(db, desk_reader_role):
    hq = AddressFactory(number="10001", name="Nordwerk Maschinenbau GmbH", city="Hamburg")
    site = AddressFactory(
        number="10002",
        name="Nordwerk Maschinenbau GmbH",
        name_2="Werk Kiel",
        city="Kiel",
        parent=hq,
    )
    other = AddressFactory(number="20077", name="Alpenblick Verpackung AG", city="Salzburg")
    support = TeamFactory(name="Support")
    service = TeamFactory(name="Service")
    fault = TicketTypeFactory(name="Malfunction")
    question = TicketTypeFactory(name="Question about the invoice")
    agent = UserFactory(roles=["Support agent"], first_name="Ada", last_name="Agent")
    colleague = UserFactory(roles=["Support agent"], first_name="Cole", last_name="Colleague")
    support.members.add(agent)
    service.members.add(colleague)
    reader = UserFactory(roles=[desk_reader_role], first_name="Rita", last_name="Reader")
    support.members.add(reader)
    no_rights = UserFactory(first_name="Norbert", last_name="Norights")
    admin_only = UserFactory(is_staff=True, first_name="Adam", last_name="Admin")
    customer = ExternalUserFactory(
        roles=["Portal user"],
        first_name="Carla",
        last_name="Customer",
        address=site,
        write=[site],
        types=[fault],
        teams=[support],
    )
    # An external user who holds every ticket right still never reaches the desk.
    external_agent = ExternalUserFactory(
        roles=["Support agent", "Portal editor"], address=other, write=[other]
    )
    machine = MachineFactory(address=site, number="NW-2001", name="Laser cutter LC-3015")
    contact = ContactPersonFactory(
        address=site, first_name="Lars", last_name="Jensen", function="Plant manager"
    )
    return SimpleNamespace(
        hq=hq,
        site=site,
        other=other,
        support=support,
        service=service,
        fault=fault,
        question=question,
        agent=agent,
        colleague=colleague,
        reader=reader,
        no_rights=no_rights,
        admin_only=admin_only,
        customer=customer,
        external_agent=external_agent,
        machine=machine,
        contact=contact,
    )


@pytest.fixture
def file_ticket(world):
    """File a ticket through the service (as the agent, who may file anywhere)."""

    def file(
        subject="Press stops",
        *,
        address=None,
        team="support",
        recipient=None,
        description="It stops.",
        actor=None,
        **kwargs,
    ):
        return services.ticket_create(
            actor=actor or world.agent,
            address=address or world.site,
            ticket_type=kwargs.pop("ticket_type", world.fault),
            subject=subject,
            description=description,
            team=getattr(world, team) if isinstance(team, str) else team,
            recipient=recipient,
            **kwargs,
        )

    return file
