"""Race-free ticket numbers.

On PostgreSQL the numbers come from a database sequence (`nextval` never hands out a value
twice and never blocks). Elsewhere (SQLite) one counter row is incremented inside the caller's
transaction; SQLite serialises writers, so two transactions cannot read the same value.
"""

from django.db import connections, transaction

SEQUENCE_NAME = "tickets_ticket_number_seq"
FIRST_NUMBER = 100001


def next_ticket_numbers(count=1, *, using="default"):
    """Reserve `count` consecutive-or-not, never reused ticket numbers."""
    if count < 1:
        return []
    connection = connections[using]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT nextval(%s) FROM generate_series(1, %s)", [SEQUENCE_NAME, count])
            return [row[0] for row in cursor.fetchall()]

    from django.db.models import F

    from .models import TicketNumberCounter

    with transaction.atomic(using=using):
        counter, _ = TicketNumberCounter.objects.using(using).get_or_create(
            pk=1, defaults={"last_number": FIRST_NUMBER - 1}
        )
        TicketNumberCounter.objects.using(using).filter(pk=1).update(
            last_number=F("last_number") + count
        )
        counter.refresh_from_db(using=using)
        last = counter.last_number
    return list(range(last - count + 1, last + 1))
