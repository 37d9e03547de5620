"""The access policy: the one place that decides what a user may reach.

Every rule of DESIGN.md's rule table lives here, each with two faces side by side:

* a predicate (`can_reply(user, ticket)`) that answers for one object and returns a `Decision`
  (truthy when allowed) that also says, in words an administrator understands, which rule
  decided it;
* a queryset filter (`tickets_writable(qs, user)`, reached as `Ticket.objects.writable_by(user)`)
  that answers for many objects at once.

Tests check that both faces agree for every case. Nothing outside this module reads the
external-access fields of a user (address sets, recipients, types, status restriction) to decide
anything. Everything not explicitly allowed below is denied.

A user's grants load lazily, in a bounded number of queries, at most once per user object —
Django loads the user object anew for each request, so a change to the grants applies on the
user's next request. Inactive users grant nothing; inactive addresses are in no set.

Internal users (not `is_external`) work in the desk and admin: a model permission from their
roles covers every object of that model (queues narrow by team for convenience, not for access).
External users are confined to their address sets whatever roles they hold, and never reach the
desk or admin.
"""

from dataclasses import dataclass
from functools import cached_property

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.db import connections, router
from django.db.models import Model, Q, Value
from django.db.models.expressions import RawSQL
from django.db.models.signals import post_delete, post_migrate, post_save
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portal.db import compile_for_any_id, for_id, forget_precompiled, prepared

# The basic rights (DESIGN.md, "Basic rights"): the permissions roles carry.
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
# Entering the desk: only the Support agent role carries it (and superusers hold every right),
# so an internal user given a portal role does not reach every customer's tickets.
DESK = "tickets.use_desk"

RIGHT_LABELS = {
    ADDRESSES_READ: gettext_lazy("Addresses (read)"),
    ADDRESSES_WRITE: gettext_lazy("Addresses (write)"),
    MACHINES_READ: gettext_lazy("Machines (read)"),
    MACHINES_WRITE: gettext_lazy("Machines (write)"),
    CONTACTS_READ: gettext_lazy("Contact person (read)"),
    CONTACTS_WRITE: gettext_lazy("Contact person (write)"),
    CONTACTS_ADD: gettext_lazy("Contact person (add)"),
    TICKETS_READ: gettext_lazy("Tickets (read)"),
    TICKETS_FILE: gettext_lazy("Tickets (file)"),
    TICKETS_WRITE: gettext_lazy("Tickets (reply, set status)"),
    DESK: gettext_lazy("Support desk"),
}


@dataclass(frozen=True)
class Decision:
    """The answer to "may this user do this?", with the rule that decided it."""

    allowed: bool
    reason: str

    def __bool__(self):
        return self.allowed


def _allow(reason):
    return Decision(True, reason)


def _deny(reason):
    return Decision(False, reason)


_model_backend = ModelBackend()

# Statements built by the ORM once per process and shape: the grants, run with each user's id
# (`_run_compiled`, portal.db.compile_for_any_id), and `desk_users`.
_COMPILED = {}  # key -> what `make()` made of it; cleared with the permission names


def _compiled(key, make):
    """`make()` (a statement's SQL and parameters), once per process and `key`."""
    compiled = _COMPILED.get(key)
    if compiled is None:
        compiled = _COMPILED[key] = make()
    return compiled


def _run_compiled(build, model, shape, pk):
    """Rows of `build(model, shape, pk)`, compiled once per (build, model, shape, database)."""
    db = router.db_for_read(model)

    def make():
        return compile_for_any_id(
            lambda user_id: build(model, shape, user_id).query.sql_with_params()
        )

    sql, params = for_id(_compiled((build, model, shape, db), make), pk)
    # Its plan does not depend on the user's id: prepared once per connection, it is no longer
    # planned on every request (portal.db).
    with prepared(db), connections[db].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _sets_query(User, names, pk):
    """The UNION ALL behind `Grants._sets`: (id, set name) rows of the permissions held
    directly or through a role, and of the id sets `names` (see `Grants._SETS`)."""
    parts = [
        User.user_permissions.through.objects.filter(user_id=pk)
        .annotate(grant=Value("perms"))
        .values_list("permission_id", "grant"),
        Group.permissions.through.objects.filter(
            group_id__in=User.groups.through.objects.filter(user_id=pk).values("group_id")
        )
        .annotate(grant=Value("perms"))
        .values_list("permission_id", "grant"),
    ]
    for name in names:
        relation, extra = Grants._SETS[name]
        field = User._meta.get_field(relation)
        through = field.remote_field.through
        source, target = field.m2m_field_name(), field.m2m_reverse_field_name()
        condition = {f"{target}__is_active": True}
        condition.update({f"{target}__{key}": value for key, value in extra.items()})
        parts.append(
            through.objects.filter(**{f"{source}_id": pk}, **condition)
            .annotate(grant=Value(name))
            .values_list(f"{target}_id", "grant")
        )
    return parts[0].union(*parts[1:], all=True)


