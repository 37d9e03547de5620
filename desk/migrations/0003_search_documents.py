"""One search document per ticket, kept by the database, on PostgreSQL only.

The table `desk_search_document` holds, for every ticket, `to_tsvector('simple', …)` of

* `public_document`: the subject and every message external users may read (descriptions and
  replies: `policy.messages_visible` hides only internal notes from them),
* `internal_document`: the internal notes (staff only),

and the ticket's `address_id` and `machine_id`. `tickets.search` (portal and desk) matches a
ticket through its document instead of computing a vector per message: a customer's search is
one GIN scan keyed by the customer's addresses *and* the words (`GIN ((ARRAY[address_id]),
(ARRAY[machine_id]), public_document)`; the desk's address and machine branches use the other
two columns), and a search within a small queue reads one stored document per ticket. The
document is only a search index: every result is still filtered by the caller's scope
(`visible_to(user)`), so a stale document could at worst miss a ticket, never show one the user
may not see.

Triggers keep the documents in the same transaction as every write, whatever writes (services,
admin, `bulk_create`, COPY, raw SQL); a refresh holds its tickets' row locks, so concurrent
writers of one ticket refresh its document one after the other:

* tickets inserted, or their subject, address or machine changed: their documents are
  recomputed;
* messages inserted, deleted or changed (body, kind, ticket): their tickets' documents are
  recomputed (statement-level triggers with transition tables: one pass per statement, so a
  bulk load recomputes each ticket once per statement, not once per message);
* tickets deleted: their documents go; TRUNCATE (Django's flush) empties the table.

Each document covers the first 100,000 characters of its text (a `tsvector` may not exceed
1 MB; an ordinary ticket has a few hundred characters). `desk_search_rebuild()` recomputes
every document (the backfill below; a bulk loader that disabled the triggers calls it after).

The functions name the columns they read (tickets: subject, address, machine; messages: ticket,
kind, body, created_at): a migration that renames or drops one of them must replace the
functions too. The per-message and per-subject GIN indexes of 0002 served the old search and
are dropped (the reverse operation re-creates them). Other databases (SQLite) search by substring and get none
of this: the operation does nothing there, and no model's state knows the table.
"""

# The statements below are assembled from this file's constants only (no outside value).
# ruff: noqa: S608

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector
from django.db import migrations

CONFIG = "simple"

# The indexes of 0002 that the documents replace (same definitions, for the reverse).
REPLACED_INDEXES = [
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
]


# The rows of the documents of the tickets in `wanted` (a relation with a column `id`; all tickets
# without it), set-based: a bulk refresh reads the messages once (an index range per ticket, or
# one scan when a bulk loader dropped the index). Public: everything but internal notes.
def document_rows(wanted=None):
    only = f"WHERE {{column}} IN (SELECT id FROM {wanted})" if wanted else ""
    return f"""
    SELECT t.id, t.address_id, t.machine_id,
           desk_search_vector(concat_ws(' ', t.subject, m.public_text)),
           desk_search_vector(m.internal_text)
    FROM tickets_ticket AS t
    LEFT JOIN (
        SELECT m.ticket_id,
               string_agg(m.body, ' ' ORDER BY m.created_at, m.id)
                   FILTER (WHERE m.kind <> 'internal_note') AS public_text,
               string_agg(m.body, ' ' ORDER BY m.created_at, m.id)
                   FILTER (WHERE m.kind = 'internal_note') AS internal_text
        FROM tickets_message AS m
        {only.format(column="m.ticket_id")}
        GROUP BY m.ticket_id
    ) AS m ON m.ticket_id = t.id
    {only.format(column="t.id")}
    """


