"""portal.db.UTCTimestamptzLoader: PostgreSQL timestamps are read with the C parser where the
server sends them in UTC, and give exactly what Django's own loader gives, for every text."""

import datetime

import pytest
from django.db import connection

from tests.factories import TicketFactory

psycopg = pytest.importorskip("psycopg")

from django.db.backends.postgresql.psycopg_any import BaseTzLoader  # noqa: E402

from portal.db import UTCTimestamptzLoader  # noqa: E402

UTC = datetime.UTC


class DjangosLoader(BaseTzLoader):
    """What Django registers for a UTC connection (psycopg_any.register_tzloader)."""

    timezone = UTC


TEXTS = [
    b"2026-11-28 17:56:01.123456+00",
    b"2026-11-28 17:56:01.5+00",
    b"2026-11-28 17:56:01+00",
    b"0001-01-01 00:00:00+00",
    b"9999-12-31 23:59:59.999999+00",
    b"2024-02-29 12:00:00+00",
    # Not UTC: Django's path (another session time zone).
    b"2026-11-28 18:56:01.25+01",
    b"2026-11-28 23:26:01+05:30",
    b"2026-03-29 01:30:00-03:30",
]


@pytest.mark.parametrize("text", TEXTS, ids=lambda t: t.decode())
def test_the_loader_reads_what_djangos_reads(text):
    ours = UTCTimestamptzLoader(1184, None).load(text)
    theirs = DjangosLoader(1184, None).load(text)
    assert ours == theirs
    assert ours.tzinfo is theirs.tzinfo is UTC
    assert (ours.year, ours.hour, ours.microsecond) == (
        theirs.year,
        theirs.hour,
        theirs.microsecond,
    )


@pytest.mark.parametrize("text", [b"10000-01-01 00:00:00+00", b"0044-03-15 12:00:00+00 BC"])
def test_what_python_cannot_hold_fails_as_with_django(text):
    for loader in (UTCTimestamptzLoader, DjangosLoader):
        with pytest.raises(psycopg.DataError):
            loader(1184, None).load(text)


@pytest.mark.postgres_only
@pytest.mark.django_db
def test_connections_read_timestamps_with_it_and_values_round_trip():
    raw = connection.connection
    assert raw.adapters.get_loader(1184, psycopg.pq.Format.TEXT) is UTCTimestamptzLoader
    moments = [
        datetime.datetime(2026, 11, 28, 17, 56, 1, 123456, tzinfo=UTC),
        datetime.datetime(2026, 11, 28, 17, 56, 1, tzinfo=UTC),
        datetime.datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    ]
    ticket = TicketFactory()
    for moment in moments:
        type(ticket).objects.filter(pk=ticket.pk).update(updated_at=moment)
        read = type(ticket).objects.values_list("updated_at", flat=True).get(pk=ticket.pk)
        assert read == moment
        assert read.tzinfo is UTC
    # A cursor of the connection keeps it (Django re-registers only when the zone differs).
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s::timestamptz", [moments[0]])
        assert cursor.fetchone()[0] == moments[0]
