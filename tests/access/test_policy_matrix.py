"""The access matrix: every rule row of DESIGN.md, and every desk action of the policy module,
crossed with the cases that decide it.

The expected outcomes are written down here from DESIGN.md ("The access rules" and "Basic
rights"), not derived from `access.policy`. For every cell the test asserts

* the predicate face (`policy.can_…`) gives the expected answer, as a `Decision` with a reason;
* the queryset face (`Model.objects.visible_to(user)` …) gives the same answer for the target;
* both faces agree on every other row of the model in the database too.

Rows of the tables are cases, columns are rules. `Y` = allowed, `N` = denied.

New rules cannot slip in unnoticed: the tests at the end require every predicate listed in
`policy.OBJECT_PERMISSIONS`, and every public function of the policy module, to be covered here
(or listed in `COVERED_ELSEWHERE` with the reason). Adding a rule to the policy means adding its
column and cases here.
"""

import inspect
from dataclasses import dataclass
from functools import cached_property
from typing import Any
from unittest import mock

import pytest
from django.contrib.auth.models import AnonymousUser, Group, Permission
from django.utils import timezone

from access import policy
from accounts.models import Team, User
from addresses.models import Address, ContactPerson, Machine
from tests.factories import (
    AddressFactory,
    ContactPersonFactory,
    ExternalUserFactory,
    MachineFactory,
    MessageFactory,
    TeamFactory,
    TicketFactory,
    TicketStatusFactory,
    TicketTypeFactory,
    UserFactory,
    role,
)
from tickets.models import Message, Ticket, TicketStatus, TicketType

# The basic rights, spelled as DESIGN.md's "Basic rights" table spells them.
ADDRESSES_READ = "addresses.view_address"
ADDRESSES_WRITE = "addresses.change_address"
MACHINES_READ = "addresses.view_machine"
MACHINES_WRITE = "addresses.change_machine"
CONTACTS_READ = "addresses.view_contactperson"
CONTACTS_WRITE = "addresses.change_contactperson"
CONTACTS_ADD = "addresses.add_contactperson"
TICKETS_READ = "tickets.view_ticket"
TICKETS_FILE = "tickets.add_ticket"
TICKETS_WRITE = "tickets.change_ticket"


# ---------------------------------------------------------------------------------------------
# Helpers and the little world every cell is built in.


def refetch(user):
    """The user as the next request loads it."""
    return User.objects.get(pk=user.pk)


def role_without(base, *rights):
    """A role like the shipped role `base`, less the given basic rights."""
    group, _ = Group.objects.get_or_create(name=f"{base} without {', '.join(sorted(rights))}")
    kept = [
        perm
        for perm in role(base).permissions.select_related("content_type")
        if f"{perm.content_type.app_label}.{perm.codename}" not in rights
    ]
    assert len(kept) == role(base).permissions.count() - len(rights), "right not in the role"
    group.permissions.set(kept)
    return group


def every_permission_role():
    group, _ = Group.objects.get_or_create(name="Every permission")
    group.permissions.set(Permission.objects.all())
    return group


class World:
    """An external user's surroundings; everything is created on first use.

    `own` is the user's own address (in no set unless a case puts it there), `read` and `write`
    are in the user's read and write set, `foreign` is in no set.
    """

    @cached_property
    def own(self):
        return AddressFactory(name="Own address")

    @cached_property
    def read(self):
        return AddressFactory(name="Read address")

    @cached_property
    def write(self):
        return AddressFactory(name="Write address")

    @cached_property
    def foreign(self):
        return AddressFactory(name="Foreign address")

    @cached_property
    def team(self):
        return TeamFactory(name="Support")

    @cached_property
    def ticket_type(self):
        return TicketTypeFactory(name="Fault")

    @cached_property
    def agent(self):
        """An internal user the external user may send tickets to."""
        return UserFactory(roles=["Support agent"])

    @cached_property
    def status(self):
        """An active, open status that is not the default."""
        return TicketStatusFactory(name="Matrix: in progress")

    def external(self, *, roles=("Portal editor",), read=(), write=(), **fields):
        return ExternalUserFactory(
            address=self.own, roles=list(roles), read=list(read), write=list(write), **fields
        )

    def ticket_at(self, address):
        return TicketFactory(address=address, type=self.ticket_type, responsible_team=self.team)


# ---------------------------------------------------------------------------------------------
# The rules: predicate face, queryset face, and how to make a target at an address.


@dataclass(frozen=True)
class ObjectRule:
    """A rule about one object that belongs to an address."""

    predicate: Any
    scope: Any  # user -> the queryset face
    model: Any
    right: str  # the basic right DESIGN.md's row names
    faces: tuple  # the policy functions behind `scope`
    make_target: Any  # (world, address) -> object

    def decide(self, user, target):
        return self.predicate(user, target)

    def queryset_says(self, user, target):
        scoped = set(self.scope(user).values_list("pk", flat=True))
        for obj in self.model.objects.all():
            assert bool(self.predicate(user, obj)) == (obj.pk in scoped), f"faces disagree: {obj}"
        return target.pk in scoped


@dataclass(frozen=True)
class StatusRule:
    """Set status `s` on ticket `t`: target is (ticket, status)."""

    right: str = TICKETS_WRITE
    faces: tuple = ("tickets_writable", "statuses_settable", "status_scope", "statuses_in_scope")
    predicate: Any = policy.can_set_status

    def decide(self, user, target):
        return policy.can_set_status(user, *target)

    def make_target(self, world, address):
        return world.ticket_at(address), world.status

    def queryset_says(self, user, target):
        writable = set(Ticket.objects.writable_by(user).values_list("pk", flat=True))
        settable = set(TicketStatus.objects.settable_by(user).values_list("pk", flat=True))
        for ticket in Ticket.objects.all():
            for status in TicketStatus.objects.all():
                assert bool(policy.can_set_status(user, ticket, status)) == (
                    ticket.pk in writable and status.pk in settable
                ), f"faces disagree: {ticket} / {status}"
        ticket, status = target
        return ticket.pk in writable and status.pk in settable


def _in(qs, obj):
    return qs.filter(pk=obj.pk).exists()


@dataclass(frozen=True)
class FileRule:
    """File a ticket with exactly these values: target is the keyword arguments."""

    right: str = TICKETS_FILE
    faces: tuple = (
        "addresses_fileable",
        "ticket_types_creatable",
        "teams_recipient",
        "users_recipient",
        "machines_fileable",
        "machines_visible",
        "fileable_ids",
    )
    predicate: Any = policy.can_file_ticket

    def decide(self, user, target):
        return policy.can_file_ticket(user, **target)

    def queryset_says(self, user, target):
        address, team, recipient, machine = (
            target["address"],
            target.get("team"),
            target.get("recipient"),
            target.get("machine"),
        )
        _fileable_ids_agree(user)
        return bool(
            _in(Address.objects.fileable_by(user), address)
            and _in(TicketType.objects.creatable_by(user), target["ticket_type"])
            and (team is not None or recipient is not None)
            and (team is None or _in(Team.objects.recipients_for(user), team))
            and (recipient is None or _in(User.objects.recipients_for(user), recipient))
            and (
                machine is None
                or _in(policy.machines_fileable(Machine.objects.all(), user, address), machine)
            )
        )