class Grants:
    """What one user holds. Every part loads on first use and is kept for the user object."""

    def __init__(self, user):
        self.user = user
        self.active = bool(getattr(user, "is_authenticated", False) and user.is_active)
        self.external = self.active and bool(getattr(user, "is_external", False))
        self.internal = self.active and not self.external

    @cached_property
    def perms(self):
        """Model permissions from the user's roles and direct grants, read with the id sets
        (`_sets`); kept where ModelBackend keeps them, so `user.has_perm` reuses them within
        the request."""
        if not self.active:
            return frozenset()
        user = self.user
        if not hasattr(user, "_perm_cache"):
            if user.is_superuser:
                user._perm_cache = _model_backend.get_all_permissions(user)
            else:
                user._perm_cache = _permission_names(self._sets["perms"])
        return frozenset(user._perm_cache)

    def has(self, perm):
        if not self.active:
            return False
        if self.internal and self.user.is_superuser:
            return True
        return perm in self.perms

    # The user's id sets, read together: (relation on the user, extra condition on its target).
    # Every target must be active; a recipient must also be an internal user.
    _SETS = {
        "read": ("read_addresses", {}),
        "write": ("write_addresses", {}),
        "types": ("ticket_types", {}),
        "teams": ("responsible_teams", {}),
        "recipients": ("responsible_users", {"is_external": False}),
        "statuses": ("allowed_statuses", {}),
    }

    @cached_property
    def _sets(self):
        """Every id set of the user in one query: a UNION ALL of index ranges of the
        relations' through tables, each joined to its target by primary key, and the ids of
        the permissions the user holds directly or through a role. The pages need most of them
        on every request (the navigation asks whether the user can file), and one round trip
        costs less than six. Internal users hold no address or recipient sets."""
        found = {name: set() for name in (*self._SETS, "perms")}
        if not self.active:
            return {name: frozenset() for name in found}
        user = self.user
        names = tuple(
            name
            for name in self._SETS
            if self.external and (name != "statuses" or user.restrict_status)
        )
        # `__class__`, not `type()`: request.user is a lazy proxy whose type is not the model.
        for pk, name in _run_compiled(_sets_query, user.__class__, names, user.pk):
            found[name].add(pk)
        # R(u) is the read set and the write set together.
        found["read"] |= found["write"]
        return {name: frozenset(ids) for name, ids in found.items()}

    @property
    def read_ids(self):
        """R(u): active addresses in the read or the write set."""
        return self._sets["read"]

    @property
    def write_ids(self):
        """W(u): active addresses in the write set."""
        return self._sets["write"]

    @cached_property
    def own_contact_id(self):
        """The user's linked contact person, if it and its address are still valid."""
        user = self.user
        if not self.external or not user.contact_person_id:
            return None
        ContactPerson = user.__class__.contact_person.field.related_model
        linked = ContactPerson.objects.filter(
            pk=user.contact_person_id, address_id=user.address_id, address__is_active=True
        )
        return user.contact_person_id if linked.exists() else None

    @property
    def type_ids(self):
        return self._sets["types"]

    @property
    def team_ids(self):
        return self._sets["teams"]

    @property
    def recipient_user_ids(self):
        return self._sets["recipients"]

    @property
    def restrict_status(self):
        return self.external and self.user.restrict_status

    @property
    def allowed_status_ids(self):
        return self._sets["statuses"]


# Permission id -> "app_label.codename". Permissions are created by migrations and never
# change their name, so each process reads a name once, when a user first holds it.
_PERMISSION_NAMES = {}


def _forget_permission_names(**kwargs):
    """A migration or flush may recreate permissions under other ids (tests do)."""
    _PERMISSION_NAMES.clear()
    _COMPILED.clear()  # desk_users names the desk permissions by id
    forget_precompiled()  # and so do the statements built with it (desk.choices)


post_migrate.connect(_forget_permission_names, dispatch_uid="access.policy.permission_names")
for _signal in (post_save, post_delete):
    _signal.connect(
        _forget_permission_names, sender=Permission, dispatch_uid="access.policy.permission_names"
    )


def _permission_names(ids):
    missing = set(ids) - _PERMISSION_NAMES.keys()
    if missing:
        rows = Permission.objects.filter(pk__in=missing).values_list(
            "pk", "content_type__app_label", "codename"
        )
        _PERMISSION_NAMES.update({pk: f"{app}.{codename}" for pk, app, codename in rows})
    return {_PERMISSION_NAMES[pk] for pk in ids if pk in _PERMISSION_NAMES}


def grants_for(user):
    """The user's grants, loaded once per user object (that is, once per request)."""
    grants = getattr(user, "_access_grants", None)
    if grants is None or grants.user is not user:
        grants = Grants(user)
        user._access_grants = grants
    return grants


def forget_grants(user):
    """Drop cached grants and permissions, e.g. after changing a user in the same request."""
    for attr in ("_access_grants", "_perm_cache", "_user_perm_cache", "_group_perm_cache"):
        if hasattr(user, attr):
            delattr(user, attr)


# ---------------------------------------------------------------------------------------------
# Who may enter which area.


def can_use_portal(user):
    g = grants_for(user)
    if not g.active:
        return _deny(_("the account is inactive or not signed in"))
    if not g.external:
        return _deny(_("the portal is for external users"))
    return _allow(_("an active external user"))


def can_use_desk(user):
    g = grants_for(user)
    if not g.active:
        return _deny(_("the account is inactive or not signed in"))
    if g.external:
        return _deny(_("external users never reach the desk"))
    if not (g.has(DESK) and g.has(TICKETS_READ)):
        return _deny(_("no role grants the desk rights (Support agent)"))
    return _allow(_("an internal user with the desk rights"))


