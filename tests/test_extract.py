"""The Babel extractor of flow files, and the catalog checks of `flows validate`."""

from __future__ import annotations

import io
import textwrap
from importlib.metadata import entry_points
from pathlib import Path

import pytest
import yaml
from babel.messages.catalog import Catalog
from babel.messages.extract import extract
from babel.messages.pofile import write_po

from bot.engine.texts import REQUIRED_TEXTS
from bot.flows.extract_all import source_messages
from bot.flows.loader import load_flows
from bot.flows.validate import check_catalogs
from bot.i18n.extract import extract_flows, iter_texts

ROOT = Path(__file__).resolve().parent.parent

SAMPLE = textwrap.dedent("""\
    # a comment
    flow: demo
    description: Pas traduit (pour les formateurs).
    start: ask
    steps:
      ask:
        say: |
          Première ligne.
          Deuxième ligne, avec {name}.
        expect: text
        checks: &checks
          - check: mentions_attempt
            markers: [j'ai, je pense]
            error: "  Dites ce que vous avez essayé.  "
        next: again
      again:
        say: Encore ?
        expect: text
        checks: *checks
        next: pick
      pick:
        say: 'Choisissez :'
        choices:
          - label: Oui
            next: ask
          - {label: "Non, merci", next: "@home"}
    texts:
      greeting: Bonjour {name} !
      folded: >
        Un texte
        replié.
      empty: ""
    routes:
      mentee: demo:pick
    """)


def test_iter_texts_yields_every_text_with_its_line() -> None:
    assert list(iter_texts(SAMPLE)) == [
        (7, "Première ligne.\nDeuxième ligne, avec {name}.", "ask.say"),
        (14, "Dites ce que vous avez essayé.", "checks.error"),
        (17, "Encore ?", "again.say"),
        (22, "Choisissez :", "pick.say"),
        (24, "Oui", "choices.label"),
        (26, "Non, merci", "choices.label"),
        (28, "Bonjour {name} !", "texts.greeting"),
        (29, "Un texte replié.", "texts.folded"),
    ]


def test_markers_descriptions_and_keys_are_not_extracted() -> None:
    texts = {text for _, text, _ in iter_texts(SAMPLE)}
    assert not texts & {"j'ai", "je pense", "Pas traduit (pour les formateurs).", "demo",
                        "mentions_attempt", "demo:pick", "ask", "text", "@home"}


def test_aliases_are_extracted_once() -> None:
    found = [text for _, text, _ in iter_texts(SAMPLE)]
    assert found.count("Dites ce que vous avez essayé.") == 1


def test_texts_only_at_the_top_level() -> None:
    source = "steps:\n  a:\n    texts:\n      x: Pas un texte du bot.\n    say: Oui.\n"
    assert [text for _, text, _ in iter_texts(source)] == ["Oui."]


def test_empty_and_comment_only_sources() -> None:
    assert list(iter_texts("")) == []
    assert list(iter_texts("# rien\n")) == []


def test_alias_bomb_is_walked_once() -> None:
    lines = ["texts: {a: Bonjour}", "l0: &l0 [{say: Salut}, {say: Salut}]"]
    for i in range(1, 15):
        lines.append(f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 10) + "]")
    assert [text for _, text, _ in iter_texts("\n".join(lines))] == ["Bonjour", "Salut"]


def test_bad_yaml_is_a_yaml_error() -> None:
    with pytest.raises(yaml.YAMLError):
        list(iter_texts("say: [unclosed\n"))


def test_extractor_agrees_with_the_loader_on_the_shipped_flows() -> None:
    # Every text the bot can say is a msgid, and nothing else is: the catalogs cover the bot.
    flowset = load_flows(ROOT / "flows", REQUIRED_TEXTS)
    said = set(flowset.texts.values())
    for flow in flowset.flows.values():
        for step in flow.steps.values():
            said |= {step.say} if step.say else set()
            said |= {step.again} if step.again else set()
            said |= {c.label for c in step.choices} | {c.error for c in step.checks}
    extracted = set()
    for path in sorted((ROOT / "flows").glob("*.yaml")):
        extracted |= {text for _, text, _ in iter_texts(path.read_text(encoding="utf-8"))}
    assert said == extracted


def test_babel_extractor_protocol() -> None:
    fileobj = io.BytesIO(SAMPLE.encode("utf-8"))
    messages = list(extract_flows(fileobj, {}, [], {}))
    assert messages[0] == (7, "", "Première ligne.\nDeuxième ligne, avec {name}.", ["ask.say"])
    assert len(messages) == 8
    latin = io.BytesIO("say: Café\n".encode("latin-1"))
    assert list(extract_flows(latin, {}, [], {"encoding": "latin-1"})) == [
        (1, "", "Café", ["say"])]