@dataclass(frozen=True)
class FileAnyRule:
    """Whether the user can file any ticket at all (the "New ticket" button)."""

    right: str = TICKETS_FILE
    faces: tuple = (
        "addresses_fileable",
        "ticket_types_creatable",
        "teams_recipient",
        "users_recipient",
    )
    predicate: Any = policy.can_file

    def decide(self, user, target):
        return policy.can_file(user)

    def queryset_says(self, user, target):
        addresses = Address.objects.fileable_by(user).exists()
        types = TicketType.objects.creatable_by(user).exists()
        teams = Team.objects.recipients_for(user).exists()
        users = User.objects.recipients_for(user).exists()
        return addresses and types and (teams or users)


def _fileable_ids_agree(user):
    """`policy.fileable_ids` (the filing form checks a submitted choice against it) holds
    exactly the ids of the four filing querysets, or is None and the querysets are every
    active row (an internal user)."""
    ids = policy.fileable_ids(user)
    faces = {
        "addresses": Address.objects.fileable_by(user),
        "types": TicketType.objects.creatable_by(user),
        "teams": Team.objects.recipients_for(user),
        "people": User.objects.recipients_for(user),
    }
    for name, queryset in faces.items():
        chosen = set(queryset.values_list("pk", flat=True))
        if ids is None:
            model = queryset.model
            every = model.objects.filter(is_active=True)
            if model is User:
                every = every.filter(is_external=False)
            assert chosen == set(every.values_list("pk", flat=True)), name
        else:
            assert set(getattr(ids, name)) == chosen, name


def _message_at(world, address, kind=Message.Kind.DESCRIPTION):
    return MessageFactory(ticket=world.ticket_at(address), kind=kind)


def _same_tickets_by_scope(tickets, scope):
    """A scope (`policy.ticket_address_scope`, `ticket_write_scope`) is the set of addresses
    whose tickets `tickets` holds (None: all), read directly and through
    `policy.tickets_in_scope`, which precompiled statements are built with."""
    by_address = Ticket.objects.all() if scope is None else Ticket.objects.filter(address__in=scope)
    expected = set(tickets.values_list("pk", flat=True))
    assert set(by_address.values_list("pk", flat=True)) == expected
    in_scope = policy.tickets_in_scope(Ticket.objects.all(), scope)
    assert set(in_scope.values_list("pk", flat=True)) == expected


def _same_rows(face, value_face):
    """A face and its value face (built from the policy's decision as a value) pick the same
    rows; the value face is what precompiled statements are built with."""
    assert set(value_face.values_list("pk", flat=True)) == set(face.values_list("pk", flat=True))
    return value_face


def _tickets_seen(user):
    """`Ticket.objects.visible_to(user)`; the scope as a set of addresses
    (`policy.ticket_address_scope`, read by the search documents) must pick the same rows."""
    visible = Ticket.objects.visible_to(user)
    _same_tickets_by_scope(visible, policy.ticket_address_scope(user))
    return visible


def _tickets_replied(user):
    """`Ticket.objects.writable_by(user)`, and the same by `policy.ticket_write_scope`."""
    writable = Ticket.objects.writable_by(user)
    _same_tickets_by_scope(writable, policy.ticket_write_scope(user))
    return writable


def _messages_seen(user):
    """`policy.messages_visible`, and the same by `policy.messages_in_scope` of the scope."""
    visible = policy.messages_visible(Message.objects.all(), user)
    in_scope = policy.messages_in_scope(Message.objects.all(), policy.ticket_address_scope(user))
    assert set(in_scope.values_list("pk", flat=True)) == set(visible.values_list("pk", flat=True))
    return visible


RULES = {
    "see_address": ObjectRule(
        policy.can_see_address,
        lambda user: Address.objects.visible_to(user),
        Address,
        ADDRESSES_READ,
        ("addresses_visible",),
        lambda world, address: address,
    ),
    "edit_address": ObjectRule(
        policy.can_edit_address,
        lambda user: Address.objects.writable_by(user),
        Address,
        ADDRESSES_WRITE,
        ("addresses_writable",),
        lambda world, address: address,
    ),
    "add_contact": ObjectRule(
        policy.can_add_contact,
        lambda user: policy.addresses_for_new_contact(Address.objects.all(), user),
        Address,
        CONTACTS_ADD,
        ("addresses_for_new_contact",),
        lambda world, address: address,
    ),
    "see_machine": ObjectRule(
        policy.can_see_machine,
        lambda user: Machine.objects.visible_to(user),
        Machine,
        MACHINES_READ,
        ("machines_visible",),
        lambda world, address: MachineFactory(address=address),
    ),
    "edit_machine": ObjectRule(
        policy.can_edit_machine,
        lambda user: Machine.objects.writable_by(user),
        Machine,
        MACHINES_WRITE,
        ("machines_writable",),
        lambda world, address: MachineFactory(address=address),
    ),
    "see_contact": ObjectRule(
        policy.can_see_contact,
        lambda user: ContactPerson.objects.visible_to(user),
        ContactPerson,
        CONTACTS_READ,
        ("contacts_visible",),
        lambda world, address: ContactPersonFactory(address=address),
    ),
    "edit_contact": ObjectRule(
        policy.can_edit_contact,
        lambda user: ContactPerson.objects.writable_by(user),
        ContactPerson,
        CONTACTS_WRITE,
        ("contacts_writable",),
        lambda world, address: ContactPersonFactory(address=address),
    ),
    "see_ticket": ObjectRule(
        policy.can_see_ticket,
        lambda user: _tickets_seen(user),
        Ticket,
        TICKETS_READ,
        ("tickets_visible", "ticket_address_scope", "tickets_in_scope"),
        lambda world, address: world.ticket_at(address),
    ),
    "reply": ObjectRule(
        policy.can_reply,
        lambda user: _tickets_replied(user),
        Ticket,
        TICKETS_WRITE,
        ("tickets_writable", "ticket_write_scope"),
        lambda world, address: world.ticket_at(address),
    ),
    # Desk: "internal notes" are written by support staff and never shown to external users.
    # The policy has no queryset face of its own for it; the predicate is "may reply, and is an
    # internal user", so it must agree with the reply face for internal users and deny the rest.
    "add_internal_note": ObjectRule(
        policy.can_add_internal_note,
        lambda user: (
            Ticket.objects.none()
            if getattr(user, "is_external", False)
            else Ticket.objects.writable_by(user)
        ),
        Ticket,
        TICKETS_WRITE,
        ("tickets_writable",),
        lambda world, address: world.ticket_at(address),
    ),
    # "see ticket t: … messages except internal notes": the message rule hangs off Tickets-read.
    "see_message": ObjectRule(
        policy.can_see_message,
        lambda user: _messages_seen(user),
        Message,
        TICKETS_READ,
        ("messages_visible", "messages_in_scope"),
        _message_at,
    ),
    "set_status": StatusRule(),
    "file_ticket": FileRule(),
    "can_file": FileAnyRule(),
}

