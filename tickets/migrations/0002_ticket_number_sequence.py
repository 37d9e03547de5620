"""On PostgreSQL, ticket numbers come from a sequence (see tickets/numbering.py)."""

from django.db import migrations

SEQUENCE = "tickets_ticket_number_seq"
FIRST_NUMBER = 100001


def create_sequence(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"CREATE SEQUENCE IF NOT EXISTS {SEQUENCE} START {FIRST_NUMBER}")


def drop_sequence(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP SEQUENCE IF EXISTS {SEQUENCE}")


class Migration(migrations.Migration):
    dependencies = [("tickets", "0001_initial")]

    operations = [migrations.RunPython(create_sequence, drop_sequence)]