def test_babel_entry_point_is_registered() -> None:
    found = {ep.name: ep for ep in entry_points(group="babel.extractors")}
    assert "mentorbot_flows" in found
    assert found["mentorbot_flows"].load() is extract_flows
    # Babel itself finds the extractor by that name.
    messages = list(extract("mentorbot_flows", io.BytesIO(SAMPLE.encode("utf-8"))))
    assert (22, "Choisissez :", ["pick.say"], None) in messages


def test_source_messages_give_the_first_place_of_each_text(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("texts:\n  x: Bonjour\n  y: Merci\n", encoding="utf-8")
    (tmp_path / "b.yaml").write_text("steps:\n  s:\n    say: Bonjour\n", encoding="utf-8")
    (tmp_path / "c.yaml").write_text("say: [broken\n", encoding="utf-8")  # skipped here
    (tmp_path / ".d.yaml").write_text("say: Caché\n", encoding="utf-8")   # hidden: skipped
    assert source_messages(tmp_path) == {"Bonjour": "a.yaml:2", "Merci": "a.yaml:3"}


# -- catalog checks ---------------------------------------------------------------------------


def write_catalog(locales: Path, lang: str, entries: dict[str, str],
                  fuzzy: frozenset[str] = frozenset()) -> Path:
    catalog = Catalog(locale=lang)
    for msgid, msgstr in entries.items():
        flags = ["fuzzy"] if msgid in fuzzy else []
        catalog.add(msgid, msgstr, flags=flags)
    path = locales / lang / "LC_MESSAGES" / "messages.po"
    path.parent.mkdir(parents=True)
    with path.open("wb") as handle:
        write_po(handle, catalog)
    return path


@pytest.fixture
def flows(tmp_path: Path) -> Path:
    root = tmp_path / "flows"
    root.mkdir()
    (root / "system.yaml").write_text(
        "texts:\n  hello: Bonjour {name} !\n  thanks: Merci.\n  bye: Au revoir.\n"
        "  late: Envoyé le {date}.\n", encoding="utf-8")
    return root


def test_complete_catalog_has_no_problem(flows: Path, tmp_path: Path) -> None:
    write_catalog(tmp_path / "locales", "en", {
        "Bonjour {name} !": "Hello {name}!", "Merci.": "Thanks.", "Au revoir.": "Bye.",
        "Envoyé le {date}.": "Sent on {date} ({date}).",  # a placeholder may repeat
    })
    write_catalog(tmp_path / "locales", "fr", {})  # the source language needs no catalog
    assert check_catalogs(flows, tmp_path / "locales") == []


def test_catalog_problems_name_the_po_line(flows: Path, tmp_path: Path) -> None:
    po = write_catalog(tmp_path / "locales", "en", {
        "Bonjour {name} !": "Hello {nom}!", "Merci.": "Thanks.", "Au revoir.": "",
        "Envoyé le {date}.": "Sent on {date} {",
    }, fuzzy=frozenset({"Merci."}))
    problems = check_catalogs(flows, tmp_path / "locales")
    text = po.read_text(encoding="utf-8").splitlines()

    def line_of(msgid: str) -> int:
        return text.index(f'msgid "{msgid}"') + 1

    assert problems == [
        f"{po}:{line_of('Bonjour {name} !')}:1: placeholders differ from the source for "
        "system.yaml:2: ['name'] vs ['nom']",
        f"{po}:{line_of('Merci.')}:1: fuzzy en translation for system.yaml:3 ('Merci.')",
        f"{po}:{line_of('Au revoir.')}:1: missing en translation for system.yaml:4 "
        "('Au revoir.')",
        f"{po}:{line_of('Envoyé le {date}.')}:1: a lone '{{' or '}}' in the en translation "
        "for system.yaml:5 (write '{{' or '}}' for a literal brace)",
    ]


def test_absent_message_and_unreadable_catalog(flows: Path, tmp_path: Path) -> None:
    write_catalog(tmp_path / "locales", "en", {"Merci.": "Thanks."})
    problems = check_catalogs(flows, tmp_path / "locales")
    assert sorted(p.split(": ", 1)[1] for p in problems) == [
        "missing en translation for system.yaml:2 ('Bonjour {name} !')",
        "missing en translation for system.yaml:4 ('Au revoir.')",
        "missing en translation for system.yaml:5 ('Envoyé le {date}.')",
    ]
    bad = tmp_path / "locales" / "de" / "LC_MESSAGES" / "messages.po"
    bad.parent.mkdir(parents=True)
    bad.write_text('msgid "x"\nmsgstr "y"\nmsgid\n', encoding="utf-8")
    problems = check_catalogs(flows, tmp_path / "locales")
    assert any(p.startswith(f"{bad}:1:1: unreadable catalog: ") for p in problems)


def test_shipped_catalogs() -> None:
    problems = check_catalogs(ROOT / "flows", ROOT / "locales")
    assert problems == [], "\n".join(problems[:10])