# ---------------------------------------------------------------------------------------------
# The shared core: a basic right plus membership of an address set.


def _at_address(subject, obj):
    """Name the address `obj` belongs to for a reason: "address 10023 of ticket 1042".

    The number is named only when `obj.address` is already loaded: words never cost a query.
    """
    field = obj._meta.get_field("address")
    address = field.get_cached_value(obj) if field.is_cached(obj) else None
    if address is None:
        return _("the address of %(subject)s") % {"subject": subject}
    return _("address %(number)s of %(subject)s") % {"number": address.number, "subject": subject}


def _address_rule(g, perms, address_id, *, write, subject):
    """Decide an action on something that belongs to `address_id`.

    `perms` are the basic rights the action needs (all of them); `write` selects W(u) instead
    of R(u) for external users. Internal users need only the rights. `subject` names the
    address the decision turns on, as the reason says it ("address 10023", or `_at_address`).
    """
    if not g.active:
        return _deny(_("the account is inactive or not signed in"))
    for perm in perms:
        if not g.has(perm):
            return _deny(
                _("no role grants the basic right %(right)s") % {"right": RIGHT_LABELS[perm]}
            )
    if g.internal:
        return _allow(_("internal user with the basic right"))
    if write:
        if address_id in g.write_ids:
            return _allow(_("%(subject)s is in the write set") % {"subject": subject})
        if address_id in g.read_ids:
            return _deny(
                _("%(subject)s is in the read set, not in the write set") % {"subject": subject}
            )
    elif address_id in g.write_ids:
        return _allow(
            _("%(subject)s is in the write set (write implies read)") % {"subject": subject}
        )
    elif address_id in g.read_ids:
        return _allow(_("%(subject)s is in the read set") % {"subject": subject})
    return _deny(
        _("%(subject)s is in neither the read nor the write set, or is inactive")
        % {"subject": subject}
    )


def _scope(qs, g, perms, field, *, write, extra=None):
    """The queryset face of `_address_rule`; `extra` is a Q for additional allowed rows."""
    if not g.active or not all(g.has(perm) for perm in perms):
        return qs.none()
    if g.internal:
        return qs
    ids = g.write_ids if write else g.read_ids
    condition = Q(**{f"{field}__in": ids})
    if extra is not None:
        condition |= extra
    return qs.filter(condition)


# ---------------------------------------------------------------------------------------------
# Addresses.


def can_see_address(user, address):
    return _address_rule(
        grants_for(user),
        [ADDRESSES_READ],
        address.pk,
        write=False,
        subject=_("address %(number)s") % {"number": address.number},
    )


def addresses_visible(qs, user):
    return _scope(qs, grants_for(user), [ADDRESSES_READ], "pk", write=False)


def can_edit_address(user, address):
    return _address_rule(
        grants_for(user),
        [ADDRESSES_READ, ADDRESSES_WRITE],
        address.pk,
        write=True,
        subject=_("address %(number)s") % {"number": address.number},
    )


def addresses_writable(qs, user):
    return _scope(qs, grants_for(user), [ADDRESSES_READ, ADDRESSES_WRITE], "pk", write=True)


# ---------------------------------------------------------------------------------------------
# Machines.


def can_see_machine(user, machine):
    return _address_rule(
        grants_for(user),
        [MACHINES_READ],
        machine.address_id,
        write=False,
        subject=_at_address(_("machine %(number)s") % {"number": machine.number}, machine),
    )


def machines_visible(qs, user):
    return _scope(qs, grants_for(user), [MACHINES_READ], "address_id", write=False)


def can_edit_machine(user, machine):
    return _address_rule(
        grants_for(user),
        [MACHINES_READ, MACHINES_WRITE],
        machine.address_id,
        write=True,
        subject=_at_address(_("machine %(number)s") % {"number": machine.number}, machine),
    )


def machines_writable(qs, user):
    return _scope(qs, grants_for(user), [MACHINES_READ, MACHINES_WRITE], "address_id", write=True)


# ---------------------------------------------------------------------------------------------
# Contact persons: the address sets, and also the user's own linked contact person.


def _contact_rule(user, contact, perms, *, write):
    g = grants_for(user)
    if g.external and contact.pk is not None and contact.pk == g.own_contact_id:
        if all(g.has(perm) for perm in perms):
            return _allow(_("the user's own linked contact person"))
    return _address_rule(
        g,
        perms,
        contact.address_id,
        write=write,
        subject=_at_address(_("contact person %(name)s") % {"name": contact}, contact),
    )


def _contact_scope(qs, user, perms, *, write):
    g = grants_for(user)
    own = Q(pk=g.own_contact_id) if g.own_contact_id else None
    return _scope(qs, g, perms, "address_id", write=write, extra=own)


def can_see_contact(user, contact):
    return _contact_rule(user, contact, [CONTACTS_READ], write=False)


def contacts_visible(qs, user):
    return _contact_scope(qs, user, [CONTACTS_READ], write=False)


def can_edit_contact(user, contact):
    return _contact_rule(user, contact, [CONTACTS_READ, CONTACTS_WRITE], write=True)


def contacts_writable(qs, user):
    return _contact_scope(qs, user, [CONTACTS_READ, CONTACTS_WRITE], write=True)


