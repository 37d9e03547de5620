"""Where a page's time goes, split by layer, in-process (no profiler overhead).

    DATABASE_URL=postgres://postgres@127.0.0.1:55432/portal_bench_1000000 \
        .venv/bin/python bench/split_page.py portal_list desk_queue [--n 60]

For each page (bench.py's names, GET only) it runs warm-up requests and then `--n` timed ones
through Django's WSGI handler, as gunicorn calls it, with the benchmark's settings and users
(as bench/profile_page.py does), and prints per request: the fastest, the first quartile and
the mean wall time, the process's CPU time, and how much of the mean went to
- SQL: executing statements (database work, round trips and the driver);
- compile: the ORM turning querysets into SQL;
- fetch: evaluating querysets (building them excluded; compiling, SQL and model instances
  included), outermost only;
- templates: rendering, outermost only, and the part of it that evaluated querysets lazily.
Only wall-clock timers wrap these functions, so the figures are the page's own; on a busy
machine compare CPU and the fastest run, and run twice.
"""

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

TOTALS = {"sql": 0.0, "compile": 0.0, "fetch": 0.0, "templates": 0.0, "lazy": 0.0}
DEPTH = {"compile": 0, "fetch": 0, "templates": 0}


def timed(owner, name, key):
    """Wrap `owner.name` so the outermost call adds its wall time to TOTALS[key]."""
    original = getattr(owner, name)

    def wrapper(*args, **kwargs):
        if DEPTH[key]:
            return original(*args, **kwargs)
        DEPTH[key] += 1
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            spent = time.perf_counter() - started
            TOTALS[key] += spent
            if key == "fetch" and DEPTH["templates"]:
                TOTALS["lazy"] += spent
            DEPTH[key] -= 1

    setattr(owner, name, wrapper)


def instrument():
    from django.db.backends import utils
    from django.db.models import query
    from django.db.models.sql import compiler
    from django.template import base

    timed(query.QuerySet, "_fetch_all", "fetch")
    timed(compiler.SQLCompiler, "as_sql", "compile")
    timed(base.Template, "render", "templates")
    execute = utils.CursorWrapper._execute

    def sql(self, *args, **kwargs):
        started = time.perf_counter()
        try:
            return execute(self, *args, **kwargs)
        finally:
            TOTALS["sql"] += time.perf_counter() - started

    utils.CursorWrapper._execute = sql


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pages", nargs="+")
    parser.add_argument("--n", type=int, default=60)
    args = parser.parse_args()

    import bench  # bench/bench.py: the pages and the benchmark users

    bench.setup_django()
    instrument()
    getters = bench.in_process_pages(args.pages, parser.error)
    for page in args.pages:
        get = getters[page]
        for _ in range(10):
            get()
        for key in TOTALS:
            TOTALS[key] = 0.0
        laps, cpu = [], time.process_time()
        for _ in range(args.n):
            started = time.perf_counter()
            get()
            laps.append(time.perf_counter() - started)
        cpu = (time.process_time() - cpu) / args.n
        laps.sort()
        ms = {key: value / args.n * 1000 for key, value in TOTALS.items()}
        print(
            f"{page:24s} fastest {laps[0] * 1000:5.1f}  p25 {laps[len(laps) // 4] * 1000:5.1f}"
            f"  mean {sum(laps) / len(laps) * 1000:5.1f}  CPU {cpu * 1000:5.1f} |"
            f" SQL {ms['sql']:5.1f}  compile {ms['compile']:4.1f}  fetch {ms['fetch']:5.1f}"
            f"  templates {ms['templates']:5.1f} (lazy fetch {ms['lazy']:4.1f}) ms"
        )


if __name__ == "__main__":
    main()
