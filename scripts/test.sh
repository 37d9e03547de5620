#!/usr/bin/env bash
# Run the whole test suite (pytest). Extra arguments go to pytest.
# SQLite by default; DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal runs it on PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
exec .venv/bin/pytest "$@"