def can_add_contact(user, address):
    return _address_rule(
        grants_for(user),
        [CONTACTS_READ, CONTACTS_ADD],
        address.pk,
        write=True,
        subject=_("address %(number)s") % {"number": address.number},
    )


def addresses_for_new_contact(qs, user):
    return _scope(qs, grants_for(user), [CONTACTS_READ, CONTACTS_ADD], "pk", write=True)


# ---------------------------------------------------------------------------------------------
# Tickets: see, reply, set status.


def _ticket_subject(ticket):
    return _("ticket %(number)s") % {"number": ticket.number}


def can_see_ticket(user, ticket):
    return _address_rule(
        grants_for(user),
        [TICKETS_READ],
        ticket.address_id,
        write=False,
        subject=_at_address(_ticket_subject(ticket), ticket),
    )


def tickets_visible(qs, user):
    return tickets_in_scope(qs, ticket_address_scope(user))


def ticket_address_scope(user):
    """The ids of the addresses whose tickets `user` may see: that set *is* the whole of
    `tickets_visible` (an external user: a ticket is visible exactly when its address is
    among them; empty when the user may see none); None when the scope is not a set of
    addresses (an active internal user sees every ticket). For statements that read ticket
    facts kept elsewhere by address (the search documents) and must scope them alike, and
    for statements compiled once for a scope's shape (`tickets_in_scope`)."""
    return _ticket_scope(grants_for(user), [TICKETS_READ], write=False)


def ticket_write_scope(user):
    """`ticket_address_scope` for `tickets_writable`: the addresses whose tickets `user` may
    reply to (an external user's write set), None for an internal user who may reply to
    every ticket, empty for a user who may reply to none."""
    return _ticket_scope(grants_for(user), [TICKETS_READ, TICKETS_WRITE], write=True)


def _ticket_scope(g, perms, *, write):
    if not g.active or not all(g.has(perm) for perm in perms):
        return frozenset()
    if g.internal:
        return None
    return g.write_ids if write else g.read_ids


def tickets_in_scope(qs, scope, field="address_id"):
    """The tickets (or, with `field`, the rows of tickets) of a `ticket_address_scope` or
    `ticket_write_scope` value: all for None, none for an empty scope, else those at its
    addresses. A function of the value alone, so a statement built with it can be compiled
    once for every scope of the same shape (portal.db.Precompiled)."""
    if scope is None:
        return qs
    if not scope:
        return qs.none()
    return qs.filter(**{f"{field}__in": scope})


def can_reply(user, ticket):
    """Reply (and, with `can_set_status`, change the status). Replying reopens a closed ticket."""
    return _address_rule(
        grants_for(user),
        [TICKETS_READ, TICKETS_WRITE],
        ticket.address_id,
        write=True,
        subject=_at_address(_ticket_subject(ticket), ticket),
    )


def can_add_internal_note(user, ticket):
    """Internal notes: internal users who may reply; never shown to or written by customers."""
    decision = can_reply(user, ticket)
    if not decision:
        return decision
    if not grants_for(user).internal:
        return _deny(_("internal notes are written by internal users only"))
    return _allow(_("an internal user who may reply"))


def tickets_writable(qs, user):
    return tickets_in_scope(qs, ticket_write_scope(user))


def _status_rule(g, status):
    if not status.is_active:
        return _deny(_("status “%(status)s” is inactive") % {"status": status})
    if g.restrict_status and status.pk not in g.allowed_status_ids:
        return _deny(
            _("the user's statuses are restricted and “%(status)s” is not among them")
            % {"status": status}
        )
    return _allow(_("status “%(status)s” may be set") % {"status": status})


def can_set_status(user, ticket, status):
    decision = can_reply(user, ticket)
    if not decision:
        return decision
    return _status_rule(grants_for(user), status)


def statuses_settable(qs, user):
    """Statuses `user` may apply on tickets it may write to (see `tickets_writable`)."""
    return statuses_in_scope(qs, status_scope(user))


def status_scope(user):
    """The statuses `user` may set, as a value: None for every active status, an empty set for
    none, else the ids of the only statuses allowed (a restricted external user's, which count
    when active). `statuses_in_scope` is its queryset face."""
    g = grants_for(user)
    if not g.active or not (g.has(TICKETS_READ) and g.has(TICKETS_WRITE)):
        return frozenset()
    if g.external and not g.write_ids:
        return frozenset()
    if g.restrict_status:
        return g.allowed_status_ids
    return None


def statuses_in_scope(qs, scope):
    """The statuses of a `status_scope` value (a function of the value alone, so a statement
    built with it can be compiled once per shape: portal.db.Precompiled)."""
    if scope is not None and not scope:
        return qs.none()
    qs = qs.filter(is_active=True)
    if scope is not None:
        qs = qs.filter(pk__in=scope)
    return qs


def messages_visible(qs, user):
    """Messages of tickets `user` may see (the queryset face of `can_see_message`).

    Callers still fetch messages through their ticket; the ticket rule is applied here too, so
    this face agrees with `can_see_message` on any queryset. External users never see internal
    notes.
    """
    return messages_in_scope(qs, ticket_address_scope(user))


def messages_in_scope(qs, scope):
    """`messages_visible` for a `ticket_address_scope` value: a scope of addresses is an
    external user's, who never sees internal notes (see `tickets_in_scope`)."""
    qs = tickets_in_scope(qs, scope, "ticket__address_id")
    if scope is not None:
        return qs.exclude(kind="internal_note")
    return qs