FORWARD = [
    """
    CREATE TABLE desk_search_document (
        ticket_id bigint PRIMARY KEY,
        address_id bigint NOT NULL,
        machine_id bigint,
        public_document tsvector NOT NULL,
        internal_document tsvector NOT NULL
    )
    """,
    # A search reads a customer's few thousand documents at most: a parallel scan (the table is
    # large enough to tempt the planner) costs more to start than it saves, on a small server.
    "ALTER TABLE desk_search_document SET (parallel_workers = 0)",
    """
    COMMENT ON TABLE desk_search_document IS
    'Search documents of tickets, kept by triggers (desk/migrations/0003_search_documents.py)'
    """,
    """
    CREATE FUNCTION desk_search_vector(body text) RETURNS tsvector
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT to_tsvector('simple'::regconfig, left(coalesce(body, ''), 100000)) $$
    """,
    f"""
    CREATE FUNCTION desk_search_refresh(ticket_ids bigint[]) RETURNS void
    LANGUAGE plpgsql AS $$
    BEGIN
        -- One refresh of a ticket at a time: a concurrent writer's refresh computed from an
        -- older snapshot must not overwrite this one (a note hidden meanwhile would come back
        -- into the public document). After the wait, the next statement sees what it committed.
        PERFORM 1 FROM tickets_ticket WHERE id = ANY (ticket_ids) ORDER BY id FOR NO KEY UPDATE;
        DELETE FROM desk_search_document AS d
        WHERE d.ticket_id = ANY (ticket_ids)
          AND NOT EXISTS (SELECT FROM tickets_ticket AS t WHERE t.id = d.ticket_id);
        INSERT INTO desk_search_document
            (ticket_id, address_id, machine_id, public_document, internal_document)
        {document_rows("unnest(ticket_ids) AS wanted(id)")}
        ON CONFLICT (ticket_id) DO UPDATE
        SET address_id = excluded.address_id,
            machine_id = excluded.machine_id,
            public_document = excluded.public_document,
            internal_document = excluded.internal_document;
    END
    $$
    """,
    f"""
    CREATE FUNCTION desk_search_rebuild() RETURNS void
    LANGUAGE plpgsql AS $$
    BEGIN
        TRUNCATE desk_search_document;
        INSERT INTO desk_search_document
            (ticket_id, address_id, machine_id, public_document, internal_document)
        {document_rows()};
    END
    $$
    """,
    # Tickets.
    """
    CREATE FUNCTION desk_search_tickets_inserted() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM desk_search_refresh(ARRAY(SELECT id FROM inserted));
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE TRIGGER desk_search_tickets_inserted AFTER INSERT ON tickets_ticket
    REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION desk_search_tickets_inserted()
    """,
    # Every reply saves its ticket (`updated_at`): the comparison keeps those cheap. It is in the
    # function, not in a WHEN clause or a column list, which would make PostgreSQL refuse any
    # later change of those columns' types (a longer subject, say).
    """
    CREATE FUNCTION desk_search_ticket_updated() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF OLD.subject IS DISTINCT FROM NEW.subject
           OR OLD.address_id IS DISTINCT FROM NEW.address_id
           OR OLD.machine_id IS DISTINCT FROM NEW.machine_id THEN
            PERFORM desk_search_refresh(ARRAY[NEW.id]);
        END IF;
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE TRIGGER desk_search_ticket_updated AFTER UPDATE ON tickets_ticket
    FOR EACH ROW EXECUTE FUNCTION desk_search_ticket_updated()
    """,
    """
    CREATE FUNCTION desk_search_tickets_deleted() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        DELETE FROM desk_search_document WHERE ticket_id IN (SELECT id FROM deleted);
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE TRIGGER desk_search_tickets_deleted AFTER DELETE ON tickets_ticket
    REFERENCING OLD TABLE AS deleted
    FOR EACH STATEMENT EXECUTE FUNCTION desk_search_tickets_deleted()
    """,
    """
    CREATE FUNCTION desk_search_tickets_truncated() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        DELETE FROM desk_search_document;
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE TRIGGER desk_search_tickets_truncated AFTER TRUNCATE ON tickets_ticket
    FOR EACH STATEMENT EXECUTE FUNCTION desk_search_tickets_truncated()
    """,
    # Messages.
    """
    CREATE FUNCTION desk_search_messages_added_or_deleted() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM desk_search_refresh(ARRAY(SELECT DISTINCT ticket_id FROM changed));
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE TRIGGER desk_search_messages_inserted AFTER INSERT ON tickets_message
    REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION desk_search_messages_added_or_deleted()
    """,
    """
    CREATE TRIGGER desk_search_messages_deleted AFTER DELETE ON tickets_message
    REFERENCING OLD TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION desk_search_messages_added_or_deleted()
    """,
    """
    CREATE FUNCTION desk_search_messages_updated() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM desk_search_refresh(ARRAY(
            SELECT o.ticket_id FROM before AS o JOIN after AS n ON n.id = o.id
            WHERE (o.ticket_id, o.kind, o.body) IS DISTINCT FROM (n.ticket_id, n.kind, n.body)
            UNION
            SELECT n.ticket_id FROM before AS o JOIN after AS n ON n.id = o.id
            WHERE (o.ticket_id, o.kind, o.body) IS DISTINCT FROM (n.ticket_id, n.kind, n.body)
        ));
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE TRIGGER desk_search_messages_updated AFTER UPDATE ON tickets_message
    REFERENCING OLD TABLE AS before NEW TABLE AS after
    FOR EACH STATEMENT EXECUTE FUNCTION desk_search_messages_updated()
    """,
    """
    CREATE FUNCTION desk_search_messages_truncated() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM desk_search_rebuild();
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE TRIGGER desk_search_messages_truncated AFTER TRUNCATE ON tickets_message
    FOR EACH STATEMENT EXECUTE FUNCTION desk_search_messages_truncated()
    """,
    # The existing tickets (the triggers above already hold the tables' locks, so no write can
    # slip between this and the commit), then the indexes, built once over the full table.
    "SELECT desk_search_rebuild()",
    """
    CREATE INDEX desk_search_public_idx ON desk_search_document
    USING gin ((ARRAY[address_id]), (ARRAY[machine_id]), public_document)
    """,
    "CREATE INDEX desk_search_internal_idx ON desk_search_document USING gin (internal_document)",
    # The planner's estimate of a word's matches comes from these statistics (the desk chooses
    # its plan from it): with 10,000 most common words instead of 1,000, a rare word is
    # estimated as rare.
    """
    ALTER TABLE desk_search_document
    ALTER COLUMN public_document SET STATISTICS 1000,
    ALTER COLUMN internal_document SET STATISTICS 1000
    """,
    "ANALYZE desk_search_document",
]

