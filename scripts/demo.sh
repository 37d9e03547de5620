#!/usr/bin/env bash
# Set up, migrate a SQLite database, load the demo data, print the logins and serve the portal.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
.venv/bin/python manage.py migrate --no-input
.venv/bin/python manage.py seed_demo
echo "Serving on http://127.0.0.1:8000 (Ctrl+C stops)"
exec .venv/bin/python manage.py runserver 127.0.0.1:8000
