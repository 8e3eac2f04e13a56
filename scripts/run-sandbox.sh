#!/usr/bin/env bash
# Run the sandbox shop: migrate, load the demo catalogue, start a Celery worker (filesystem
# broker, no server needed) and the web server. Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${VENV:-.venv}/bin/python"
HOST="${SANDBOX_HOST:-127.0.0.1}"
PORT="${SANDBOX_PORT:-8000}"
export HF_HUB_OFFLINE=1 DJANGO_SETTINGS_MODULE=sandbox.settings
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"  # web server and worker share the cores
mkdir -p var

"$PY" manage.py migrate --noinput -v 0
"$PY" manage.py oscar_gpt_demo_data
"$PY" manage.py oscar_gpt_recommendations --rebuild  # product page and basket rows

"$PY" -m celery -A sandbox worker -B -s var/celerybeat-schedule -P solo -l info >var/worker.log 2>&1 &
WORKER=$!
cleanup() { kill "$WORKER" 2>/dev/null || true; wait "$WORKER" 2>/dev/null || true; }
trap cleanup EXIT INT TERM

echo "Asking the worker for one completion from each backend (first run converts the model)..."
"$PY" manage.py oscar_gpt_check --via-worker --timeout 600 || \
    echo "WARNING: the backend check failed; see var/worker.log" >&2

LOGIN=$("$PY" manage.py shell -v 0 -c \
    "from sandbox.demo.loader import DEMO_STAFF_EMAIL as e, DEMO_STAFF_PASSWORD as p; print(e, '/', p)")

cat <<BANNER

  Oscar GPT sandbox
  -----------------
  Shop:       http://$HOST:$PORT/
  Dashboard:  http://$HOST:$PORT/en-gb/dashboard/
  Admin:      http://$HOST:$PORT/admin/
  Staff login: $LOGIN
  Worker log: var/worker.log      Stop: Ctrl-C

BANNER
"$PY" manage.py runserver "$HOST:$PORT"
