#!/usr/bin/env bash
# Fail when the catalogs are not up to date with the flows.
#
# Extracts the flows again into a temporary template and compares its set of msgids (not the
# header, dates or line numbers) with locales/messages.pot and with every
# locales/<lang>/LC_MESSAGES/messages.po; then, for every language but French (the source),
# reports missing, fuzzy or placeholder-inconsistent translations (bot.flows.validate).
# Prints what is missing or obsolete; exits 1 if anything is, 0 otherwise. Fix: run
# scripts/i18n.sh, then translate what it added.
#
# Run from the repository root:   scripts/check_catalogs.sh
# Other tools:                    PYBABEL=... PYTHON=... scripts/check_catalogs.sh
set -euo pipefail

PYBABEL="${PYBABEL:-.venv/bin/pybabel}"
PYTHON="${PYTHON:-.venv/bin/python}"
DOMAIN=messages
LOCALES_DIR=locales

if [[ ! -f babel.cfg || ! -d flows ]]; then
    echo "scripts/check_catalogs.sh: run me from the repository root (babel.cfg and flows/ not found)" >&2
    exit 2
fi
for tool in "$PYBABEL" "$PYTHON"; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "scripts/check_catalogs.sh: '$tool' not found (set PYBABEL / PYTHON)" >&2
        exit 2
    fi
done

tmpdir="$(mktemp -d)"
trap 'rm -rf "$tmpdir"' EXIT

"$PYBABEL" -q extract --mapping-file babel.cfg --no-wrap --sort-by-file \
    --output-file "$tmpdir/fresh.pot" .

"$PYTHON" - "$tmpdir/fresh.pot" "$LOCALES_DIR" "$DOMAIN" <<'PY'
import sys
from pathlib import Path

from babel.messages.pofile import read_po

fresh_path, locales_dir, domain = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
SOURCE_LOCALE = "fr"


def short(msgid):
    text = msgid if isinstance(msgid, str) else msgid[0]
    first = text.splitlines()[0] if text else ""
    return repr(first if len(first) <= 60 else first[:59] + "…")


def load(path, locale=None):
    with path.open("rb") as handle:
        return read_po(handle, locale=locale)


def ids(catalog):
    return {(m.context, m.id): m for m in catalog if m.id}


def where(message):
    return ", ".join(f"{f}:{n}" for f, n in message.locations[:3]) or "?"


fresh = ids(load(fresh_path))
problems = 0


def compare(label, path, known):
    global problems
    missing = sorted(set(fresh) - set(known), key=lambda k: fresh[k].locations[:1])
    obsolete = sorted(set(known) - set(fresh), key=lambda k: str(k[1]))
    for key in missing:
        print(f"{path}: missing msgid {short(key[1])} ({where(fresh[key])})")
    for key in obsolete:
        print(f"{path}: obsolete msgid {short(key[1])} (no longer in the flows)")
    problems += len(missing) + len(obsolete)
    status = "up to date" if not (missing or obsolete) else f"{len(missing)} missing, {len(obsolete)} obsolete"
    print(f"{label}: {status}")


pot = locales_dir / f"{domain}.pot"
if not pot.is_file():
    print(f"{pot}: missing (run scripts/i18n.sh)")
    problems += 1
else:
    compare(str(pot), pot, ids(load(pot)))

for po in sorted(locales_dir.glob(f"*/LC_MESSAGES/{domain}.po")):
    lang = po.parent.parent.name
    catalog = load(po, locale=lang)
    compare(str(po), po, ids(catalog))  # obsolete `#~` entries are not part of the iteration

try:
    from bot.flows.validate import check_catalogs
except ImportError as exc:
    print(f"translations not checked: cannot import bot.flows.validate ({exc})")
    problems += 1
else:
    translation_problems = check_catalogs(Path("flows"), locales_dir)
    for problem in translation_problems:
        print(problem)
    problems += len(translation_problems)
    langs = sorted(p.parent.parent.name for p in locales_dir.glob(f"*/LC_MESSAGES/{domain}.po")
                   if p.parent.parent.name != SOURCE_LOCALE)
    print(f"translations ({', '.join(langs) or 'none'}): "
          f"{'complete' if not translation_problems else f'{len(translation_problems)} problem(s)'}")

if problems:
    print(f"catalogs NOT up to date ({problems} problem(s)): run scripts/i18n.sh, then translate.")
    sys.exit(1)
print("catalogs up to date.")
PY
