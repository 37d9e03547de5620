"""`Ticket.awaiting_customer` and the dashboard's index on it, filled for existing tickets.

The flag is derived from the messages (see `tickets.models.awaiting_customer_condition`); the
backfill states the same definition with the historical models, as a migration must not
depend on today's model code.
"""

from django.conf import settings
from django.db import migrations, models
from django.db.models import F, OuterRef, Subquery
from django.db.models.functions import Coalesce


def backfill_awaiting_customer(apps, schema_editor):
    """Set the flag on every ticket whose latest public message (not an internal note; latest
    by `created_at`, then primary key) was written by an internal user. Every ticket starts
    False (the column's default), so one set-based UPDATE writes only the tickets that wait;
    running it again changes nothing."""
    Ticket = apps.get_model("tickets", "Ticket")
    Message = apps.get_model("tickets", "Message")
    db = schema_editor.connection.alias
    latest_public = (
        Message.objects.using(db)
        .filter(ticket=OuterRef("pk"))
        .exclude(kind="internal_note")
        .order_by("-created_at", "-pk")
    )
    by_staff = latest_public.values(by_staff=~F("author__is_external"))[:1]
    awaiting = Coalesce(Subquery(by_staff), False, output_field=models.BooleanField())
    Ticket.objects.using(db).filter(awaiting_customer=False).filter(awaiting).update(
        awaiting_customer=True
    )
    if schema_editor.connection.vendor == "postgresql":
        # Until autovacuum samples the new column the planner guesses half the tickets wait and
        # may walk the index of all open tickets instead of the new one; a column sample is
        # cheap (0.15 s at 1,000,000 tickets).
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(
                f"ANALYZE {schema_editor.quote_name(Ticket._meta.db_table)} (awaiting_customer)"
            )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_access_transparency"),
        ("addresses", "0001_initial"),
        ("tickets", "0006_performance_indexes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="ticket",
            name="awaiting_customer",
            field=models.BooleanField(
                default=False,
                editable=False,
                help_text=(
                    "The latest message customers can see (the description or a reply, not an "
                    "internal note) was written by an internal user. Kept up to date by the "
                    "messages."
                ),
                verbose_name="waiting for the customer",
            ),
        ),
        # Filled before the index is built, so the index is written once.
        migrations.RunPython(backfill_awaiting_customer, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="ticket",
            index=models.Index(
                condition=models.Q(("awaiting_customer", True), ("closed_at__isnull", True)),
                fields=["address", "-updated_at"],
                name="ticket_awaiting_addr_idx",
            ),
        ),
    ]