# ---------------------------------------------------------------------------------------------
# Cases. Each builds (user, target) for a rule inside a fresh World.

CASES = {}


def case(name):
    def register(build):
        assert name not in CASES, name
        CASES[name] = build
        return build

    return register


def _in_write_set(rule):
    """What the rule answers for the plain "write set" case: the state before a change."""
    return GENERIC["write set"][rule_name_of(rule)]


def _changed(rule, user, target, change, *, allowed_before):
    """Check the state before, apply `change`, and return the user as the next request sees it."""
    assert bool(rule.decide(user, target)) is allowed_before, "precondition"
    change()
    return refetch(user)


# --- Generic cases for the rules about one object at an address ------------------------------


@case("read set")
def _(world, rule):
    return world.external(read=[world.read]), rule.make_target(world, world.read)


@case("write set")
def _(world, rule):
    return world.external(write=[world.write]), rule.make_target(world, world.write)


@case("in both read and write set")
def _(world, rule):
    return (
        world.external(read=[world.write], write=[world.write]),
        rule.make_target(world, world.write),
    )


@case("Portal user role, write set")
def _(world, rule):
    user = world.external(roles=["Portal user"], write=[world.write])
    return user, rule.make_target(world, world.write)


@case("no role grants the rule's right, write set")
def _(world, rule):
    user = world.external(roles=[role_without("Portal editor", rule.right)], write=[world.write])
    return user, rule.make_target(world, world.write)


@case("no roles at all, write set")
def _(world, rule):
    return world.external(roles=[], write=[world.write]), rule.make_target(world, world.write)


@case("foreign address")
def _(world, rule):
    user = world.external(read=[world.read], write=[world.write])
    return user, rule.make_target(world, world.foreign)


@case("the user's own address, in no set")
def _(world, rule):
    user = world.external(read=[world.read], write=[world.write])
    return user, rule.make_target(world, world.own)


@case("user deactivated, write set")
def _(world, rule):
    user = world.external(write=[world.write])
    target = rule.make_target(world, world.write)

    def deactivate():
        user.is_active = False
        user.save()

    return _changed(rule, user, target, deactivate, allowed_before=_in_write_set(rule)), target


@case("address deactivated, write set")
def _(world, rule):
    user = world.external(write=[world.write])
    target = rule.make_target(world, world.write)

    def deactivate():
        world.write.is_active = False
        world.write.save()

    return _changed(rule, user, target, deactivate, allowed_before=_in_write_set(rule)), target


@case("address deactivated, read set")
def _(world, rule):
    user = world.external(read=[world.read])
    target = rule.make_target(world, world.read)

    def deactivate():
        world.read.is_active = False
        world.read.save()

    before = GENERIC["read set"][rule_name_of(rule)]
    return _changed(rule, user, target, deactivate, allowed_before=before), target


@case("removed from the write set (next request)")
def _(world, rule):
    user = world.external(write=[world.write])
    target = rule.make_target(world, world.write)
    change = lambda: user.write_addresses.remove(world.write)  # noqa: E731
    return _changed(rule, user, target, change, allowed_before=_in_write_set(rule)), target


@case("moved from the write to the read set (next request)")
def _(world, rule):
    user = world.external(write=[world.write])
    target = rule.make_target(world, world.write)

    def move():
        user.write_addresses.remove(world.write)
        user.read_addresses.add(world.write)

    return _changed(rule, user, target, move, allowed_before=_in_write_set(rule)), target


@case("added to the read set (next request)")
def _(world, rule):
    user = world.external()
    target = rule.make_target(world, world.read)
    change = lambda: user.read_addresses.add(world.read)  # noqa: E731
    return _changed(rule, user, target, change, allowed_before=False), target


@case("anonymous")
def _(world, rule):
    return AnonymousUser(), rule.make_target(world, world.write)


@case("internal, no roles")
def _(world, rule):
    return UserFactory(), rule.make_target(world, world.foreign)


@case("internal, Support agent")
def _(world, rule):
    return UserFactory(roles=["Support agent"]), rule.make_target(world, world.foreign)


@case("internal, Portal editor role")
def _(world, rule):
    return UserFactory(roles=["Portal editor"]), rule.make_target(world, world.foreign)


@case("internal superuser")
def _(world, rule):
    user = UserFactory(is_staff=True, is_superuser=True)
    return user, rule.make_target(world, world.foreign)


@case("internal Support agent, deactivated")
def _(world, rule):
    user = UserFactory(roles=["Support agent"])
    target = rule.make_target(world, world.foreign)

    def deactivate():
        user.is_active = False
        user.save()

    before = GENERIC["internal, Support agent"][rule_name_of(rule)]
    return _changed(rule, user, target, deactivate, allowed_before=before), target


@case("external with the Support agent role, foreign address")
def _(world, rule):
    user = world.external(roles=["Support agent"], read=[world.read], write=[world.write])
    return user, rule.make_target(world, world.foreign)


@case("external with the Support agent role, read set")
def _(world, rule):
    user = world.external(roles=["Support agent"], read=[world.read])
    return user, rule.make_target(world, world.read)


@case("external with every permission, foreign address")
def _(world, rule):
    user = world.external(roles=[every_permission_role()], write=[world.write])
    return user, rule.make_target(world, world.foreign)


ADDRESS_RULES = (
    "see_address",
    "edit_address",
    "add_contact",
    "see_machine",
    "edit_machine",
    "see_contact",
    "edit_contact",
    "see_ticket",
    "reply",
    "see_message",
    "set_status",
    "add_internal_note",
)


def rule_name_of(rule):
    return next(name for name, candidate in RULES.items() if candidate is rule)


def _table(columns, text):
    """Parse a table: one case a line, `case | Y N …` with one mark per rule in `columns`."""
    table = {}
    lines = [line for line in text.strip().splitlines() if line.strip()]
    header, rows = lines[0], lines[1:]
    assert len(header.split("|")[1].split()) == len(columns), "header and columns differ"
    for line in rows:
        case_name, _, marks = (part.strip() for part in line.rpartition("|"))
        values = marks.split()
        assert len(values) == len(columns), case_name
        assert set(values) <= {"Y", "N"}, case_name
        assert case_name not in table, case_name
        table[case_name] = {rule: value == "Y" for rule, value in zip(columns, values, strict=True)}
    return table


