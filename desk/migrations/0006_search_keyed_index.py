"""An index of the public documents keyed by address and word together (PostgreSQL).

A customer's search (`tickets.search.customer_documents`) read the customer's matching
documents through `desk_search_public_idx`, a GIN index over `ARRAY[address_id]` and the words.
GIN keeps the two columns' keys apart: it intersects the customer's addresses with the posting
list of the word across *every* customer. That list grows with the whole history (about 120,000
documents hold "hydraulic" at 1,000,000 tickets), so the search slowed as other customers'
tickets were added: 4.8 ms of the index scan for the benchmark customer's 1,608 matches.

Here each word of a public document is also indexed as "<address id>:<word>"
(`desk_search_keyed(address_id, public_document)`, an expression index, so nothing is stored
twice in the table and the triggers of 0003/0004 need no change). A search over the addresses A
asks for the same words keyed by each address of A (`desk_search_keyed_query(A, query)`): the
posting lists read are the customer's own, 0.5 ms for the same 1,608 matches, whatever the
size of the history.

The keyed query only narrows, and may find more than the query does: it is built from the
query's indexable part (`querytree`: negations dropped) with phrases loosened to "and" (the
keyed words carry no positions). The statement applies the query itself to every document it
reads. A query with no indexable part (only negations, no words: `desk_search_indexable`) gets
NULL, and the statement then reads the customer's documents by `desk_search_public_idx` as
before. Words longer than
2,000 bytes (a search text is at most 200 characters) are left out of the keyed index, so that
the prefix never makes a word too long for a tsvector.

Building the index reads every document once: about a minute at 1,000,000 tickets (the table
is locked for writes meanwhile, and every ticket or message write waits for it: migrate when
the portal is quiet). Other databases (SQLite) have no documents: nothing happens there.
"""

# The statements below are this file's constants only (no outside value).
# ruff: noqa: S608

from django.db import migrations

FORWARD = [
    """
    CREATE FUNCTION desk_search_keyed(address bigint, document tsvector) RETURNS tsvector
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
        SELECT array_to_tsvector(ARRAY(
            SELECT address::text || ':' || word.lexeme
            FROM unnest(tsvector_to_array(document)) AS word(lexeme)
            WHERE octet_length(word.lexeme) <= 2000
        ))
    $$
    """,
    # Whether a query has an indexable part (words, not only negations): inlined by the planner.
    """
    CREATE FUNCTION desk_search_indexable(query tsquery) RETURNS boolean
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
        SELECT querytree(query) NOT IN ('', 'T')
    $$
    """,
    # The query's text form quotes every word ('…', quotes and backslashes doubled) and writes
    # phrases as <-> or <N>: the tokens are a quoted word, a phrase operator, or anything else
    # (operators, parentheses, spaces), kept as it is.
    """
    CREATE FUNCTION desk_search_keyed_query(addresses bigint[], query tsquery) RETURNS tsquery
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
        SELECT string_agg('(' || keyed || ')', ' | ')::tsquery
        FROM (
            SELECT string_agg(
                CASE
                    WHEN token.part[1] LIKE '''%' THEN
                        '''' || address.id::text || ':' || substr(token.part[1], 2)
                    WHEN token.part[1] LIKE '<%' THEN ' & '
                    ELSE token.part[1]
                END, '' ORDER BY token.n) AS keyed
            FROM unnest(addresses) AS address(id),
                 regexp_matches(querytree(query), '''(?:[^'']|'''')*''|<[0-9-]+>|[^''<]+', 'g')
                     WITH ORDINALITY AS token(part, n)
            WHERE desk_search_indexable(query)
            GROUP BY address.id
        ) AS per_address
    $$
    """,
    """
    CREATE INDEX desk_search_keyed_idx ON desk_search_document
    USING gin (desk_search_keyed(address_id, public_document))
    """,
]

BACKWARD = [
    "DROP INDEX desk_search_keyed_idx",
    "DROP FUNCTION desk_search_keyed_query(bigint[], tsquery)",
    "DROP FUNCTION desk_search_indexable(tsquery)",
    "DROP FUNCTION desk_search_keyed(bigint, tsvector)",
]


def add_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for statement in FORWARD:
        schema_editor.execute(statement, params=None)


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for statement in BACKWARD:
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [("desk", "0005_search_refresh_generic_plans")]

    operations = [migrations.RunPython(add_index, drop_index, elidable=False)]
