"""How much of a page's SQL time is planning, statement by statement (PostgreSQL).

    DATABASE_URL=postgres://postgres@127.0.0.1:55432/portal_bench_1000000 \
        .venv/bin/python bench/plan_time.py portal_ticket desk_queue [-v]

For each page (bench.py's names, GET only) it requests the page twice through Django's WSGI
handler with the benchmark's settings and users (as bench/profile_page.py does), records the
second request's statements with their parameters, and runs each read-only one three times
under `EXPLAIN (ANALYZE, SUMMARY)` on one warm connection, keeping the last: the page's summed
planning and execution time, and with `-v` each statement's. Planning is what a prepared
statement with a generic plan no longer pays (portal/db.py); execution is what indexes and
statement shapes change. The statements are planned with their values written in, as
Django sends them outside `prepared()`.
"""

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

READ_ONLY = ("SELECT", "(SELECT", "WITH")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pages", nargs="+")
    parser.add_argument("-v", "--verbose", action="store_true", help="one line per statement")
    args = parser.parse_args()

    import bench  # bench/bench.py: the pages and the benchmark users

    bench.setup_django()
    from django.db import connection

    if connection.vendor != "postgresql":
        parser.error("planning times are PostgreSQL's: set DATABASE_URL")
    getters = bench.in_process_pages(args.pages, parser.error)
    for page in args.pages:
        get = getters[page]
        statements = []

        def record(execute, sql, params, many, context, statements=statements):
            statements.append((sql, params))
            return execute(sql, params, many, context)

        get()
        with connection.execute_wrapper(record):
            get()
        planning = execution = 0.0
        lines = []
        with connection.cursor() as cursor:  # client-side binding: the values written in
            for sql, params in statements:
                if not sql.lstrip().upper().startswith(READ_ONLY):
                    continue
                for _ in range(3):
                    cursor.execute(f"EXPLAIN (ANALYZE, SUMMARY, FORMAT JSON) {sql}", params)
                    plan = cursor.fetchone()[0]
                plan = json.loads(plan) if isinstance(plan, str) else plan
                planned, ran = plan[0]["Planning Time"], plan[0]["Execution Time"]
                planning += planned
                execution += ran
                lines.append(f"    plan {planned:6.2f}  run {ran:6.2f} ms  {sql[:100]}")
        print(
            f"{page:24s} {len(statements):3d} statements, planning {planning:6.2f} ms,"
            f" execution {execution:6.2f} ms"
        )
        if args.verbose:
            print("\n".join(lines))


if __name__ == "__main__":
    main()