# Columns: see/edit address, add contact, see/edit machine, see/edit contact, see ticket, reply,
# see message (a description), set an active status, add an internal note.
# From DESIGN.md: reads need the read right and R(u); writes need the write right and W(u);
# "Portal user" holds all read rights plus file/reply; internal users need only the right, on
# every object; external users stay in their sets whatever roles they hold, and never write
# internal notes.
GENERIC = _table(
    ADDRESS_RULES,
    """
case                                                  | sa ea ac sm em sc ec st re ms ss nt
read set                                              | Y  N  N  Y  N  Y  N  Y  N  Y  N  N
write set                                             | Y  Y  Y  Y  Y  Y  Y  Y  Y  Y  Y  N
in both read and write set                            | Y  Y  Y  Y  Y  Y  Y  Y  Y  Y  Y  N
Portal user role, write set                           | Y  N  N  Y  N  Y  N  Y  Y  Y  Y  N
no role grants the rule's right, write set            | N  N  N  N  N  N  N  N  N  N  N  N
no roles at all, write set                            | N  N  N  N  N  N  N  N  N  N  N  N
foreign address                                       | N  N  N  N  N  N  N  N  N  N  N  N
the user's own address, in no set                     | N  N  N  N  N  N  N  N  N  N  N  N
user deactivated, write set                           | N  N  N  N  N  N  N  N  N  N  N  N
address deactivated, write set                        | N  N  N  N  N  N  N  N  N  N  N  N
address deactivated, read set                         | N  N  N  N  N  N  N  N  N  N  N  N
removed from the write set (next request)             | N  N  N  N  N  N  N  N  N  N  N  N
moved from the write to the read set (next request)   | Y  N  N  Y  N  Y  N  Y  N  Y  N  N
added to the read set (next request)                  | Y  N  N  Y  N  Y  N  Y  N  Y  N  N
anonymous                                             | N  N  N  N  N  N  N  N  N  N  N  N
internal, no roles                                    | N  N  N  N  N  N  N  N  N  N  N  N
internal, Support agent                               | Y  N  N  Y  N  Y  N  Y  Y  Y  Y  Y
internal, Portal editor role                          | Y  Y  Y  Y  Y  Y  Y  Y  Y  Y  Y  Y
internal superuser                                    | Y  Y  Y  Y  Y  Y  Y  Y  Y  Y  Y  Y
internal Support agent, deactivated                   | N  N  N  N  N  N  N  N  N  N  N  N
external with the Support agent role, foreign address | N  N  N  N  N  N  N  N  N  N  N  N
external with the Support agent role, read set        | Y  N  N  Y  N  Y  N  Y  N  Y  N  N
external with every permission, foreign address       | N  N  N  N  N  N  N  N  N  N  N  N
""",
)


# --- The user's own linked contact person ("also the user's own linked contact person, with the
# same rights"): the target is the contact linked to the user, at the user's own address.


def _own_contact_user(world, roles=("Portal editor",), **fields):
    contact = ContactPersonFactory(address=world.own)
    user = world.external(roles=roles, contact_person=contact, **fields)
    return user, contact


@case("own contact, own address in no set")
def _(world, rule):
    return _own_contact_user(world, write=[world.write])


@case("own contact, Portal user role")
def _(world, rule):
    return _own_contact_user(world, roles=["Portal user"])


@case("own contact, no role grants the rule's right")
def _(world, rule):
    return _own_contact_user(world, roles=[role_without("Portal editor", rule.right)])


@case("own contact, own address in the read set")
def _(world, rule):
    return _own_contact_user(world, read=[world.own])


@case("own contact, own address deactivated")
def _(world, rule):
    user, contact = _own_contact_user(world)

    def deactivate():
        world.own.is_active = False
        world.own.save()

    return _changed(rule, user, contact, deactivate, allowed_before=True), contact


@case("own contact, user deactivated")
def _(world, rule):
    user, contact = _own_contact_user(world)

    def deactivate():
        user.is_active = False
        user.save()

    return _changed(rule, user, contact, deactivate, allowed_before=True), contact


@case("own contact, unlinked (next request)")
def _(world, rule):
    user, contact = _own_contact_user(world)

    def unlink():
        user.contact_person = None
        user.save()

    return _changed(rule, user, contact, unlink, allowed_before=True), contact


@case("own contact moved to a foreign address")
def _(world, rule):
    # An inconsistent link (the contact no longer belongs to the user's address, DESIGN.md:
    # "must belong to address") grants nothing.
    user, contact = _own_contact_user(world)

    def move():
        ContactPerson.objects.filter(pk=contact.pk).update(address=world.foreign)

    return _changed(rule, user, contact, move, allowed_before=True), refetch_contact(contact)


def refetch_contact(contact):
    return ContactPerson.objects.get(pk=contact.pk)


OWN_CONTACT = _table(
    ("see_contact", "edit_contact"),
    """
case                                         | see edit
own contact, own address in no set           | Y   Y
own contact, Portal user role                | Y   N
own contact, no role grants the rule's right | N   N
own contact, own address in the read set     | Y   Y
own contact, own address deactivated         | N   N
own contact, user deactivated                | N   N
own contact, unlinked (next request)         | N   N
own contact moved to a foreign address       | N   N
""",
)


# --- Messages: "messages except internal notes" -------------------------------------------------


@case("internal note, external user, write set")
def _(world, rule):
    user = world.external(write=[world.write])
    return user, _message_at(world, world.write, Message.Kind.INTERNAL_NOTE)


@case("reply, external user, read set")
def _(world, rule):
    user = world.external(read=[world.read])
    return user, _message_at(world, world.read, Message.Kind.REPLY)


@case("internal note, internal Support agent")
def _(world, rule):
    user = UserFactory(roles=["Support agent"])
    return user, _message_at(world, world.foreign, Message.Kind.INTERNAL_NOTE)


@case("internal note, internal user without roles")
def _(world, rule):
    return UserFactory(), _message_at(world, world.foreign, Message.Kind.INTERNAL_NOTE)


MESSAGES = _table(
    ("see_message",),
    """
case                                       | see_message
internal note, external user, write set    | N
reply, external user, read set             | Y
internal note, internal Support agent      | Y
internal note, internal user without roles | N
""",
)


# --- Set status: "tickets.change_ticket, t.address ∈ W(u), s active, and s ∈ allowed_statuses
# when restrict_status". The ticket is at the write set unless the case says otherwise.


def _status_case(world, status, *, ticket_address=None, roles=("Portal user",), **fields):
    user = world.external(roles=roles, read=[world.read], write=[world.write], **fields)
    return user, (world.ticket_at(ticket_address or world.write), status)


@case("active status, unrestricted")
def _(world, rule):
    return _status_case(world, world.status)


@case("closing status, unrestricted")
def _(world, rule):
    return _status_case(world, TicketStatusFactory(name="Matrix: solved", is_closed=True))


@case("inactive status, unrestricted")
def _(world, rule):
    return _status_case(world, TicketStatusFactory(name="Matrix: retired", is_active=False))


@case("restricted, status allowed")
def _(world, rule):
    return _status_case(world, world.status, restrict_status=True, statuses=[world.status])


