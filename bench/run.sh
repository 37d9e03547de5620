#!/usr/bin/env bash
# Benchmark the portal and desk pages at one or more data sizes (issue 5). See bench/README.md.
#
#   bench/run.sh [SIZE ...]        default: 10000 100000 1000000
#   bench/run.sh --seed-only SIZE ...   create and seed the databases, measure nothing
#
# Per size: a database portal_bench_<SIZE> on the throwaway PostgreSQL 15 cluster of
# shared/bench/pg.sh (127.0.0.1:55432, durability off — the cluster the peer was measured on),
# migrated and seeded with `manage.py seed_bench --tickets SIZE` (kept and reused on the next
# run when it still holds SIZE tickets; BENCH_RESEED=1 seeds anew), then bench/bench.py
# measures it with production settings under gunicorn on 127.0.0.1:8102.
# Results: bench/results/<SIZE>.json, <SIZE>.md, <SIZE>.plans.txt, <SIZE>.seed.log, summary.md.
#
# Env: BENCH_PG_SH (path of pg.sh), BENCH_PGPORT (55432), BENCH_RESEED (0), BENCH_HTTP_PORT
# (8102), BENCH_REQS (200), BENCH_WARM (20), BENCH_PAGE_SECS (90), BENCH_WRK_SECS (15),
# BENCH_PORTAL_Q / BENCH_DESK_Q (hydraulic), BENCH_DEEP_PAGE (40). The cluster is left running
# (`pg.sh stop` stops it; its data lives under /tmp/bench-pg).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
PY="$ROOT/.venv/bin/python"
RESULTS="$HERE/results"
PGPORT=${BENCH_PGPORT:-55432}
export BENCH_PGPORT=$PGPORT

SEED_ONLY=0
if [ "${1:-}" = "--seed-only" ]; then SEED_ONLY=1; shift; fi
SIZES=("$@")
[ ${#SIZES[@]} -gt 0 ] || SIZES=(10000 100000 1000000)
for size in "${SIZES[@]}"; do
  [[ "$size" =~ ^[0-9]+$ ]] || { echo "run.sh: sizes are ticket counts, not '$size'" >&2; exit 2; }
done

# pg.sh: explicit path, else shared/ beside the checkout, else the workplace's shared/.
PG_SH=${BENCH_PG_SH:-}
if [ -z "$PG_SH" ]; then
  for candidate in "$ROOT/../shared/bench/pg.sh" "/work/shared/bench/pg.sh"; do
    if [ -f "$candidate" ]; then PG_SH=$candidate; break; fi
  done
fi
[ -n "$PG_SH" ] && [ -f "$PG_SH" ] || {
  echo "run.sh: cannot find shared/bench/pg.sh; set BENCH_PG_SH" >&2; exit 1; }
[ -x "$PY" ] || { echo "run.sh: no $PY; run scripts/bootstrap.sh first" >&2; exit 1; }

# pg.sh writes only under /tmp, so a read-only shared/ is fine; run it with bash in case the
# file lost its executable bit.
bash "$PG_SH" start

# Production settings, as the issue asks; the requests reach gunicorn over plain HTTP marked
# as HTTPS (X-Forwarded-Proto), so no redirect; e-mails are dropped; bench.py collects the
# static files into /tmp before each size (the manifest storage needs them).
export DJANGO_SETTINGS_MODULE=portal.settings.production
export DJANGO_SECRET_KEY=${DJANGO_SECRET_KEY:-bench-not-secret-0123456789abcdefghijklmnopqrstuvwxyz}
export DJANGO_ALLOWED_HOSTS=127.0.0.1,testserver
export DJANGO_SECURE_SSL_REDIRECT=false
export DJANGO_EMAIL_BACKEND=django.core.mail.backends.dummy.EmailBackend
export DJANGO_STATIC_ROOT=${DJANGO_STATIC_ROOT:-/tmp/portal-bench-static}
export DJANGO_MEDIA_ROOT=${DJANGO_MEDIA_ROOT:-/tmp/portal-bench-media}
export DATABASE_CONN_MAX_AGE=${DATABASE_CONN_MAX_AGE:-600}
export PYTHONUNBUFFERED=1
mkdir -p "$RESULTS" "$DJANGO_MEDIA_ROOT"

psql_admin() { psql -h 127.0.0.1 -p "$PGPORT" -U postgres -d postgres -v ON_ERROR_STOP=1 -qtA "$@"; }

for size in "${SIZES[@]}"; do
  db="portal_bench_$size"
  export DATABASE_URL="postgres://postgres@127.0.0.1:$PGPORT/$db"
  have=""
  if [ "${BENCH_RESEED:-0}" != 1 ] && [ "$(psql_admin -c "SELECT 1 FROM pg_database WHERE datname = '$db'")" = 1 ]; then
    have=$(psql -h 127.0.0.1 -p "$PGPORT" -U postgres -d "$db" -qtA \
      -c "SELECT count(*) FROM tickets_ticket" 2>/dev/null || true)
  fi
  if [ "$have" = "$size" ]; then
    echo "== $db already holds $size tickets: reusing it (BENCH_RESEED=1 seeds anew)"
    (cd "$ROOT" && "$PY" manage.py migrate --no-input -v 0)
  else
    echo "== $db: create, migrate, seed $size tickets"
    psql_admin -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
    (cd "$ROOT" && "$PY" manage.py migrate --no-input -v 0)
    timer=()
    [ -x /usr/bin/time ] && timer=(/usr/bin/time -v)  # peak memory of the seeding, if available
    (cd "$ROOT" && "${timer[@]}" "$PY" manage.py seed_bench --tickets "$size") \
      2> "$RESULTS/$size.seed.time" | tee "$RESULTS/$size.seed.log"
    grep -E "Maximum resident|Elapsed" "$RESULTS/$size.seed.time" | tee -a "$RESULTS/$size.seed.log" || true
    echo "load average after seeding: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$RESULTS/$size.seed.log"
  fi
  if [ "$SEED_ONLY" = 0 ]; then
    (cd "$ROOT" && "$PY" "$HERE/bench.py" --size "$size" --seed-log "$RESULTS/$size.seed.log")
  fi
done

if [ "$SEED_ONLY" = 0 ]; then
  "$PY" "$HERE/bench.py" --summary
fi
echo "run.sh: done; the PostgreSQL cluster is still running ($PG_SH stop stops it)"
