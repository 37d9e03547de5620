"""Load the people and teams shown beside tickets without joining them into the ticket query.

PostgreSQL plans a query in time that roughly doubles with every joined table: at 1,000,000
tickets, a ticket with eight `select_related` relations took 6–8 ms to *plan* and 0.3 ms to run
(docs/performance.md). Pages therefore join the few relations a ticket cannot be shown without
(status, type, address, machine, contact person) and fetch the people and the team here: one
query for every user the tickets name (creator and responsible user together) and one for
their teams, each a primary-key lookup that plans in a fraction of a millisecond.
"""

from django.contrib.auth import get_user_model

PEOPLE = ("created_by", "responsible_user")


def load_people(tickets, *, fields=PEOPLE, team=True, teams=None, users=None):
    """Fill `fields` (user foreign keys) and, with `team`, `responsible_team` of `tickets` (a
    list of Ticket objects; an empty one costs nothing). At most two queries; none for the
    teams or users the caller already holds (`teams`, `users`: pk -> object)."""
    from accounts.models import Team

    tickets = [ticket for ticket in tickets if ticket is not None]
    user_ids = {getattr(t, f"{field}_id") for t in tickets for field in fields} - {None}
    users = dict(users or {})
    if user_ids - users.keys():
        users.update(get_user_model().objects.in_bulk(user_ids - users.keys()))
    if team and teams is None:
        team_ids = {t.responsible_team_id for t in tickets} - {None}
        teams = Team.objects.in_bulk(team_ids) if team_ids else {}
    for field in fields:
        fill(tickets, field, users)
    if team:
        fill(tickets, "responsible_team", teams)
    return tickets


def fill(objects, field, loaded):
    """Set the foreign key `field` of each of `objects` from `loaded` (pk -> object), the rows
    a page has read anyway; a key not among them is left to load when used."""
    for obj in objects:
        pk = getattr(obj, f"{field}_id")
        if pk is None or pk in loaded:  # a foreign key always finds its row; never clear an id
            setattr(obj, field, loaded.get(pk))
