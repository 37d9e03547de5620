"""Full-text search indexes for the desk search, on PostgreSQL only.

GIN indexes on exactly the document expressions `desk.search.documents()` queries
(`to_tsvector('simple', COALESCE(…))`), built by Django from the same `SearchVector`s so the
expressions match character for character. Other databases (SQLite) search by substring and
get no index: the operation does nothing there. The indexes are not part of any model's state
(SQLite cannot hold them), so `makemigrations` never sees them.
"""

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector
from django.db import migrations

CONFIG = "simple"

INDEXES = [
    (
        "tickets",
        "ticket",
        GinIndex(SearchVector("subject", config=CONFIG), name="desk_ticket_subject_fts"),
    ),
    (
        "tickets",
        "message",
        GinIndex(SearchVector("body", config=CONFIG), name="desk_message_body_fts"),
    ),
    (
        "addresses",
        "address",
        GinIndex(SearchVector("number", "name", config=CONFIG), name="desk_address_fts"),
    ),
    (
        "addresses",
        "machine",
        GinIndex(SearchVector("number", config=CONFIG), name="desk_machine_number_fts"),
    ),
]


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for app_label, model_name, index in INDEXES:
        schema_editor.add_index(apps.get_model(app_label, model_name), index)


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for app_label, model_name, index in INDEXES:
        schema_editor.remove_index(apps.get_model(app_label, model_name), index)


class Migration(migrations.Migration):
    dependencies = [
        ("desk", "0001_saved_filter"),
        ("tickets", "0004_initial_statuses_and_types"),
        ("addresses", "0001_initial"),
    ]

    operations = [migrations.RunPython(create_indexes, drop_indexes, elidable=False)]