def can_see_message(user, message):
    if not can_see_ticket(user, message.ticket):
        return _deny(_("the ticket is not visible"))
    if grants_for(user).external and message.kind == "internal_note":
        return _deny(_("internal notes are never shown to external users"))
    return _allow(_("a message of a visible ticket"))


# ---------------------------------------------------------------------------------------------
# Filing a ticket: address, type, recipient, machine.


@dataclass(frozen=True)
class FileableIds:
    """The ids of what an external user may choose when filing a ticket (`fileable_ids`)."""

    addresses: frozenset
    types: frozenset
    teams: frozenset
    people: frozenset


NOTHING_FILEABLE = FileableIds(frozenset(), frozenset(), frozenset(), frozenset())


def fileable_ids(user):
    """What `user` may choose when filing, as id sets read from its grants (no query): the
    active write addresses, allowed active ticket types, active teams and active internal
    recipients. NOTHING_FILEABLE when the user may not file; None for an active internal user,
    whose choices are every active row. The four filing faces below are built from it, and the
    filing form checks a submitted choice against it before reading the row."""
    g = grants_for(user)
    if not g.active or not g.has(TICKETS_FILE):
        return NOTHING_FILEABLE
    if g.internal:
        return None
    # The grants' sets hold active targets only, recipients internal ones (Grants._SETS).
    return FileableIds(g.write_ids, g.type_ids, g.team_ids, g.recipient_user_ids)


def _fileable(qs, user, name, **every):
    """A filing face: the rows of `qs` in the id set `name` of `fileable_ids(user)`; for an
    internal user the rows matching `every` (active ones); none when the user may not file."""
    ids = fileable_ids(user)
    if ids is NOTHING_FILEABLE:
        return qs.none()
    if ids is None:
        return qs.filter(**every)
    return qs.filter(pk__in=getattr(ids, name))


def addresses_fileable(qs, user):
    return _fileable(qs, user, "addresses", is_active=True)


def ticket_types_creatable(qs, user):
    return _fileable(qs, user, "types", is_active=True)


def teams_recipient(qs, user):
    """Teams `user` may send a ticket to."""
    return _fileable(qs, user, "teams", is_active=True)


def users_recipient(qs, user):
    """Internal users `user` may send a ticket to."""
    return _fileable(qs, user, "people", is_active=True, is_external=False)


def machines_fileable(qs, user, address):
    """Machines `user` may name on a ticket filed at `address`."""
    if not addresses_fileable(type(address).objects.filter(pk=address.pk), user).exists():
        return qs.none()
    return machines_visible(qs, user).filter(address_id=address.pk, is_active=True)


def can_file(user):
    """Whether `user` can file any ticket at all, and if not the first reason why."""
    g = grants_for(user)
    if not g.active:
        return _deny(_("the account is inactive or not signed in"))
    if not g.has(TICKETS_FILE):
        return _deny(
            _("no role grants the basic right %(right)s") % {"right": RIGHT_LABELS[TICKETS_FILE]}
        )
    if g.internal:
        return _allow(_("internal user with the basic right"))
    if not g.write_ids:
        return _deny(_("no active address in the write set"))
    if not g.type_ids:
        return _deny(_("no active ticket type is allowed"))
    if not (g.team_ids or g.recipient_user_ids):
        return _deny(_("no active team or user responsible"))
    return _allow(_("the user may file tickets"))


def can_file_ticket(user, *, address, ticket_type, team=None, recipient=None, machine=None):
    """Whether `user` may file a ticket with exactly these values."""
    g = grants_for(user)
    decision = can_file(user)
    if not decision:
        return decision
    internal = g.internal
    if not address.is_active or not (internal or address.pk in g.write_ids):
        return _deny(
            _("address %(number)s is not in the write set or is inactive")
            % {"number": address.number}
        )
    if not ticket_type.is_active or not (internal or ticket_type.pk in g.type_ids):
        return _deny(_("ticket type “%(type)s” is not allowed") % {"type": ticket_type})
    if team is None and recipient is None:
        return _deny(_("a ticket needs a recipient"))
    if team is not None and not (team.is_active and (internal or team.pk in g.team_ids)):
        return _deny(_("team “%(team)s” is not a permitted recipient") % {"team": team})
    if recipient is not None and not (
        recipient.is_active
        and not recipient.is_external
        and (internal or recipient.pk in g.recipient_user_ids)
    ):
        return _deny(_("user “%(user)s” is not a permitted recipient") % {"user": recipient})
    if machine is not None:
        if machine.address_id != address.pk or not machine.is_active:
            return _deny(
                _("machine %(number)s is not an active machine at this address")
                % {"number": machine.number}
            )
        seen = can_see_machine(user, machine)
        if not seen:
            return seen
    return _allow(_("the user may file this ticket"))


# ---------------------------------------------------------------------------------------------
# Desk: what support staff may do to a ticket besides replying and setting a status.
#
# Every desk action needs the desk (`can_use_desk`) and the ticket-write right on the ticket
# (`can_reply`); internal users work on every ticket, so queues and teams narrow for
# convenience, never for access. Forward recipients are active teams and users who may enter
# the desk themselves, so a ticket never lands with somebody who cannot open it.


