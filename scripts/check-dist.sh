#!/usr/bin/env bash
# Install the built wheel into a fresh virtualenv outside the checkout and check that it
# ships every template, static file, migration and translation of the source tree, and
# that its migrations run.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
wheel=$(ls dist/django_oscar_gpt-*.whl)
ls dist/django_oscar_gpt-*.tar.gz >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 -m venv "$work/venv"
"$work/venv/bin/python" -m pip install --quiet "$wheel"
cd "$work"
"$work/venv/bin/python" - "$repo" <<'PY'
import sys
from pathlib import Path

import oscar_gpt

repo = Path(sys.argv[1]) / "oscar_gpt"
installed = Path(oscar_gpt.__file__).parent
assert installed.is_relative_to(Path.cwd()), f"imported from {installed}, not the fresh venv"
wanted = [
    p.relative_to(repo)
    for folder in ("templates", "static", "locale", "migrations")
    for p in (repo / folder).rglob("*")
    if p.is_file() and "__pycache__" not in p.parts
]
missing = [str(p) for p in wanted if not (installed / p).is_file()]
if missing:
    sys.exit(f"missing from the wheel: {missing}")
kinds = {p.parts[0] for p in wanted}
mo = [p for p in wanted if p.suffix == ".mo"]
print(f"wheel ships {len(wanted)} data files ({', '.join(sorted(kinds))}); {len(mo)} .mo files")
if not mo:
    sys.exit("no compiled translations in the wheel")
PY
cat >"$work/settings.py" <<'PY'
SECRET_KEY = "dist-check"
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "oscar_gpt"]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": "dist.sqlite3"}}
USE_TZ = True
PY
PYTHONPATH="$work" DJANGO_SETTINGS_MODULE=settings "$work/venv/bin/django-admin" migrate -v 0
PYTHONPATH="$work" DJANGO_SETTINGS_MODULE=settings "$work/venv/bin/python" -c "
import django; django.setup()
from oscar_gpt.models import LedgerEntry
from django.utils import translation
translation.activate('de')
assert str(LedgerEntry._meta.verbose_name_plural) != 'ledger', 'German translation not loaded'
print('migrations ran; German:', LedgerEntry._meta.verbose_name_plural, '; entries:', LedgerEntry.objects.count())
"
echo "wheel install OK"
