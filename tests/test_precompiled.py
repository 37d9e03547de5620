"""portal.db.Precompiled: a statement compiled once per shape reads, for each call's values,
exactly what the ORM reads for them; a value that would be fixed into the SQL is refused."""

import pytest
from django.db.models import F

from access import policy
from portal.db import Precompiled, precompiled
from tests.factories import AddressFactory, ExternalUserFactory, TicketFactory
from tickets.models import Ticket
from tickets.paging import chosen_first_query

pytestmark = pytest.mark.django_db


def _tickets_of(scope, user_id):
    tickets = policy.tickets_in_scope(Ticket.objects.all(), scope).filter(created_by_id=user_id)
    return chosen_first_query(
        tickets.select_related("address", "status").order_by("-updated_at", "-pk"), 5
    )


def _ids(rows):
    return [row.pk for row in rows]


@pytest.fixture
def sites():
    return AddressFactory.create_batch(4)


def test_each_call_reads_its_own_values_with_one_compiled_statement(
    sites, django_assert_num_queries
):
    statement = Precompiled(_tickets_of)
    first = ExternalUserFactory(roles=["Portal user"], address=sites[0], read=sites[:2])
    second = ExternalUserFactory(roles=["Portal user"], address=sites[2], read=sites[2:])
    for user in (first, second):
        for site in policy.ticket_address_scope(user):
            TicketFactory.create_batch(3, address_id=site, created_by=user)
    TicketFactory(address=sites[0], created_by=second)  # the second user's, outside its scope
    compiled = []
    original = statement._compile
    statement._compile = lambda *args: compiled.append(args) or original(*args)
    for user in (first, second, first):
        scope = policy.ticket_address_scope(user)
        with django_assert_num_queries(1):
            rows = statement.rows(scope, user.pk)
        expected = list(_tickets_of(scope, user.pk))
        assert _ids(rows) == _ids(expected) and len(rows) == 5
        assert all(row.created_by_id == user.pk and row.address_id in scope for row in rows)
        assert rows[0].address.pk == rows[0].address_id  # select_related filled in
    assert len(compiled) == 1  # both scopes hold two addresses: one shape


def test_none_empty_and_other_sizes_are_shapes_of_their_own(sites):
    statement = Precompiled(_tickets_of)
    user = ExternalUserFactory(address=sites[0], read=sites[:3])
    for site in sites:
        TicketFactory(address=site, created_by=user)
    every = {t.pk for t in Ticket.objects.filter(created_by=user)}
    assert {t.pk for t in statement.rows(None, user.pk)} == every
    assert statement.rows(frozenset(), user.pk) == []
    assert statement.sql(frozenset(), user.pk) is None
    three = statement.rows(frozenset(s.pk for s in sites[:3]), user.pk)
    assert {t.address_id for t in three} == {s.pk for s in sites[:3]}
    one = statement.rows(frozenset([sites[3].pk]), user.pk)
    assert [t.address_id for t in one] == [sites[3].pk]


def test_sql_gives_the_statement_with_the_calls_values(sites):
    statement = Precompiled(lambda ids: Ticket.objects.filter(address_id__in=ids).values("pk"))
    statement.sql({sites[0].pk, sites[1].pk})
    sql, params = statement.sql({sites[2].pk, sites[3].pk})
    assert sorted(params) == sorted([sites[2].pk, sites[3].pk])
    assert "IN" in sql


def test_a_value_the_statement_does_not_take_as_a_parameter_is_refused():
    limit = Precompiled(lambda count: Ticket.objects.order_by("pk")[: 5 + (count > 0)])
    with pytest.raises(ValueError, match="parameter"):
        limit.rows(3)
    annotated = Precompiled(lambda user_id: Ticket.objects.annotate(u=F("pk")).filter(pk=1))
    with pytest.raises(ValueError, match="parameter"):
        annotated.rows(3)
    with pytest.raises(TypeError):
        Precompiled(lambda name: Ticket.objects.filter(subject=name)).rows("x")


def test_constants_make_statements_of_their_own(sites):
    user = ExternalUserFactory(address=sites[0], read=sites[:1])
    TicketFactory.create_batch(7, address=sites[0], created_by=user)

    def newest(count, user_id):
        return Ticket.objects.filter(created_by_id=user_id).order_by("-pk")[:count]

    assert precompiled(newest, 2) is precompiled(newest, 2)
    assert len(precompiled(newest, 2).rows(user.pk)) == 2
    assert len(precompiled(newest, 6).rows(user.pk)) == 6


def test_statements_are_compiled_anew_when_permissions_change(sites):
    """A statement may hold ids read when it was compiled (the desk permissions'): a new or
    changed permission, a migration or a flush makes every statement compile again."""
    from django.contrib.auth.models import Permission
    from django.contrib.contenttypes.models import ContentType

    statement = Precompiled(lambda ids: Ticket.objects.filter(address_id__in=ids))
    statement.rows({sites[0].pk})
    assert len(statement._by_connection) == 1
    Permission.objects.create(
        codename="probe_precompiled",
        name="probe",
        content_type=ContentType.objects.get_for_model(Ticket),
    )
    assert len(statement._by_connection) == 0


def test_the_statements_kept_are_bounded(sites, monkeypatch):
    """Past `MAX_COMPILED` statements every one is compiled anew when next used; what each
    call reads does not change."""
    from portal import db

    monkeypatch.setattr(db, "MAX_COMPILED", 3)
    db.forget_precompiled()
    TicketFactory(address=sites[0])

    def at(count, ids):
        return Ticket.objects.filter(address_id__in=ids).order_by("pk")[:count]

    for count in range(1, 8):
        rows = precompiled(at, count).rows({sites[0].pk, sites[1].pk})
        assert [t.address_id for t in rows] == [sites[0].pk]
        assert db._KEPT["count"] <= 3
    kept = sum(len(d) for p in db._EVERY_PRECOMPILED for d in p._by_connection.values())
    assert kept <= 3
