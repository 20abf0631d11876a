"""`mentorbot flows validate`: the flows, then the catalogs that translate them."""

from __future__ import annotations

from pathlib import Path

from babel.messages.pofile import read_po

from bot.config import Config
from bot.engine.texts import REQUIRED_TEXTS
from bot.errors import FlowError, UserError
from bot.flows.extract_all import source_messages
from bot.flows.loader import CONTRACT, load_flows, opt_outs
from bot.flows.vocabulary import lone_braces, placeholders


def check_catalogs(flows_dir: Path, locales_dir: Path) -> list[str]:
    """Missing, fuzzy or placeholder-inconsistent translations, as `path:line:col: message`."""
    problems: list[str] = []
    sources = source_messages(flows_dir)
    for po_path in sorted(locales_dir.glob("*/LC_MESSAGES/messages.po")):
        lang = po_path.parent.parent.name
        if lang == "fr":
            continue
        try:
            with po_path.open("rb") as handle:
                catalog = read_po(handle, locale=lang, abort_invalid=True)
        except Exception as exc:  # babel raises PoFileError or ValueError with a line
            problems.append(f"{po_path}:1:1: unreadable catalog: {exc}")
            continue
        for msgid, where in sources.items():
            message = catalog.get(msgid)
            line = message.lineno if message is not None and message.lineno else 1
            at = f"{po_path}:{line}:1"
            string = message.string if message is not None else None
            forms: tuple[str, ...] = (string,) if isinstance(string, str) else tuple(string or ())
            if message is None or not forms or not all(forms):
                problems.append(f"{at}: missing {lang} translation for {where} ({_short(msgid)})")
                continue
            if message.fuzzy:
                problems.append(f"{at}: fuzzy {lang} translation for {where} ({_short(msgid)})")
            source_names = set(placeholders(msgid))
            for translated in forms:
                translated_names = set(placeholders(translated))
                if len(forms) > 1:  # a plural form may leave the number out ("one question")
                    source_names -= {"count"}
                    translated_names -= {"count"}
                if source_names != translated_names:
                    problems.append(
                        f"{at}: placeholders differ from the source for {where}: "
                        f"{sorted(source_names)} vs {sorted(translated_names)}"
                    )
                    break
                if lone_braces(translated):
                    problems.append(
                        f"{at}: a lone '{{' or '}}' in the {lang} translation for {where}"
                        " (write '{{' or '}}' for a literal brace)"
                    )
                    break
    return problems


def _short(text: str) -> str:
    first = text.splitlines()[0]
    return repr(first if len(first) <= 50 else first[:49] + "…")


def check_policies(config: Config) -> list[str]:
    """The policies' data files (safety lexicon, identifying-data lists) load."""
    from bot.engine.guard import Guard

    guard = Guard(config)
    problems: list[str] = []
    for load in (lambda: guard.safety, lambda: guard.detector):
        try:
            load()
        except UserError as exc:
            problems.append(str(exc))
    return problems


def validate_all(config: Config) -> str:
    """Raise `FlowError` with every problem; otherwise a one-line summary."""
    problems: list[str] = []
    flowset = None
    try:
        flowset = load_flows(config.paths.flows, REQUIRED_TEXTS, CONTRACT)
    except FlowError as exc:
        problems.extend(exc.problems)
    problems.extend(check_catalogs(config.paths.flows, config.paths.locales))
    problems.extend(check_policies(config))
    if problems:
        raise FlowError(problems)
    assert flowset is not None
    steps = sum(len(f.steps) for f in flowset.flows.values())
    catalogs = config.paths.locales.glob("*/LC_MESSAGES/messages.po")
    langs = sorted(p.parent.parent.name for p in catalogs)
    summary = (
        f"ok: {len(flowset.flows)} flows, {steps} steps, {len(flowset.texts)} texts; "
        f"catalogs: {', '.join(langs) or 'none'}"
    )
    lines = [f"  {step.where}: {step.flow}:{step.id} (identifying data masked without asking)"
             for step in opt_outs(flowset)]
    if lines:
        summary += "\nfree-text steps that opt out of the confidentiality policy:\n"
        summary += "\n".join(lines)
    else:
        summary += "\nevery free-text step is under the confidentiality policy"
    return summary