@case("restricted, status not allowed")
def _(world, rule):
    other = TicketStatusFactory(name="Matrix: other")
    return _status_case(world, world.status, restrict_status=True, statuses=[other])


@case("restricted, status allowed but inactive")
def _(world, rule):
    retired = TicketStatusFactory(name="Matrix: retired", is_active=False)
    return _status_case(world, retired, restrict_status=True, statuses=[retired])


@case("restricted, no status allowed")
def _(world, rule):
    return _status_case(world, world.status, restrict_status=True)


@case("restricted, status allowed, ticket at a read-set address")
def _(world, rule):
    return _status_case(
        world,
        world.status,
        ticket_address=world.read,
        restrict_status=True,
        statuses=[world.status],
    )


@case("list of statuses ignored while not restricted")
def _(world, rule):
    other = TicketStatusFactory(name="Matrix: other")
    return _status_case(world, world.status, restrict_status=False, statuses=[other])


@case("restricted, status removed from the allowed ones (next request)")
def _(world, rule):
    user, target = _status_case(world, world.status, restrict_status=True, statuses=[world.status])
    change = lambda: user.allowed_statuses.remove(world.status)  # noqa: E731
    return _changed(rule, user, target, change, allowed_before=True), target


@case("restriction switched on (next request)")
def _(world, rule):
    user, target = _status_case(world, world.status)

    def restrict():
        user.restrict_status = True
        user.save()

    return _changed(rule, user, target, restrict, allowed_before=True), target


@case("restricted, status allowed, no role grants Tickets write")
def _(world, rule):
    return _status_case(
        world,
        world.status,
        roles=[role_without("Portal user", TICKETS_WRITE)],
        restrict_status=True,
        statuses=[world.status],
    )


@case("internal Support agent, any active status")
def _(world, rule):
    # Restriction is part of the external rules; the desk may set any status.
    user = UserFactory(roles=["Support agent"], restrict_status=True)
    return user, (world.ticket_at(world.foreign), world.status)


@case("internal Support agent, inactive status")
def _(world, rule):
    retired = TicketStatusFactory(name="Matrix: retired", is_active=False)
    return UserFactory(roles=["Support agent"]), (world.ticket_at(world.foreign), retired)


STATUSES = _table(
    ("set_status",),
    """
case                                                            | set_status
active status, unrestricted                                     | Y
closing status, unrestricted                                    | Y
inactive status, unrestricted                                   | N
restricted, status allowed                                      | Y
restricted, status not allowed                                  | N
restricted, status allowed but inactive                         | N
restricted, no status allowed                                   | N
restricted, status allowed, ticket at a read-set address        | N
list of statuses ignored while not restricted                   | Y
restricted, status removed from the allowed ones (next request) | N
restriction switched on (next request)                          | N
restricted, status allowed, no role grants Tickets write        | N
internal Support agent, any active status                       | Y
internal Support agent, inactive status                         | N
""",
)


# --- File a ticket: "tickets.add_ticket; address ∈ W(u); type ∈ ticket_types; recipient ∈
# responsible_teams ∪ responsible_users; machine (optional) at that address and visible to u".


def _filer(world, **fields):
    values = {
        "roles": ["Portal user"],
        "read": [world.read],
        "write": [world.write],
        "types": [world.ticket_type],
        "teams": [world.team],
        "recipients": [world.agent],
    }
    values.update(fields)
    return world.external(**values)


def _filing(world, **values):
    target = {"address": world.write, "ticket_type": world.ticket_type, "team": world.team}
    target.update(values)
    return target


@case("file: permitted team")
def _(world, rule):
    return _filer(world), _filing(world)


@case("file: permitted user")
def _(world, rule):
    return _filer(world), _filing(world, team=None, recipient=world.agent)


@case("file: permitted team and user")
def _(world, rule):
    return _filer(world), _filing(world, recipient=world.agent)


@case("file: no recipient")
def _(world, rule):
    return _filer(world), _filing(world, team=None)


@case("file: machine at the address")
def _(world, rule):
    return _filer(world), _filing(world, machine=MachineFactory(address=world.write))


@case("file: machine at another write-set address")
def _(world, rule):
    second = AddressFactory()
    user = _filer(world, write=[world.write, second])
    return user, _filing(world, machine=MachineFactory(address=second))


@case("file: machine at the address, no role grants Machines read")
def _(world, rule):
    user = _filer(world, roles=[role_without("Portal user", MACHINES_READ)])
    return user, _filing(world, machine=MachineFactory(address=world.write))


@case("file: inactive machine at the address")
def _(world, rule):
    machine = MachineFactory(address=world.write, is_active=False)
    return _filer(world), _filing(world, machine=machine)


@case("file: address in the read set only")
def _(world, rule):
    return _filer(world), _filing(world, address=world.read)


@case("file: foreign address")
def _(world, rule):
    return _filer(world), _filing(world, address=world.foreign)


@case("file: the user's own address, in no set")
def _(world, rule):
    return _filer(world), _filing(world, address=world.own)


@case("file: address deactivated")
def _(world, rule):
    user, target = _filer(world), _filing(world)

    def deactivate():
        world.write.is_active = False
        world.write.save()

    return _changed(rule, user, target, deactivate, allowed_before=True), target


@case("file: address removed from the write set (next request)")
def _(world, rule):
    user, target = _filer(world), _filing(world)
    change = lambda: user.write_addresses.remove(world.write)  # noqa: E731
    return _changed(rule, user, target, change, allowed_before=True), target


@case("file: type not allowed")
def _(world, rule):
    return _filer(world), _filing(world, ticket_type=TicketTypeFactory(name="Matrix: other"))


@case("file: type deactivated")
def _(world, rule):
    user, target = _filer(world), _filing(world)

    def deactivate():
        world.ticket_type.is_active = False
        world.ticket_type.save()

    return _changed(rule, user, target, deactivate, allowed_before=True), target


@case("file: type removed from the user's types (next request)")
def _(world, rule):
    user, target = _filer(world), _filing(world)
    change = lambda: user.ticket_types.remove(world.ticket_type)  # noqa: E731
    return _changed(rule, user, target, change, allowed_before=True), target


@case("file: team not responsible")
def _(world, rule):
    return _filer(world), _filing(world, team=TeamFactory(name="Matrix: other team"))


@case("file: team deactivated")
def _(world, rule):
    user, target = _filer(world), _filing(world)

    def deactivate():
        world.team.is_active = False
        world.team.save()

    return _changed(rule, user, target, deactivate, allowed_before=True), target


@case("file: user not responsible")
def _(world, rule):
    return _filer(world), _filing(world, team=None, recipient=UserFactory())


@case("file: responsible user deactivated")
def _(world, rule):
    user, target = _filer(world), _filing(world, team=None, recipient=world.agent)

    def deactivate():
        world.agent.is_active = False
        world.agent.save()

    return _changed(rule, user, target, deactivate, allowed_before=True), target


