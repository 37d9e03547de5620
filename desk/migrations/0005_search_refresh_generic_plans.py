"""The search documents' refresh keeps its plans (PostgreSQL).

Every ticket or message written recomputes its ticket's search document through
`desk_search_refresh(ticket_ids)` (0003, 0004): lock the tickets, drop documents of deleted
ones, insert or update the rest from the tickets and their messages. PL/pgSQL prepares those
statements once per connection, but with `plan_cache_mode = auto` PostgreSQL plans them again
with every call's values: the generic plan (estimated for an array of unknown length) looks
costlier than a plan for an array of one ticket, so it is never chosen, and planning the
document's INSERT … SELECT costs more than running it for one ticket.

Measured with pgbench on the benchmark database (2-core machine, one ticket filed with its
event and description, rolled back): the ticket's INSERT 1.08 → 0.46 ms and the message's
INSERT 1.00 → 0.42 ms. A refresh of 20,000 tickets at once (a bulk change) took 2.1 s with its
plans made for it and 1.8–2.1 s with the generic ones (nested loops over the tickets' and
messages' indexes, linear in the number of tickets), so the function now always uses the
generic plans. The setting belongs to the function and applies only while it runs.
"""

from django.db import migrations

FUNCTION = "desk_search_refresh(bigint[])"


def use_generic_plans(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"ALTER FUNCTION {FUNCTION} SET plan_cache_mode = force_generic_plan", params=None
    )


def plan_per_call(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"ALTER FUNCTION {FUNCTION} RESET plan_cache_mode", params=None)


class Migration(migrations.Migration):
    dependencies = [("desk", "0004_search_document_state")]

    operations = [migrations.RunPython(use_generic_plans, plan_per_call, elidable=False)]
