"""The reference lists the desk's forms offer, read once per request.

The queue page shows a filter form and a bulk-action form; both list teams, statuses and
people, and the queue's rows name teams too. Each list is one query here, kept on the user
object like the policy's grants (that is, for one request), and handed to every form that
needs it, so the page's query count stays the same whatever it shows (docs/performance.md).
The lists that depend on what the user may do still come from the policy's queryset faces:
on the queue page as a flag on each row of the whole list (the teams one may forward to, the
statuses one may set), elsewhere as a query of their own.

No list's plan depends on the user (a handful of teams and statuses, the fifty-odd internal
users): each is read as a prepared statement (portal.db), planned once per connection.
"""

from functools import cached_property

from django.db.models import Case, Exists, OuterRef, When

from access import policy
from accounts.models import Team, User
from portal.db import Precompiled, precompiled, prepared
from tickets.forms import EVERY_TYPE
from tickets.models import Ticket, TicketStatus

# A user's fields that `str(user)` and `get_full_name()` read.
NAME_FIELDS = ("email", "first_name", "last_name")


def flag(queryset):
    """An annotation: whether the row is among `queryset`'s (a policy's queryset face)."""
    return Case(When(pk__in=queryset.values("pk"), then=True), default=False)


def read(queryset):
    """The rows of `queryset`, read as a prepared statement."""
    with prepared(queryset.db):
        return list(queryset)


# The lists the queue reads on every request, built from the policy's decisions as values
# (`policy.may_forward`, `policy.status_scope`) and compiled once per process and shape
# (portal.db.Precompiled): building and compiling them cost more than reading them.


def _teams(forwardable):
    flagged = policy.teams_forwardable_when(Team.objects.all(), forwardable)
    return Team.objects.annotate(forwardable=flag(flagged)).order_by("name")


def _statuses(scope):
    settable = policy.statuses_in_scope(TicketStatus.objects.all(), scope)
    return TicketStatus.objects.annotate(settable=flag(settable))


def _people(forwardable):
    internal = User.objects.filter(is_external=False)
    holds_tickets = Exists(Ticket.objects.filter(responsible_user=OuterRef("pk")))
    flagged = policy.users_forwardable_when(User.objects.all(), forwardable)
    return (
        (policy.desk_users(internal) | internal.filter(holds_tickets))
        .annotate(forwardable=flag(flagged))
        .only(*NAME_FIELDS)
        .order_by("last_name", "first_name", "email")
    )


_STATUSES = Precompiled(_statuses)


def read_precompiled(statement, *values):
    """`statement.rows(*values)`, as a prepared statement."""
    with prepared():
        return statement.rows(*values)


class DeskChoices:
    def __init__(self, user):
        self.user = user

    @cached_property
    def teams(self):
        """Every team, inactive ones too (old tickets are still filtered by them), by pk. Each
        carries `forwardable`: whether the user may forward tickets to it
        (policy.teams_forwardable), so the forward choices need no second query."""
        teams = read_precompiled(precompiled(_teams, policy.may_forward(self.user)))
        return {team.pk: team for team in teams}

    @cached_property
    def forward_teams(self):
        """Teams the user may forward a ticket to (policy.teams_forwardable), by name: from
        `teams` when the page has read it (the queue), else a query of their own."""
        if "teams" in self.__dict__:
            return [team for team in self.teams.values() if team.forwardable]
        return read(policy.teams_forwardable(Team.objects.order_by("name"), self.user))

    @cached_property
    def statuses(self):
        """Every status, inactive ones too. Each carries `settable`: whether the user may set it
        (TicketStatus.objects.settable_by, the policy), so the status choices need no second
        query."""
        return read_precompiled(_STATUSES, policy.status_scope(self.user))

    @cached_property
    def settable_statuses(self):
        """Statuses the user may set (policy): from `statuses` when the page has read it (the
        queue), else a query of their own (the workspace, which needs no other statuses)."""
        if "statuses" in self.__dict__:
            return [status for status in self.statuses if status.settable]
        return read(TicketStatus.objects.settable_by(self.user))

    @cached_property
    def types(self):
        return read_precompiled(EVERY_TYPE)

    @cached_property
    def people(self):
        """Internal users a queue can be filtered by: whoever may work in the desk and whoever
        already holds a ticket, by last name. Each carries `forwardable`: whether the user may
        forward tickets to them (policy.users_forwardable), so the forward choices need no
        second query. Only what names a person is read (`NAME_FIELDS`: the lists and the
        queue's rows show names); any other field is read when first used.

        One statement, shaped for PostgreSQL's planner: the desk users' condition applies to
        the internal users directly (not through a subquery of its own), ORed with the ticket
        holders (a correlated EXISTS; PostgreSQL asks it only of users outside the desk), and the
        forwardable flag is a plain `IN` (a hashed subplan) instead of an EXISTS around it."""
        return read_precompiled(precompiled(_people, policy.may_forward(self.user)))

    @cached_property
    def forward_people(self):
        """Internal users the user may forward a ticket to (policy.users_forwardable), by last
        name: from `people` when the page has read it (the queue: names only, like `people`),
        else a query of their own (the workspace, which needs no other people: half the cost of
        `people`)."""
        if "people" in self.__dict__:
            return [person for person in self.people if person.forwardable]
        return read(
            policy.users_forwardable(User.objects.all(), self.user).order_by(
                "last_name", "first_name", "email"
            )
        )


def desk_choices(user):
    """The user's lists, read at most once per user object (that is, once per request)."""
    choices = getattr(user, "_desk_choices", None)
    if choices is None or choices.user is not user:
        choices = DeskChoices(user)
        user._desk_choices = choices
    return choices