@case("file: external user listed as responsible")
def _(world, rule):
    # "concrete internal users": an external one is never a recipient, even if listed.
    outsider = ExternalUserFactory()
    user = _filer(world, recipients=[outsider])
    return user, _filing(world, team=None, recipient=outsider)


@case("file: permitted team with a user not responsible")
def _(world, rule):
    return _filer(world), _filing(world, recipient=UserFactory())


@case("file: no role grants Tickets file")
def _(world, rule):
    return _filer(world, roles=[role_without("Portal user", TICKETS_FILE)]), _filing(world)


@case("file: user deactivated")
def _(world, rule):
    user, target = _filer(world), _filing(world)

    def deactivate():
        user.is_active = False
        user.save()

    return _changed(rule, user, target, deactivate, allowed_before=True), target


@case("file: internal Support agent, any active values")
def _(world, rule):
    target = _filing(
        world,
        address=world.foreign,
        ticket_type=TicketTypeFactory(name="Matrix: other"),
        team=TeamFactory(name="Matrix: other team"),
        recipient=world.agent,
        machine=MachineFactory(address=world.foreign),
    )
    return UserFactory(roles=["Support agent"]), target


@case("file: internal Support agent, inactive type")
def _(world, rule):
    retired = TicketTypeFactory(name="Matrix: retired", is_active=False)
    return UserFactory(roles=["Support agent"]), _filing(world, ticket_type=retired)


@case("file: internal Support agent, inactive team")
def _(world, rule):
    disbanded = TeamFactory(name="Matrix: disbanded", is_active=False)
    return UserFactory(roles=["Support agent"]), _filing(world, team=disbanded)


@case("file: internal Support agent, inactive address")
def _(world, rule):
    closed_site = AddressFactory(is_active=False)
    return UserFactory(roles=["Support agent"]), _filing(world, address=closed_site)


@case("file: internal user without roles")
def _(world, rule):
    return UserFactory(), _filing(world)


@case("file: external with the Support agent role, foreign address")
def _(world, rule):
    return _filer(world, roles=["Support agent"]), _filing(world, address=world.foreign)


FILING = _table(
    ("file_ticket",),
    """
case                                                        | file_ticket
file: permitted team                                        | Y
file: permitted user                                        | Y
file: permitted team and user                               | Y
file: no recipient                                          | N
file: machine at the address                                | Y
file: machine at another write-set address                  | N
file: machine at the address, no role grants Machines read  | N
file: inactive machine at the address                       | N
file: address in the read set only                          | N
file: foreign address                                       | N
file: the user's own address, in no set                     | N
file: address deactivated                                   | N
file: address removed from the write set (next request)     | N
file: type not allowed                                      | N
file: type deactivated                                      | N
file: type removed from the user's types (next request)     | N
file: team not responsible                                  | N
file: team deactivated                                      | N
file: user not responsible                                  | N
file: responsible user deactivated                          | N
file: external user listed as responsible                   | N
file: permitted team with a user not responsible            | N
file: no role grants Tickets file                           | N
file: user deactivated                                      | N
file: internal Support agent, any active values             | Y
file: internal Support agent, inactive type                 | N
file: internal Support agent, inactive team                 | N
file: internal Support agent, inactive address              | N
file: internal user without roles                           | N
file: external with the Support agent role, foreign address | N
""",
)


# --- Can the user file any ticket at all? -------------------------------------------------------


@case("any: everything in place")
def _(world, rule):
    return _filer(world), None


@case("any: no write set")
def _(world, rule):
    return _filer(world, write=[]), None


@case("any: only a deactivated write address")
def _(world, rule):
    world.write.is_active = False
    world.write.save()
    return _filer(world), None


@case("any: no ticket type")
def _(world, rule):
    return _filer(world, types=[]), None


@case("any: only a deactivated ticket type")
def _(world, rule):
    world.ticket_type.is_active = False
    world.ticket_type.save()
    return _filer(world), None


@case("any: no recipient")
def _(world, rule):
    return _filer(world, teams=[], recipients=[]), None


@case("any: only a user as recipient")
def _(world, rule):
    return _filer(world, teams=[]), None


@case("any: only a deactivated user as recipient")
def _(world, rule):
    world.agent.is_active = False
    world.agent.save()
    return _filer(world, teams=[]), None


@case("any: no role grants Tickets file")
def _(world, rule):
    return _filer(world, roles=[role_without("Portal user", TICKETS_FILE)]), None


@case("any: user inactive")
def _(world, rule):
    return _filer(world, is_active=False), None


@case("any: internal Support agent")
def _(world, rule):
    world.team, world.foreign  # noqa: B018 - an active team and address exist
    return UserFactory(roles=["Support agent"]), None


@case("any: internal user without roles")
def _(world, rule):
    return UserFactory(), None


FILE_ANY = _table(
    ("can_file",),
    """
case                                      | can_file
any: everything in place                  | Y
any: no write set                         | N
any: only a deactivated write address     | N
any: no ticket type                       | N
any: only a deactivated ticket type       | N
any: no recipient                         | N
any: only a deactivated user as recipient | N
any: only a user as recipient             | Y
any: no role grants Tickets file          | N
any: user inactive                        | N
any: internal Support agent               | Y
any: internal user without roles          | N
""",
)


# --- Desk actions (DESIGN.md: support staff "take, forward, reply, internal notes, set any status,
# close/reopen"; "they see and work on every ticket"; external users hold no desk right whatever
# roles they are given). Only active internal users with the desk rights act, on any ticket.
# Take and close need an open ticket, reopen a closed one; a ticket is forwarded to an active
# team or to a user who can work in the desk; a ticket gets only an active type.
#
# These predicates have no queryset face of their own: the tickets a desk user may act on are
# the reply face (`Ticket.objects.writable_by`) for internal users, narrowed to open or closed
# tickets; the forward and type choices have their own faces.


def _desk_tickets(user):
    if getattr(user, "is_external", False):
        return Ticket.objects.none()
    return Ticket.objects.writable_by(user)


@dataclass(frozen=True)
class DeskRule:
    """A desk action on one ticket; `target` is a dict with the ticket and the chosen values."""

    name: str  # the policy predicate, looked up when called
    call: Any  # (predicate, user, target) -> Decision
    tickets: Any  # user -> the tickets the action applies to
    choice: str | None = None  # key of the chosen value in the target
    choices: Any = None  # user -> queryset face of the choice
    extra_faces: tuple = ()

    @property
    def predicate(self):
        return getattr(policy, self.name)

    @property
    def faces(self):
        return ("tickets_writable", *self.extra_faces)

    def decide(self, user, target):
        return self.call(self.predicate, user, target)

    def queryset_says(self, user, target):
        tickets = set(self.tickets(user).values_list("pk", flat=True))
        chosen = self.choice is None or _in(self.choices(user), target[self.choice])
        for ticket in Ticket.objects.all():
            decision = self.decide(user, {**target, "ticket": ticket})
            assert bool(decision) == (ticket.pk in tickets and chosen), f"faces disagree: {ticket}"
        return target["ticket"].pk in tickets and chosen


