"""Texts that vary with a number use gettext plural forms, from the flow file to the chat."""

from __future__ import annotations

import io
import textwrap
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import write_po

from bot.engine.texts import render
from bot.flows.loader import load_flows
from bot.flows.validate import check_catalogs
from bot.i18n import Catalogs
from bot.i18n.extract import extract_flows

ROOT = Path(__file__).resolve().parent.parent
PLURAL = textwrap.dedent("""\
    texts:
      waiting:
        one: "{count} question en attente"
        other: "{count} questions en attente"
    """)


def _flows(tmp_path: Path, texts: str) -> Path:
    root = tmp_path / "flows"
    root.mkdir()
    system = (ROOT / "flows" / "system.yaml").read_text(encoding="utf-8")
    (root / "system.yaml").write_text(system, encoding="utf-8")
    for path in (ROOT / "tests" / "flowcases" / "base").glob("*.yaml"):
        (root / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    (root / "extra.yaml").write_text(texts, encoding="utf-8")
    return root


def _catalog(tmp_path: Path, translations: dict[tuple[str, str], tuple[str, str]]) -> Path:
    locales = tmp_path / "locales"
    (locales / "en" / "LC_MESSAGES").mkdir(parents=True)
    catalog = Catalog(locale="en")
    for ids, strings in translations.items():
        catalog.add(ids, strings)
    buffer = io.BytesIO()
    write_po(buffer, catalog)
    (locales / "en" / "LC_MESSAGES" / "messages.po").write_bytes(buffer.getvalue())
    return locales


def test_the_extractor_gives_both_forms_to_babel() -> None:
    found = list(extract_flows(io.BytesIO(PLURAL.encode()), {}, [], {}))
    assert found == [(3, "ngettext", ("{count} question en attente",
                                       "{count} questions en attente"), ["texts.waiting"])]


def test_the_loader_keeps_the_singular_as_the_text_and_the_plural_beside_it(
        tmp_path: Path) -> None:
    flowset = load_flows(_flows(tmp_path, PLURAL))
    assert flowset.texts["waiting"] == "{count} question en attente"
    assert flowset.plurals["waiting"] == "{count} questions en attente"


def test_a_plural_text_without_count_or_with_other_keys_is_refused(tmp_path: Path) -> None:
    bad = PLURAL.replace("{count} questions", "des questions").replace(
        "waiting:", "waiting:\n    few: \"quelques\"", 0)
    bad += "  nocount:\n    one: une\n    other: plusieurs\n"
    bad += "  extra:\n    one: \"{count} x\"\n    other: \"{count} x\"\n    many: \"{count} x\"\n"
    try:
        load_flows(_flows(tmp_path, bad))
    except Exception as exc:  # FlowError lists every problem
        problems = "\n".join(getattr(exc, "problems", [str(exc)]))
    else:
        raise AssertionError("invalid plural texts were accepted")
    assert "text waiting.other must contain {count}" in problems
    assert "text nocount.other must contain {count}" in problems
    assert "text 'extra': a text that varies with a number" in problems


def test_french_uses_the_singular_for_zero_and_one_and_english_its_own_rule(
        tmp_path: Path) -> None:
    one, other = "{count} question en attente", "{count} questions en attente"
    locales = _catalog(tmp_path, {(one, other): ("{count} question waiting",
                                                 "{count} questions waiting")})
    catalogs = Catalogs(locales)
    with catalogs.use("fr"):
        assert [render(one, {"count": n}, other) for n in (0, 1, 2)] == [
            "0 question en attente", "1 question en attente", "2 questions en attente"]
    with catalogs.use("en"):
        assert [render(one, {"count": n}, other) for n in (0, 1, 2)] == [
            "0 questions waiting", "1 question waiting", "2 questions waiting"]


def test_validate_reports_an_untranslated_plural_text(tmp_path: Path) -> None:
    flows = _flows(tmp_path, PLURAL)
    locales = _catalog(tmp_path, {})
    problems = check_catalogs(flows, locales)
    assert any("missing en translation" in p and "question en attente" in p for p in problems)
    one, other = "{count} question en attente", "{count} questions en attente"
    half = _catalog(tmp_path / "half", {(one, other): ("{count} question waiting", "")})
    assert [p.split(": ", 1)[1] for p in check_catalogs(flows, half)
            if "extra.yaml" in p] == [
        "missing en translation for extra.yaml:3 ('{count} question en attente')"]
