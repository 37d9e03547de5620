"""The desk's queues. They narrow the tickets a desk user may see by person and team for
convenience; access itself is `Ticket.objects.visible_to(user)` (every ticket, for the desk)."""

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import Team
from tickets.forms import capped_counts

MINE, TEAMS, OPEN, CLOSED, ALL = "mine", "teams", "open", "closed", "all"
DEFAULT_QUEUE = MINE

LABELS = {
    MINE: _("My tickets"),
    TEAMS: _("My teams"),
    OPEN: _("All open"),
    CLOSED: _("Closed"),
    ALL: _("All tickets"),
}
HELP = {
    MINE: _("Open tickets I am responsible for."),
    TEAMS: _("Open tickets of my teams that nobody has taken yet."),
    OPEN: _("Every open ticket."),
    CLOSED: _("Every closed ticket."),
    ALL: _("Every ticket, open or closed."),
}
CHOICES = list(LABELS.items())


def conditions(user):
    """queue -> Q over Ticket. "My teams" are the teams `user` is a member of; the team ids are
    a subquery, so a queue (or all the counts) is still one query."""
    is_open = Q(closed_at__isnull=True)
    my_teams = Team.objects.filter(members=user).values("pk")
    return {
        MINE: is_open & Q(responsible_user=user),
        TEAMS: is_open & Q(responsible_user__isnull=True, responsible_team__in=my_teams),
        OPEN: is_open,
        CLOSED: Q(closed_at__isnull=False),
        ALL: Q(),
    }


def counts(queryset, user, extra=None):
    """The number of tickets in every queue, in one query over `queryset`. Each is counted up
    to the list cap (`tickets.forms.capped_counts`): "Closed" and "All tickets" grow with the
    years of history and show "more than 1,000" instead of a count of the whole table; the
    open queues are served by the partial indexes on open tickets. `extra` ({name: queryset})
    is counted in the same statement (a filtered list's own total)."""
    return capped_counts(
        {
            **{name: queryset.filter(condition) for name, condition in conditions(user).items()},
            **(extra or {}),
        }
    )