RULES.update(
    {
        "work_on_ticket": DeskRule(
            "can_work_on_ticket",
            lambda can, user, t: can(user, t["ticket"]),
            _desk_tickets,
        ),
        "take": DeskRule(
            "can_take",
            lambda can, user, t: can(user, t["ticket"]),
            lambda user: _desk_tickets(user).open(),
        ),
        "forward_to_team": DeskRule(
            "can_forward",
            lambda can, user, t: can(user, t["ticket"], team=t["team"]),
            _desk_tickets,
            "team",
            lambda user: _same_rows(
                policy.teams_forwardable(Team.objects.all(), user),
                policy.teams_forwardable_when(Team.objects.all(), policy.may_forward(user)),
            ),
            ("teams_forwardable", "teams_forwardable_when", "may_forward"),
        ),
        "forward_to_user": DeskRule(
            "can_forward",
            lambda can, user, t: can(user, t["ticket"], recipient=t["recipient"]),
            _desk_tickets,
            "recipient",
            lambda user: _same_rows(
                policy.users_forwardable(User.objects.all(), user),
                policy.users_forwardable_when(User.objects.all(), policy.may_forward(user)),
            ),
            ("users_forwardable", "desk_users", "users_forwardable_when"),
        ),
        "change_fields": DeskRule(
            "can_change_ticket_fields",
            lambda can, user, t: can(user, t["ticket"]),
            _desk_tickets,
        ),
        "change_type": DeskRule(
            "can_change_type",
            lambda can, user, t: can(user, t["ticket"], t["ticket_type"]),
            _desk_tickets,
            "ticket_type",
            lambda user: policy.ticket_types_assignable(TicketType.objects.all(), user),
            ("ticket_types_assignable",),
        ),
        "close": DeskRule(
            "can_close",
            lambda can, user, t: can(user, t["ticket"]),
            lambda user: _desk_tickets(user).open(),
        ),
        "reopen": DeskRule(
            "can_reopen",
            lambda can, user, t: can(user, t["ticket"]),
            lambda user: _desk_tickets(user).closed(),
        ),
    }
)
DESK_RULES = (
    "work_on_ticket",
    "take",
    "forward_to_team",
    "forward_to_user",
    "change_fields",
    "change_type",
    "close",
    "reopen",
)


def _desk_target(world, *, address=None, closed=False, **values):
    ticket = world.ticket_at(address or world.foreign)
    if closed:
        ticket.status = TicketStatusFactory(name="Desk: closed", is_closed=True)
        ticket.closed_at = timezone.now()
        ticket.save()
    target = {
        "ticket": ticket,
        "team": TeamFactory(name="Desk: second line"),
        "recipient": UserFactory(roles=["Support agent"]),
        "ticket_type": TicketTypeFactory(name="Desk: maintenance"),
    }
    target.update(values)
    return target


def _agent():
    return UserFactory(roles=["Support agent"])


@case("desk: Support agent, open ticket")
def _(world, rule):
    return _agent(), _desk_target(world)


@case("desk: Support agent, closed ticket")
def _(world, rule):
    return _agent(), _desk_target(world, closed=True)


@case("desk: internal superuser, open ticket")
def _(world, rule):
    return UserFactory(is_staff=True, is_superuser=True), _desk_target(world)


@case("desk: internal, no roles")
def _(world, rule):
    return UserFactory(), _desk_target(world)


@case("desk: internal staff (admin) without roles")
def _(world, rule):
    return UserFactory(is_staff=True), _desk_target(world)


@case("desk: Support agent without Tickets write")
def _(world, rule):
    return UserFactory(roles=[role_without("Support agent", TICKETS_WRITE)]), _desk_target(world)


@case("desk: Support agent, deactivated")
def _(world, rule):
    return UserFactory(roles=["Support agent"], is_active=False), _desk_target(world)


@case("desk: external Portal editor, ticket in its write set")
def _(world, rule):
    user = world.external(write=[world.write])
    return user, _desk_target(world, address=world.write)


@case("desk: external with the Support agent role, ticket in its write set")
def _(world, rule):
    user = world.external(roles=["Support agent", "Portal editor"], write=[world.write])
    return user, _desk_target(world, address=world.write)


@case("desk: anonymous")
def _(world, rule):
    return AnonymousUser(), _desk_target(world)


@case("desk: Support agent, inactive team, recipient and type")
def _(world, rule):
    target = _desk_target(
        world,
        team=TeamFactory(name="Desk: disbanded", is_active=False),
        recipient=UserFactory(roles=["Support agent"], is_active=False),
        ticket_type=TicketTypeFactory(name="Desk: retired", is_active=False),
    )
    return _agent(), target


@case("desk: Support agent, recipient without desk rights")
def _(world, rule):
    return _agent(), _desk_target(world, recipient=UserFactory(is_staff=True))


@case("desk: Support agent, external recipient with the Support agent role")
def _(world, rule):
    return _agent(), _desk_target(world, recipient=ExternalUserFactory(roles=["Support agent"]))


DESK = _table(
    DESK_RULES,
    """
case                                                                | wk take ft fu fd ty cl ro
desk: Support agent, open ticket                                    | Y  Y    Y  Y  Y  Y  Y  N
desk: Support agent, closed ticket                                  | Y  N    Y  Y  Y  Y  N  Y
desk: internal superuser, open ticket                               | Y  Y    Y  Y  Y  Y  Y  N
desk: internal, no roles                                            | N  N    N  N  N  N  N  N
desk: internal staff (admin) without roles                          | N  N    N  N  N  N  N  N
desk: Support agent without Tickets write                           | N  N    N  N  N  N  N  N
desk: Support agent, deactivated                                    | N  N    N  N  N  N  N  N
desk: external Portal editor, ticket in its write set               | N  N    N  N  N  N  N  N
desk: external with the Support agent role, ticket in its write set | N  N    N  N  N  N  N  N
desk: anonymous                                                     | N  N    N  N  N  N  N  N
desk: Support agent, inactive team, recipient and type              | Y  Y    N  N  Y  N  Y  N
desk: Support agent, recipient without desk rights                  | Y  Y    Y  N  Y  Y  Y  N
desk: Support agent, external recipient with the Support agent role | Y  Y    Y  N  Y  Y  Y  N
""",
)


TABLES = (GENERIC, OWN_CONTACT, MESSAGES, STATUSES, FILING, FILE_ANY, DESK)
CELLS = [
    pytest.param(rule_name, case_name, expected, id=f"{rule_name}|{case_name}")
    for table in TABLES
    for case_name, row in table.items()
    for rule_name, expected in row.items()
]


@pytest.mark.django_db
@pytest.mark.parametrize(("rule_name", "case_name", "expected"), CELLS)
def test_matrix(rule_name, case_name, expected):
    rule = RULES[rule_name]
    user, target = CASES[case_name](World(), rule)

    decision = rule.decide(user, target)

    assert isinstance(decision, policy.Decision)
    assert decision.reason, "every decision says which rule decided it"
    assert bool(decision) is expected, decision.reason
    assert rule.queryset_says(user, target) is expected, "the queryset face disagrees"


