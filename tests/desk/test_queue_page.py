"""desk.views.QueuePage: a queue without filters or search, read through statements compiled
once per shape and page, shows the rows the ORM's ChosenFirstList shows, for every queue and
sort, for agents whose queues differ; deeper pages fall back to it."""

import datetime

import pytest
from django.utils import timezone

from desk import forms, queues
from desk.views import QueuePage, QueueView
from tickets.models import Ticket
from tickets.paging import ChosenFirstList

pytestmark = pytest.mark.django_db


@pytest.fixture
def filed(world, file_ticket):
    """24 tickets at two addresses, some open, some closed, some taken by the agent or the
    colleague, some waiting in the agent's team, with repeated update times (ties)."""
    start = timezone.now() - datetime.timedelta(days=10)
    for index in range(24):
        ticket = file_ticket(address=world.site if index % 2 else world.other)
        fields = {"updated_at": start + datetime.timedelta(hours=index % 7)}
        if index % 3 == 0:
            fields["responsible_user"] = world.agent
        elif index % 3 == 1:
            fields["responsible_user"] = world.colleague
        else:
            fields.update(responsible_user=None, responsible_team=world.support)
        if index % 5 == 0:
            fields["closed_at"] = fields["updated_at"]
        Ticket.objects.filter(pk=ticket.pk).update(**fields)
    return world


def _queryset(user, queue, sort):
    listed = Ticket.objects.visible_to(user).filter(queues.conditions(user)[queue])
    return listed.select_related("address").only(*QueueView.row_fields).order_by(*forms.SORTS[sort])


@pytest.mark.parametrize("queue", [name for name, _label in queues.CHOICES])
@pytest.mark.parametrize("sort", ["-updated_at", "number", "subject", "-status", "priority"])
def test_every_queue_and_sort_pages_as_the_orm_does(filed, monkeypatch, queue, sort):
    for user in (filed.agent, filed.colleague):
        queryset = _queryset(user, queue, sort)
        plain = ChosenFirstList(queryset)
        page = QueuePage(plain, queue=queue, sort=sort, fields=QueueView.row_fields, user=user)
        for start, stop in [(0, 5), (5, 10), (3, 30)]:
            rows = page[start:stop]
            assert [t.pk for t in rows] == [t.pk for t in plain[start:stop]], (user, start)
            assert all(t.address.pk == t.address_id for t in rows)
        monkeypatch.setattr(QueuePage, "PRECOMPILED_ROWS", 5)  # deeper: ChosenFirstList's
        assert [t.pk for t in page[5:10]] == [t.pk for t in plain[5:10]]
        monkeypatch.undo()


def test_the_users_own_queues_are_their_own(filed):
    mine = _queryset(filed.agent, queues.MINE, "-updated_at")
    page = QueuePage(
        ChosenFirstList(mine),
        queue=queues.MINE,
        sort="-updated_at",
        fields=QueueView.row_fields,
        user=filed.agent,
    )
    rows = page[0:50]
    assert rows and all(t.responsible_user_id == filed.agent.pk for t in rows)
    theirs = QueuePage(
        ChosenFirstList(_queryset(filed.colleague, queues.MINE, "-updated_at")),
        queue=queues.MINE,
        sort="-updated_at",
        fields=QueueView.row_fields,
        user=filed.colleague,
    )
    assert {t.pk for t in theirs[0:50]}.isdisjoint({t.pk for t in rows})