def can_work_in_desk(user):
    """Change tickets in the desk at all: the first question of the bulk actions, and of the
    choices (teams, users, types) the desk's forms offer."""
    decision = can_use_desk(user)
    if not decision:
        return decision
    if not grants_for(user).has(TICKETS_WRITE):
        return _deny(
            _("no role grants the basic right %(right)s") % {"right": RIGHT_LABELS[TICKETS_WRITE]}
        )
    return _allow(_("a desk user who may change tickets"))


def can_work_on_ticket(user, ticket):
    """The ticket-level part of every desk action (take, forward, type, priority, status)."""
    decision = can_use_desk(user)
    if not decision:
        return decision
    return can_reply(user, ticket)


def can_take(user, ticket):
    """Take a ticket: the user becomes its responsible user (the team stays)."""
    decision = can_work_on_ticket(user, ticket)
    if not decision:
        return decision
    if ticket.closed_at is not None:
        return _deny(
            _("%(subject)s is closed; reopen it first") % {"subject": _ticket_subject(ticket)}
        )
    return _allow(_("a desk user who may work on the ticket"))


def teams_forwardable(qs, user):
    """Teams `user` may forward a ticket to."""
    return teams_forwardable_when(qs, may_forward(user))


def may_forward(user):
    """Whether `user` may forward tickets at all (to the teams and users of
    `teams_forwardable_when` and `users_forwardable_when`): a value for statements compiled
    once per shape (portal.db.Precompiled)."""
    return bool(can_work_in_desk(user))


def teams_forwardable_when(qs, allowed):
    """`teams_forwardable` for a `may_forward` value."""
    if not allowed:
        return qs.none()
    return qs.filter(is_active=True)


def desk_users(qs):
    """Users who may enter the desk: the queryset face of `can_use_desk` (active internal
    users holding the desk rights from a role or directly, and internal superusers).

    The condition takes no user, so its SQL is the same on every request: built and compiled
    once per process and database, with the two permissions' ids (read then, forgotten with the
    permission names), and applied as a subquery. Built per request, its dozen nested
    subqueries cost about 3 ms of CPU and 5 ms of planning on a desk page."""
    User = qs.model

    def make():
        ids = _desk_users_condition(User._default_manager.using(qs.db)).order_by().values("pk")
        return ids.query.get_compiler(using=qs.db).as_sql()

    compiled = _compiled((desk_users, User, qs.db), make)
    return qs.filter(pk__in=RawSQL(*compiled))  # noqa: S611 - compiled by Django, parameters bound


def _desk_users_condition(qs):
    User = qs.model
    Through = User.groups.field.related_model.permissions.through

    def holders(perm):
        # From the permission to its holders (groups, then their members), so the cost follows
        # the few desk roles, not the thousands of external users and their group rows.
        app_label, codename = perm.split(".")
        ids = list(
            Permission.objects.using(qs.db)
            .filter(codename=codename, content_type__app_label=app_label)
            .values_list("pk", flat=True)
        )
        # Only internal members: every customer holds a role with the ticket rights, and
        # hashing their thousands of memberships was most of the statement's time.
        by_role = User.groups.through.objects.filter(
            group_id__in=Through.objects.filter(permission_id__in=ids).values("group_id"),
            user__is_external=False,
        ).values("user_id")
        direct = User.user_permissions.through.objects.filter(permission_id__in=ids)
        return Q(pk__in=by_role) | Q(pk__in=direct.values("user_id"))

    return qs.filter(is_active=True, is_external=False).filter(
        Q(is_superuser=True) | (holders(DESK) & holders(TICKETS_READ))
    )


def users_forwardable(qs, user):
    """Users `user` may forward a ticket to: those who may enter the desk themselves."""
    return users_forwardable_when(qs, may_forward(user))


def users_forwardable_when(qs, allowed):
    """`users_forwardable` for a `may_forward` value."""
    if not allowed:
        return qs.none()
    return desk_users(qs)


def can_forward(user, ticket, *, team=None, recipient=None):
    """Forward a ticket to `team` or to `recipient` (exactly one of them)."""
    decision = can_work_on_ticket(user, ticket)
    if not decision:
        return decision
    if (team is None) == (recipient is None):
        return _deny(_("a ticket is forwarded to one team or one user"))
    if team is not None and not team.is_active:
        return _deny(_("team “%(team)s” is inactive") % {"team": team})
    if recipient is not None and not can_use_desk(recipient):
        return _deny(_("user “%(user)s” cannot work in the desk") % {"user": recipient})
    return _allow(_("a desk user forwarding to an active desk team or user"))


def can_change_ticket_fields(user, ticket):
    """Change the type and the priority of a ticket."""
    decision = can_work_on_ticket(user, ticket)
    if not decision:
        return decision
    return _allow(_("a desk user who may work on the ticket"))


def ticket_types_assignable(qs, user):
    """Types `user` may give an existing ticket in the desk."""
    if not can_work_in_desk(user):
        return qs.none()
    return qs.filter(is_active=True)


def can_change_type(user, ticket, ticket_type):
    decision = can_change_ticket_fields(user, ticket)
    if not decision:
        return decision
    if not ticket_type.is_active:
        return _deny(_("ticket type “%(type)s” is inactive") % {"type": ticket_type})
    return _allow(_("an active ticket type"))