# ---------------------------------------------------------------------------------------------
# Who may enter which area (predicates without a queryset face).


def _area_user(kind):
    if kind == "anonymous":
        return AnonymousUser()
    if kind == "internal, Support agent":
        return UserFactory(roles=["Support agent"])
    if kind == "internal superuser":
        return UserFactory(is_staff=True, is_superuser=True)
    if kind == "internal staff without roles":
        return UserFactory(is_staff=True)
    if kind == "internal, no roles":
        return UserFactory()
    if kind == "internal Support agent without Tickets write":
        return UserFactory(roles=[role_without("Support agent", TICKETS_WRITE)])
    if kind == "internal Support agent, inactive":
        return UserFactory(roles=["Support agent"], is_active=False)
    if kind == "external, Portal editor":
        return ExternalUserFactory(roles=["Portal editor"])
    if kind == "external, Support agent":
        return ExternalUserFactory(roles=["Support agent"])
    if kind == "external, every permission":
        return ExternalUserFactory(roles=[every_permission_role()])
    if kind == "external, Portal editor, inactive":
        return ExternalUserFactory(roles=["Portal editor"], is_active=False)
    raise AssertionError(kind)


AREAS = [
    ("desk", "internal, Support agent", True),
    ("desk", "internal superuser", True),
    ("desk", "internal, no roles", False),
    ("desk", "internal staff without roles", False),
    ("desk", "internal Support agent, inactive", False),
    ("desk", "external, Portal editor", False),
    ("desk", "external, Support agent", False),
    ("desk", "external, every permission", False),
    ("desk", "anonymous", False),
    ("desk", "internal Support agent without Tickets write", True),
    ("desk work", "internal, Support agent", True),
    ("desk work", "internal superuser", True),
    ("desk work", "internal Support agent without Tickets write", False),
    ("desk work", "internal, no roles", False),
    ("desk work", "internal staff without roles", False),
    ("desk work", "internal Support agent, inactive", False),
    ("desk work", "external, Portal editor", False),
    ("desk work", "external, Support agent", False),
    ("desk work", "external, every permission", False),
    ("desk work", "anonymous", False),
    ("portal", "external, Portal editor", True),
    ("portal", "external, Support agent", True),
    ("portal", "external, Portal editor, inactive", False),
    ("portal", "internal, Support agent", False),
    ("portal", "internal superuser", False),
    ("portal", "anonymous", False),
]
# Area -> the policy predicate, looked up by name when the test runs.
AREA_PREDICATES = {
    "desk": "can_use_desk",
    "desk work": "can_work_in_desk",
    "portal": "can_use_portal",
}


def _desk_face(user):
    """The queryset face of `can_use_desk`: is the user among `policy.desk_users`?"""
    if user.pk is None:
        return False
    return policy.desk_users(User.objects.all()).filter(pk=user.pk).exists()


# The portal and "may change tickets in the desk at all" have no queryset face: those questions
# are never asked of a list.
AREA_FACES = {"desk": _desk_face, "desk work": None, "portal": None}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("area", "kind", "expected"), [pytest.param(*row, id="|".join(row[:2])) for row in AREAS]
)
def test_area_access(area, kind, expected):
    user = _area_user(kind)
    decision = getattr(policy, AREA_PREDICATES[area])(user)

    assert isinstance(decision, policy.Decision) and decision.reason
    assert bool(decision) is expected, decision.reason
    if AREA_FACES[area] is not None:
        assert AREA_FACES[area](user) is expected, "the queryset face disagrees"


# ---------------------------------------------------------------------------------------------
# No rule can be added silently.

# Policy functions that are not a rule face, and predicates without a queryset face.
NOT_RULE_FACES = {"grants_for", "forget_grants", "has_object_permission"}
# Faces over models this matrix does not build; each needs its own test where the model lives.
COVERED_ELSEWHERE = {
    "saved_filters_visible": "the desk's saved queue filters (desk.SavedFilter): own rows only",
}
AREA_ONLY = set(AREA_PREDICATES.values()) | {"desk_users"}  # desk_users: `_desk_face`


def _public_policy_functions():
    return {
        name
        for name, function in inspect.getmembers(policy, inspect.isfunction)
        if function.__module__ == policy.__name__ and not name.startswith("_")
    }


def _covered_by_matrix():
    used_rules = {cell.values[0] for cell in CELLS}
    covered = set()
    for name in used_rules:
        covered.add(RULES[name].predicate.__name__)
        covered.update(RULES[name].faces)
    return covered


def test_every_object_permission_predicate_is_in_the_matrix():
    covered = _covered_by_matrix()
    missing = {
        pair: predicate.__name__
        for pair, predicate in policy.OBJECT_PERMISSIONS.items()
        if predicate.__name__ not in covered
    }
    assert not missing


def test_every_public_policy_function_is_covered():
    """A new predicate or queryset face in the policy module must get rows in this matrix."""
    exempt = NOT_RULE_FACES | AREA_ONLY | set(COVERED_ELSEWHERE)
    uncovered = _public_policy_functions() - exempt - _covered_by_matrix()
    assert not uncovered
    assert {area for area, _kind, _expected in AREAS} == set(AREA_PREDICATES)


def test_every_rule_has_allowed_and_denied_cells():
    outcomes = {}
    for cell in CELLS:
        rule_name, _case, expected = cell.values
        outcomes.setdefault(rule_name, set()).add(expected)
    assert set(outcomes) == set(RULES)
    assert all(seen == {True, False} for seen in outcomes.values()), outcomes


def test_every_case_is_used():
    used = {cell.values[1] for cell in CELLS}
    assert used == set(CASES)


@pytest.mark.django_db
@pytest.mark.parametrize("rule_name", sorted(RULES))
def test_declared_queryset_faces_are_the_ones_called(rule_name):
    """The faces each matrix rule names are what its model methods actually hand over to."""
    rule = RULES[rule_name]
    world = World()
    user = _filer(world, roles=["Portal editor"])
    if isinstance(rule, DeskRule):
        target = _desk_target(world, address=world.write)
    elif hasattr(rule, "make_target"):
        target = rule.make_target(world, world.write)
    else:
        machine = MachineFactory(address=world.write)
        target = _filing(world, recipient=world.agent, machine=machine)
    spies = {
        name: mock.patch.object(policy, name, wraps=getattr(policy, name)) for name in rule.faces
    }
    called = {}
    for name, patcher in spies.items():
        called[name] = patcher.start()
    try:
        rule.queryset_says(user, target)
        rule.queryset_says(UserFactory(roles=["Support agent"]), target)
    finally:
        for patcher in spies.values():
            patcher.stop()
    assert all(spy.called for spy in called.values()), {n: s.called for n, s in called.items()}