BACKWARD = [
    "DROP TRIGGER desk_search_messages_truncated ON tickets_message",
    "DROP TRIGGER desk_search_messages_updated ON tickets_message",
    "DROP TRIGGER desk_search_messages_deleted ON tickets_message",
    "DROP TRIGGER desk_search_messages_inserted ON tickets_message",
    "DROP TRIGGER desk_search_tickets_truncated ON tickets_ticket",
    "DROP TRIGGER desk_search_tickets_deleted ON tickets_ticket",
    "DROP TRIGGER desk_search_ticket_updated ON tickets_ticket",
    "DROP TRIGGER desk_search_tickets_inserted ON tickets_ticket",
    "DROP FUNCTION desk_search_messages_truncated()",
    "DROP FUNCTION desk_search_messages_updated()",
    "DROP FUNCTION desk_search_messages_added_or_deleted()",
    "DROP FUNCTION desk_search_tickets_truncated()",
    "DROP FUNCTION desk_search_tickets_deleted()",
    "DROP FUNCTION desk_search_ticket_updated()",
    "DROP FUNCTION desk_search_tickets_inserted()",
    "DROP FUNCTION desk_search_rebuild()",
    "DROP FUNCTION desk_search_refresh(bigint[])",
    "DROP FUNCTION desk_search_vector(text)",
    "DROP TABLE desk_search_document",
]


def create_documents(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for statement in FORWARD:
        schema_editor.execute(statement, params=None)
    for app_label, model_name, index in REPLACED_INDEXES:
        schema_editor.remove_index(apps.get_model(app_label, model_name), index)


def drop_documents(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for app_label, model_name, index in REPLACED_INDEXES:
        schema_editor.add_index(apps.get_model(app_label, model_name), index)
    for statement in BACKWARD:
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("desk", "0002_search_indexes"),
        ("tickets", "0006_performance_indexes"),
    ]

    operations = [migrations.RunPython(create_documents, drop_documents, elidable=False)]