def can_close(user, ticket):
    """Close an open ticket (set a closing status; `can_set_status` decides the status)."""
    decision = can_work_on_ticket(user, ticket)
    if not decision:
        return decision
    if ticket.closed_at is not None:
        return _deny(_("%(subject)s is already closed") % {"subject": _ticket_subject(ticket)})
    return _allow(_("a desk user who may work on the ticket"))


def can_reopen(user, ticket):
    """Reopen a closed ticket (it returns to the default status)."""
    decision = can_work_on_ticket(user, ticket)
    if not decision:
        return decision
    if ticket.closed_at is None:
        return _deny(_("%(subject)s is open") % {"subject": _ticket_subject(ticket)})
    return _allow(_("a desk user who may work on the ticket"))


def saved_filters_visible(qs, user):
    """A desk user's saved queue filters are their own."""
    if not can_use_desk(user):
        return qs.none()
    return qs.filter(user_id=user.pk)


# ---------------------------------------------------------------------------------------------
# The permission backend's table: (permission, model label) -> predicate.

OBJECT_PERMISSIONS = {
    ("addresses.view_address", "addresses.address"): can_see_address,
    ("addresses.change_address", "addresses.address"): can_edit_address,
    ("addresses.add_contactperson", "addresses.address"): can_add_contact,
    ("addresses.view_machine", "addresses.machine"): can_see_machine,
    ("addresses.change_machine", "addresses.machine"): can_edit_machine,
    ("addresses.view_contactperson", "addresses.contactperson"): can_see_contact,
    ("addresses.change_contactperson", "addresses.contactperson"): can_edit_contact,
    ("tickets.view_ticket", "tickets.ticket"): can_see_ticket,
    ("tickets.change_ticket", "tickets.ticket"): can_reply,
    ("tickets.view_message", "tickets.message"): can_see_message,
}


def has_object_permission(user, perm, obj):
    """`user.has_perm(perm, obj)`: unknown pairs, and anything but a model instance, are denied."""
    if not isinstance(obj, Model):
        return _deny(_("no rule allows this action"))
    predicate = OBJECT_PERMISSIONS.get((perm, obj._meta.label_lower))
    if predicate is None:
        return _deny(_("no rule allows this action"))
    return predicate(user, obj)


# ---------------------------------------------------------------------------------------------
# Transparency: summaries and explanations.
#
# Administrators ask two things about a user: "what can this person reach?" (`AccessSummary`)
# and "may this person do that, and why?" (`QUESTIONS`). Both are answered by the predicates,
# queryset faces and grants above and by nothing else, so an answer cannot disagree with what
# is enforced. They are a class and a table, not functions: the access matrix requires every
# public function of this module to be a rule face.


@dataclass(frozen=True)
class Question:
    """An action an administrator can ask about; `ask` returns its predicate's own `Decision`.

    `positional` and `keywords` name the objects the predicate needs (passed positionally or by
    keyword, after the user); `optional` the keywords it may be given too.
    """

    key: str
    predicate: object
    positional: tuple = ()
    keywords: tuple = ()
    optional: tuple = ()

    @property
    def needs(self):
        return self.positional + self.keywords

    def ask(self, user, **objects):
        missing = [name for name in self.needs if objects.get(name) is None]
        unknown = set(objects) - set(self.needs) - set(self.optional)
        if missing or unknown:
            raise TypeError(f"{self.key}: missing {missing}, unexpected {sorted(unknown)}")
        args = [objects[name] for name in self.positional]
        kwargs = {name: objects[name] for name in self.keywords}
        kwargs.update(
            {name: objects[name] for name in self.optional if objects.get(name) is not None}
        )
        return self.predicate(user, *args, **kwargs)


QUESTIONS = {
    question.key: question
    for question in (
        Question("use_portal", can_use_portal),
        Question("see_address", can_see_address, ("address",)),
        Question("edit_address", can_edit_address, ("address",)),
        Question("add_contact", can_add_contact, ("address",)),
        Question("see_machine", can_see_machine, ("machine",)),
        Question("edit_machine", can_edit_machine, ("machine",)),
        Question("see_contact", can_see_contact, ("contact",)),
        Question("edit_contact", can_edit_contact, ("contact",)),
        Question("see_ticket", can_see_ticket, ("ticket",)),
        Question("see_message", can_see_message, ("message",)),
        Question("reply", can_reply, ("ticket",)),
        Question("set_status", can_set_status, ("ticket", "status")),
        Question("file_any", can_file),
        Question(
            "file_ticket",
            can_file_ticket,
            keywords=("address", "ticket_type"),
            optional=("team", "recipient", "machine"),
        ),
        # The desk's questions, for internal users (external users are always refused there).
        Question("use_desk", can_use_desk),
        Question("work_in_desk", can_work_in_desk),
        Question("add_internal_note", can_add_internal_note, ("ticket",)),
        Question("work_on_ticket", can_work_on_ticket, ("ticket",)),
        Question("take", can_take, ("ticket",)),
        Question("forward", can_forward, ("ticket",), optional=("team", "recipient")),
        Question("change_fields", can_change_ticket_fields, ("ticket",)),
        Question("change_type", can_change_type, ("ticket", "ticket_type")),
        Question("close", can_close, ("ticket",)),
        Question("reopen", can_reopen, ("ticket",)),
    )
}


