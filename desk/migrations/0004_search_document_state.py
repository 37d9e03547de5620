"""The search documents also carry their ticket's `updated_at` and whether it is open (PostgreSQL).

A customer's searched ticket list (`tickets.paging.SearchedList`) counts its open and closed
matches and orders a page of them by recency. With only the ticket's id on the document, every
match had to be joined back to the tickets for that (about 12 of 20 ms for a word in 1,600 of
a customer's documents at 1,000,000 tickets); with the two columns on the document, the counts
and the page come from the matching documents alone.

What changes, beside the two columns (`updated_at`, `open` = `closed_at IS NULL`):

* `desk_search_refresh` and `desk_search_rebuild` write them with the rest of the document;
* the trigger on ticket updates, which recomputed a document only when the subject, address or
  machine changed, now also copies a changed `updated_at` or open/closed state onto the
  document (an UPDATE of those two columns only: neither is indexed, so PostgreSQL can keep the
  new row version on the same page without touching the indexes; the table leaves 15 % of each
  page free for it);
* the existing documents are rebuilt once (about a minute at 1,000,000 tickets: the indexes are
  dropped first and built again over the full table). The table is locked meanwhile, and every
  ticket or message write waits for it (its triggers write the documents): migrate when the
  portal is quiet.

The columns only order and count what the user's scope allows: the statement that reads them
takes the addresses from `access.policy.ticket_address_scope`, and the page's rows are read
through the scoped queryset again. Other databases (SQLite) have no documents: nothing happens
there.
"""

# The statements below are assembled from this file's constants only (no outside value).
# ruff: noqa: S608

import importlib

from django.db import migrations

INITIAL = importlib.import_module("desk.migrations.0003_search_documents")

# The rows of the documents of the tickets in `wanted` (as 0003's, with the two new columns).
DOCUMENT_ROWS = """
    SELECT t.id, t.address_id, t.machine_id,
           desk_search_vector(concat_ws(' ', t.subject, m.public_text)),
           desk_search_vector(m.internal_text),
           t.updated_at, t.closed_at IS NULL
    FROM tickets_ticket AS t
    LEFT JOIN (
        SELECT m.ticket_id,
               string_agg(m.body, ' ' ORDER BY m.created_at, m.id)
                   FILTER (WHERE m.kind <> 'internal_note') AS public_text,
               string_agg(m.body, ' ' ORDER BY m.created_at, m.id)
                   FILTER (WHERE m.kind = 'internal_note') AS internal_text
        FROM tickets_message AS m
        {only_messages}
        GROUP BY m.ticket_id
    ) AS m ON m.ticket_id = t.id
    {only_tickets}
"""
COLUMNS = "ticket_id, address_id, machine_id, public_document, internal_document, updated_at, open"
WANTED = "WHERE {column} IN (SELECT id FROM unnest(ticket_ids) AS wanted(id))"
REFRESHED_ROWS = DOCUMENT_ROWS.format(
    only_messages=WANTED.format(column="m.ticket_id"), only_tickets=WANTED.format(column="t.id")
)

FORWARD = [
    "DROP INDEX desk_search_public_idx",
    "DROP INDEX desk_search_internal_idx",
    """
    ALTER TABLE desk_search_document
    ADD COLUMN updated_at timestamptz,
    ADD COLUMN open boolean,
    SET (fillfactor = 85)
    """,
    f"""
    CREATE OR REPLACE FUNCTION desk_search_refresh(ticket_ids bigint[]) RETURNS void
    LANGUAGE plpgsql AS $$
    BEGIN
        -- One refresh of a ticket at a time: a concurrent writer's refresh computed from an
        -- older snapshot must not overwrite this one (a note hidden meanwhile would come back
        -- into the public document). After the wait, the next statement sees what it committed.
        PERFORM 1 FROM tickets_ticket WHERE id = ANY (ticket_ids) ORDER BY id FOR NO KEY UPDATE;
        DELETE FROM desk_search_document AS d
        WHERE d.ticket_id = ANY (ticket_ids)
          AND NOT EXISTS (SELECT FROM tickets_ticket AS t WHERE t.id = d.ticket_id);
        INSERT INTO desk_search_document ({COLUMNS})
        {REFRESHED_ROWS}
        ON CONFLICT (ticket_id) DO UPDATE
        SET address_id = excluded.address_id,
            machine_id = excluded.machine_id,
            public_document = excluded.public_document,
            internal_document = excluded.internal_document,
            updated_at = excluded.updated_at,
            open = excluded.open;
    END
    $$
    """,
    f"""
    CREATE OR REPLACE FUNCTION desk_search_rebuild() RETURNS void
    LANGUAGE plpgsql AS $$
    BEGIN
        TRUNCATE desk_search_document;
        INSERT INTO desk_search_document ({COLUMNS})
        {DOCUMENT_ROWS.format(only_messages="", only_tickets="")};
    END
    $$
    """,
    # As in 0003, the comparisons are in the function (not a WHEN clause or a column list, which
    # would keep those columns' types from ever changing). A reply saves its ticket's
    # `updated_at`: that is now the cheap second branch, one row's two unindexed columns.
    """
    CREATE OR REPLACE FUNCTION desk_search_ticket_updated() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF OLD.subject IS DISTINCT FROM NEW.subject
           OR OLD.address_id IS DISTINCT FROM NEW.address_id
           OR OLD.machine_id IS DISTINCT FROM NEW.machine_id THEN
            PERFORM desk_search_refresh(ARRAY[NEW.id]);
        ELSIF OLD.updated_at IS DISTINCT FROM NEW.updated_at
              OR (OLD.closed_at IS NULL) IS DISTINCT FROM (NEW.closed_at IS NULL) THEN
            UPDATE desk_search_document
            SET updated_at = NEW.updated_at, open = NEW.closed_at IS NULL
            WHERE ticket_id = NEW.id;
        END IF;
        RETURN NULL;
    END
    $$
    """,
    "SELECT desk_search_rebuild()",
    """
    ALTER TABLE desk_search_document
    ALTER COLUMN updated_at SET NOT NULL,
    ALTER COLUMN open SET NOT NULL
    """,
    """
    CREATE INDEX desk_search_public_idx ON desk_search_document
    USING gin ((ARRAY[address_id]), (ARRAY[machine_id]), public_document)
    """,
    "CREATE INDEX desk_search_internal_idx ON desk_search_document USING gin (internal_document)",
    "ANALYZE desk_search_document",
]

# 0003's functions again, then the columns dropped (their indexes stay as they are).
RESTORED = ("desk_search_refresh(", "desk_search_rebuild(", "desk_search_ticket_updated(")
BACKWARD = [
    *(
        statement.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1)
        for statement in INITIAL.FORWARD
        if any(f"CREATE FUNCTION {name}" in statement for name in RESTORED)
    ),
    """
    ALTER TABLE desk_search_document
    DROP COLUMN updated_at,
    DROP COLUMN open,
    RESET (fillfactor)
    """,
]


def add_state(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for statement in FORWARD:
        schema_editor.execute(statement, params=None)


def drop_state(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for statement in BACKWARD:
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [("desk", "0003_search_documents")]

    operations = [migrations.RunPython(add_state, drop_state, elidable=False)]
