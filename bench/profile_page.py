"""Profile where one page's time goes, in-process, with the benchmark's settings and users.

    DATABASE_URL=postgres://postgres@127.0.0.1:55432/portal_bench_1000000 \
        .venv/bin/python bench/profile_page.py portal_ticket [--n 50] [--sort tottime] [--top 40]

Runs the page `--n` times through Django's WSGI handler, as gunicorn calls it (production
settings; signed in as the benchmark's customer or agent, as bench/bench.py does; the test
client is used only to sign in, its template instrumentation would distort the figures),
prints the mean wall time per request,
the time spent in SQL (from the connection's query log) and the cProfile table of the loop.
The page names are bench.py's; `portal_file_post` is not profiled here (it writes).
"""

import argparse
import cProfile
import pstats
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("page")
    parser.add_argument("--n", type=int, default=50)
    parser.add_argument("--sort", default="cumulative")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--queries", action="store_true", help="list the last request's queries")
    args = parser.parse_args()

    import bench  # bench/bench.py: the pages and the benchmark users

    bench.setup_django()
    from django.db import connection, reset_queries

    outcome = {}
    page_get = bench.in_process_pages([args.page], parser.error)[args.page]
    path = page_get.path

    def get():
        outcome["status"], body = page_get()
        outcome["bytes"] = len(body)

    for _ in range(5):  # warm-up: templates, translations, URL resolvers, connection
        get()
    print(f"{args.page}: GET {path} -> {outcome['status']}, {outcome['bytes']:,} bytes")

    connection.force_debug_cursor = True
    sql_seconds = 0.0
    started, cpu_started = time.perf_counter(), time.process_time()
    for _ in range(args.n):
        reset_queries()
        get()
        sql_seconds += sum(float(q["time"]) for q in connection.queries)
    wall = (time.perf_counter() - started) / args.n
    cpu = (time.process_time() - cpu_started) / args.n
    queries = len(connection.queries)
    if args.queries:
        for query in connection.queries:
            print(f"  {float(query['time']) * 1000:6.2f} ms  {query['sql'][:160]}")
    connection.force_debug_cursor = False
    # The process's CPU time is the Python side (the database works in its own processes);
    # unlike wall time it hardly moves when other work shares the machine.
    print(
        f"mean {wall * 1000:.1f} ms per request, of which SQL {sql_seconds / args.n * 1000:.1f} ms"
        f" in {queries} queries; this process's CPU {cpu * 1000:.1f} ms per request"
    )

    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(args.n):
        get()
    profiler.disable()
    pstats.Stats(profiler).strip_dirs().sort_stats(args.sort).print_stats(args.top)


if __name__ == "__main__":
    main()