class AccessSummary:
    """What `user` can reach, as an administrator reviews it.

    Every answer is a rule's own face (`can_file`, `tickets_visible`, `teams_recipient` …) or
    the grants those faces read; nothing is decided here. What the user's fields configure but
    grants nothing (an inactive address, team, type or status; recipients without the right to
    file) is listed too, marked as not in effect, so the form and its effect can be compared.
    Each part loads on first use in a fixed number of queries, whatever the size of the sets;
    `prefetch_related` on the user's relations (roles, recipients, types, statuses) is used.
    """

    def __init__(self, user):
        self.user = user
        self.grants = grants_for(user)

    def _flag(self, address):
        address.readable = address.pk in self.grants.read_ids
        address.writable = address.pk in self.grants.write_ids
        return address

    def holds(self, perm):
        """Whether a role of the user grants the basic right `perm`, as every rule asks it."""
        return self.grants.has(perm)

    @cached_property
    def portal(self):
        return can_use_portal(self.user)

    @cached_property
    def filing(self):
        return can_file(self.user)

    @cached_property
    def roles(self):
        if self.user.pk is None:
            return []
        return sorted(group.name for group in self.user.groups.all())

    @cached_property
    def home_address(self):
        return self._flag(self.user.address) if self.user.address_id else None

    @cached_property
    def addresses(self):
        """The addresses of Read and Write permission, by number, each with its headquarters
        (`parent`) and its sites (`its_sites`). Each carries `in_read_field` and `in_write_field`
        (what the form says) and `readable` and `writable` (R(u) and W(u): what the rules use);
        access to a headquarters does not reach its sites, nor the other way round."""
        user = self.user
        if user.pk is None:
            return []
        from django.db.models import BooleanField, Value

        User = user.__class__
        Address = User.read_addresses.field.related_model
        # The two fields' rows first (one query over the user's own rows), then those addresses:
        # never a pass over every address.
        links = (
            User.read_addresses.through.objects.filter(user_id=user.pk)
            .annotate(write=Value(False, output_field=BooleanField()))
            .values_list("address_id", "write")
            .union(
                User.write_addresses.through.objects.filter(user_id=user.pk)
                .annotate(write=Value(True, output_field=BooleanField()))
                .values_list("address_id", "write"),
                all=True,
            )
        )
        in_read, in_write = set(), set()
        for address_id, write in links:
            (in_write if write else in_read).add(address_id)
        rows = []
        if in_read or in_write:
            rows = list(
                Address.objects.filter(pk__in=in_read | in_write)
                .select_related("parent")
                .order_by("number", "pk")
            )
        for row in rows:
            row.in_read_field = row.pk in in_read
            row.in_write_field = row.pk in in_write
        sites = {}
        if rows:
            children = Address.objects.filter(parent__in=[row.pk for row in rows])
            for site in children.order_by("number", "pk"):
                sites.setdefault(site.parent_id, []).append(self._flag(site))
        for row in rows:
            self._flag(row)
            if row.parent is not None:
                self._flag(row.parent)
            row.its_sites = sites.get(row.pk, [])
        return rows

    @cached_property
    def contact_person(self):
        """The linked contact person with `can_see` and `can_edit`: the rules' own decisions."""
        if not self.user.contact_person_id:
            return None
        contact = self.user.contact_person
        contact.can_see = can_see_contact(self.user, contact)
        contact.can_edit = can_edit_contact(self.user, contact)
        return contact

    def _configured(self, name, face):
        """The objects of the user's field `name`, each with `usable`: whether `face` (the rule's
        queryset face) offers it to the user."""
        if self.user.pk is None:
            return []
        objects = sorted(getattr(self.user, name).all(), key=str)
        usable = set()
        if objects:
            model = type(objects[0])
            candidates = model.objects.filter(pk__in=[obj.pk for obj in objects])
            usable = set(face(candidates, self.user).values_list("pk", flat=True))
        for obj in objects:
            obj.usable = obj.pk in usable
        return objects

    @cached_property
    def teams(self):
        return self._configured("responsible_teams", teams_recipient)

    @cached_property
    def recipient_users(self):
        return self._configured("responsible_users", users_recipient)

    @cached_property
    def ticket_types(self):
        return self._configured("ticket_types", ticket_types_creatable)

    @property
    def restrict_status(self):
        """The user's "Restrict customer status" box, as configured."""
        return bool(self.user.restrict_status)

    @cached_property
    def allowed_statuses(self):
        return self._configured("allowed_statuses", statuses_settable)

    @cached_property
    def settable_statuses(self):
        """Every status the user may set on a ticket it may write to."""
        TicketStatus = self.user.__class__.allowed_statuses.field.related_model
        return list(statuses_settable(TicketStatus.objects.all(), self.user))

    @cached_property
    def counts(self):
        """How many objects the scoped querysets give the user."""
        from django.apps import apps

        user = self.user
        Ticket = apps.get_model("tickets", "Ticket")
        Address = apps.get_model("addresses", "Address")
        Machine = apps.get_model("addresses", "Machine")
        ContactPerson = apps.get_model("addresses", "ContactPerson")
        return {
            "addresses": addresses_visible(Address.objects.all(), user).count(),
            "tickets": tickets_visible(Ticket.objects.all(), user).count(),
            "tickets_writable": tickets_writable(Ticket.objects.all(), user).count(),
            "machines": machines_visible(Machine.objects.all(), user).count(),
            "contacts": contacts_visible(ContactPerson.objects.all(), user).count(),
        }
