"""Flow files: the shipped flows load; every mistake a trainer can make is `path:line:col`."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.engine.texts import REQUIRED_TEXTS
from bot.errors import FlowError
from bot.flows.loader import load_flows
from bot.flows.model import Expect, FlowSet, Target
from bot.flows.vocabulary import ACTIONS, CHECKS, PLACEHOLDERS, placeholders
from bot.flows.yamlsrc import MAX_FILE_BYTES, SourceError, load_located_text

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "flows"
BASE = Path(__file__).resolve().parent / "flowcases" / "base"


@pytest.fixture
def flows_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A minimal valid flows directory (the shipped system.yaml, a tiny charter and menu);
    the working directory is moved there so that problems read `case.yaml:line:col: ...`."""
    root = tmp_path / "flows"
    root.mkdir()
    shutil.copy(SHIPPED / "system.yaml", root / "system.yaml")
    for path in BASE.glob("*.yaml"):
        shutil.copy(path, root / path.name)
    monkeypatch.chdir(root)
    return root


def problems_of(root: Path, text: str | None = None, name: str = "case.yaml",
                required: frozenset[str] | tuple[str, ...] = ()) -> list[str]:
    if text is not None:
        (root / name).write_text(textwrap.dedent(text), encoding="utf-8")
    try:
        load_flows(root, required)
    except FlowError as exc:
        assert str(exc) == "\n".join(exc.problems)
        return exc.problems
    return []


def at(text: str, needle: str, occurrence: int = 1) -> str:
    """`line:col` of the n-th occurrence of `needle` in the dedented text."""
    text = textwrap.dedent(text)
    index = -1
    for _ in range(occurrence):
        index = text.index(needle, index + 1)
    line = text.count("\n", 0, index) + 1
    col = index - (text.rfind("\n", 0, index) + 1) + 1
    return f"{line}:{col}"


def only(problems: list[str], expected: str) -> None:
    assert problems == [expected], "\n".join(problems)


# A valid flow to which each case makes one change.
GOOD = """\
flow: case
description: Un parcours de test.
start: ask
steps:
  ask:
    say: Bonjour {name}, décrivez la situation.
    expect: text
    save: context
    policies: [confidentiality]
    checks:
      - check: min_words
        min: 3
        error: Un peu plus de mots, s'il vous plaît.
    next: confirm
  confirm:
    say: "Vous avez écrit : {context}"
    choices:
      - label: Envoyer
        action: submit_question
        next: "@home"
      - label: Recommencer
        next: ask
      - label: Menu
        next: menu:mentee
"""


# -- the shipped flows ------------------------------------------------------------------------


def test_shipped_flows_load_with_every_required_text() -> None:
    flowset = load_flows(SHIPPED, REQUIRED_TEXTS)
    assert {"charter", "menu", "question"} <= set(flowset.flows)
    assert set(flowset.texts) >= REQUIRED_TEXTS
    assert flowset.homes["mentee"] == Target("menu", "mentee")
    assert flowset.homes["mentor"] == Target("menu", "mentor")
    assert flowset.entry["charter"] == Target("charter", "intro")
    articles = flowset.charter_articles()
    assert len(articles) == 7 and articles[0].id == "intro"
    ask = flowset.flows["question"].steps["ask"]
    assert ask.expect is Expect.TEXT and ask.save == "ask"
    assert [c.name for c in ask.checks] == ["not_empty", "not_delegating", "on_topic", "min_words"]
    # YAML aliases (checks: *context_checks) give the same checks to the edit steps.
    steps = flowset.flows["question"].steps
    assert steps["edit_context"].checks == steps["context"].checks


def test_texts_are_stripped_like_gettext_ids() -> None:
    flowset = load_flows(SHIPPED, REQUIRED_TEXTS)
    for text in flowset.texts.values():
        assert text == text.strip()
    for flow in flowset.flows.values():
        for step in flow.steps.values():
            assert step.say is None or step.say == step.say.strip()


def test_every_placeholder_of_the_shipped_texts_is_known() -> None:
    flowset = load_flows(SHIPPED, REQUIRED_TEXTS)
    for text in flowset.texts.values():
        assert set(placeholders(text)) <= PLACEHOLDERS


def test_vocabulary_matches_the_implementations() -> None:
    from bot.engine.actions import ACTIONS as ACTION_IMPLS
    from bot.engine.checks import CHECKS as CHECK_IMPLS

    assert set(CHECKS) == set(CHECK_IMPLS)
    assert set(ACTIONS) == set(ACTION_IMPLS)


def test_base_directory_is_valid(flows_dir: Path) -> None:
    assert problems_of(flows_dir) == []
    assert problems_of(flows_dir, GOOD) == []
    flowset = load_flows(flows_dir)
    confirm = flowset.flows["case"].steps["confirm"]
    assert [c.label for c in confirm.choices] == ["Envoyer", "Recommencer", "Menu"]
    assert [str(c.next) for c in confirm.choices] == ["@home", "case:ask", "menu:mentee"]
    assert confirm.choices[0].action == "submit_question"
    assert confirm.expect is Expect.CHOICE
    step = flowset.flows["case"].steps["ask"]
    assert step.checks[0].params == {"min": 3}
    assert step.policies == ("confidentiality",)
    assert str(step.where) == f"case.yaml:{at(GOOD, 'ask:')}" == "case.yaml:5:3"


def test_empty_file_and_hidden_files_are_ignored(flows_dir: Path) -> None:
    (flows_dir / "empty.yaml").write_text("", encoding="utf-8")
    (flows_dir / ".#case.yaml").write_text("garbage: [", encoding="utf-8")  # editor lock file
    (flows_dir / "notes.txt").write_text("garbage: [", encoding="utf-8")
    assert problems_of(flows_dir) == []


# -- one problem, at its line -----------------------------------------------------------------


def test_yaml_syntax_error(flows_dir: Path) -> None:
    text = GOOD.replace("    expect: text\n", "    expect: text\n    oops\n", 1)
    problems = problems_of(flows_dir, text)
    assert len(problems) == 1
    line = int(at(text, "oops").split(":")[0])
    # PyYAML notices on the next key; the mistake is reported where it is (issue 14, item 14).
    assert problems[0].startswith(f"case.yaml:{line}:5: line {line} is a text without 'key:'")
    assert "Hint: write it as 'key: value'" in problems[0]
    assert problems[0].endswith(f"(YAML said: could not find expected ':', at line {line + 1})")


def test_unclosed_quote(flows_dir: Path) -> None:
    text = GOOD.replace('say: "Vous avez écrit : {context}"', 'say: "Vous avez écrit', 1)
    problems = problems_of(flows_dir, text)
    # The quote runs on to the next one ("@home"), where PyYAML finally notices; the line
    # that opened it is named first.
    opened = at(text, 'say: "Vous avez').split(":")[0]
    noticed = at(text, "@home").split(":")[0]
    assert problems == [f"case.yaml:{opened}:10: line {opened} opens a quote that is not closed "
                        f"on that line, so YAML reads the lines after it as the same text, up to "
                        f"the next quote (line {noticed}). Hint: close the quote at the end of "
                        f"line {opened} (YAML said: found character '@' that cannot start any "
                        f"token, at line {noticed})"]


def test_tab_indentation(flows_dir: Path) -> None:
    text = GOOD.replace("    expect: text\n", "\texpect: text\n", 1)
    problems = problems_of(flows_dir, text)
    assert len(problems) == 1
    assert problems == [f"case.yaml:{at(text, chr(9))}: a tab cannot indent YAML: use spaces"]


@pytest.mark.parametrize("tag", [
    "!!python/object/apply:os.system ['echo pwned']",
    "!!python/name:os.system ''",
    "!!python/object:collections.OrderedDict {}",
    "!custom {a: 1}",
])
def test_custom_tags_are_refused(flows_dir: Path, tag: str) -> None:
    text = GOOD.replace("save: context", f"save: {tag}", 1)
    only(problems_of(flows_dir, text), f"case.yaml:{at(text, tag)}: custom YAML tags are not "
         "allowed (no Python objects here)")


def test_duplicate_key(flows_dir: Path) -> None:
    text = GOOD.replace("    save: context\n", "    save: context\n    save: other\n", 1)
    only(problems_of(flows_dir, text), f"case.yaml:{at(text, 'save: other')}: "
         "duplicate key 'save'")


def test_duplicate_step(flows_dir: Path) -> None:
    text = GOOD + "  ask:\n    say: encore\n    next: ask\n"
    only(problems_of(flows_dir, text), f"case.yaml:{at(text, 'ask:', 2)}: duplicate key 'ask'")


def test_merge_key_overrides_are_not_duplicates(flows_dir: Path) -> None:
    text = GOOD + textwrap.dedent("""\
        base: &base
          say: Base.
          expect: text
          next: ask
        """).replace("base: &base", "  base: &base").replace("\n  ", "\n    ") + (
        "  derived:\n    <<: *base\n    say: Dérivée.\n")
    text = text.replace("        next: menu:mentee\n",
                        "        next: menu:mentee\n      - label: Base\n        next: base\n"
                        "      - label: Dérivée\n        next: derived\n")
    assert problems_of(flows_dir, text) == []
    flowset = load_flows(flows_dir)
    derived = flowset.flows["case"].steps["derived"]
    assert derived.say == "Dérivée." and derived.expect is Expect.TEXT
    assert derived.next == Target("case", "ask")


def test_unknown_top_level_key(flows_dir: Path) -> None:
    text = GOOD + "stepz: {}\n"
    only(problems_of(flows_dir, text), f"case.yaml:{at(text, 'stepz')}: unknown key 'stepz' "
         "(expected one of description, flow, routes, start, steps, texts)")


def test_unknown_step_key(flows_dir: Path) -> None:
    text = GOOD.replace("    save: context\n", "    sav: context\n", 1)
    problems = problems_of(flows_dir, text)
    only(problems, f"case.yaml:{at(text, 'sav:')}: unknown key 'sav' in step 'ask' (expected "
         "one of action, again, article, checks, choices, confidentiality, expect, next, policies, "
         "save, say)")


def test_unknown_target_step(flows_dir: Path) -> None:
    text = GOOD.replace("        next: ask\n", "        next: nowhere\n", 1)
    only(problems_of(flows_dir, text), f"case.yaml:{at(text, 'next: nowhere')}: "
         "unknown step 'nowhere' in flow 'case'")


def test_unknown_flow_in_target(flows_dir: Path) -> None:
    text = GOOD.replace("next: menu:mentee", "next: manu:mentee", 1)
    only(problems_of(flows_dir, text), f"case.yaml:{at(text, 'next: manu')}: "
         "unknown flow 'manu'")


def test_unknown_step_of_another_flow(flows_dir: Path) -> None:
    text = GOOD.replace("next: menu:mentee", "next: menu:mentees", 1)
    only(problems_of(flows_dir, text), f"case.yaml:{at(text, 'next: menu:')}: "
         "unknown step 'mentees' in flow 'menu'")


@pytest.mark.parametrize("target", ["'@Home'", "'Ask'", "'menu:'", "'a b'", "42", "'@'"])
def test_malformed_target(flows_dir: Path, target: str) -> None:
    text = GOOD.replace("    next: confirm\n", f"    next: {target}\n", 1)
    problems = problems_of(flows_dir, text)
    assert f"case.yaml:{at(text, 'next: ' + target)}: 'next' must be a step, 'flow:step' " \
           "or '@home'" in problems


def test_unreachable_step(flows_dir: Path) -> None:
    text = GOOD + "  orphan:\n    say: Personne ne vient ici.\n    next: ask\n"
    only(problems_of(flows_dir, text), f"case.yaml:{at(text, 'orphan:')}: step 'orphan' is "
         "unreachable (no step leads to it)")


def test_step_reached_from_another_flow_is_reachable(flows_dir: Path) -> None:
    text = GOOD + "  extra:\n    say: Depuis le menu.\n    next: ask\n"
    menu = (flows_dir / "menu.yaml").read_text(encoding="utf-8")
    menu = menu.replace("        next: mentee\n", "        next: mentee\n"
                        "      - label: Extra\n        next: case:extra\n", 1)
    (flows_dir / "menu.yaml").write_text(menu, encoding="utf-8")
    assert problems_of(flows_dir, text) == []


def test_unknown_action(flows_dir: Path) -> None:
    text = GOOD.replace("action: submit_question", "action: launch_rockets", 1)
    only(problems_of(flows_dir, text), f"case.yaml:{at(text, 'action:')}: unknown action "
         f"'launch_rockets'; known: {', '.join(sorted(ACTIONS))}")


@pytest.mark.parametrize("name", ["os.system", "bot.engine.actions.submit_question",
                                  "os:system", "subprocess.call"])
def test_action_naming_python_code_is_rejected(flows_dir: Path, name: str) -> None:
    text = GOOD.replace("action: submit_question", f"action: {name}", 1)
    problems = problems_of(flows_dir, text)
    assert len(problems) == 1
    assert problems[0].startswith(f"case.yaml:{at(text, 'action:')}: unknown action {name!r} "
                                  "(flows cannot name Python code)")


def test_step_action_is_checked_too(flows_dir: Path) -> None:
    text = GOOD.replace("    save: context\n", "    save: context\n    action: eval\n", 1)
    problems = problems_of(flows_dir, text)
    assert len(problems) == 1 and problems[0].startswith(
        f"case.yaml:{at(text, 'action: eval')}: unknown action 'eval'")


def test_unknown_check(flows_dir: Path) -> None:
    text = GOOD.replace("check: min_words", "check: is_polite", 1)
    only(problems_of(flows_dir, text), f"case.yaml:{at(text, 'check: is_polite')}: unknown "
         f"check 'is_polite'; known: {', '.join(sorted(CHECKS))}")


def test_check_naming_python_code(flows_dir: Path) -> None:
    text = GOOD.replace("check: min_words", "check: bot.engine.checks.min_words", 1)
    problems = problems_of(flows_dir, text)
    assert len(problems) == 1
    assert "(flows cannot name Python code)" in problems[0]


@pytest.mark.parametrize(("param", "message"), [
    ("min: eight", "parameter 'min' of check 'min_words' must be a whole number"),
    ("min: '8'", "parameter 'min' of check 'min_words' must be a whole number"),
    ("min: true", "parameter 'min' of check 'min_words' must be a whole number"),
    ("min: 2.5", "parameter 'min' of check 'min_words' must be a whole number"),
    ("min: 0", "parameter 'min' of check 'min_words' must be a whole number of at least 1"),
    ("minimum: 3", "unknown parameter 'minimum' for check 'min_words' (parameters: min, way_out_after)"),
])
def test_bad_check_parameter(flows_dir: Path, param: str, message: str) -> None:
    text = GOOD.replace("min: 3", param, 1)
    only(problems_of(flows_dir, text), f"case.yaml:{at(text, param)}: {message}")


@pytest.mark.parametrize("markers", ["[]", "['', x]", "[1, 2]", "j'ai"])
def test_bad_marker_lists(flows_dir: Path, markers: str) -> None:
    text = GOOD.replace("check: min_words\n        min: 3",
                        f"check: mentions_attempt\n        markers: {markers}", 1)
    problems = problems_of(flows_dir, text)
    assert len(problems) == 1
    assert problems[0].startswith(f"case.yaml:{at(text, 'markers:')}: parameter 'markers' of "
                                  "check 'mentions_attempt' must be a list of texts")


def test_check_without_error_text(flows_dir: Path) -> None:
    text = GOOD.replace("        error: Un peu plus de mots, s'il vous plaît.\n", "", 1)
    only(problems_of(flows_dir, text), f"case.yaml:{at(text, 'check:')}: check 'min_words' "
         "needs an 'error' (the text shown when the answer does not pass)")


def test_checks_only_on_text_steps(flows_dir: Path) -> None:
    text = GOOD.replace('    say: "Vous avez écrit : {context}"\n',
                        '    say: "Vous avez écrit : {context}"\n'
                        '    checks: [{check: not_empty, error: Vide.}]\n', 1)
    only(problems_of(flows_dir, text), f"case.yaml:{at(text, 'checks: [')}: 'checks' only "
         "apply to expect: text")


def test_missing_say(flows_dir: Path) -> None:
    text = GOOD.replace('    say: "Vous avez écrit : {context}"\n', "", 1)
    only(problems_of(flows_dir, text), f"case.yaml:{at(text, 'confirm:')}: step 'confirm' has "
         "no text to say ('say' is missing)")


def test_text_step_without_say(flows_dir: Path) -> None:
    text = GOOD.replace("    say: Bonjour {name}, décrivez la situation.\n", "", 1)
    only(problems_of(flows_dir, text), f"case.yaml:{at(text, 'ask:')}: step 'ask' asks for "
         "text but says nothing ('say' is missing)")


@pytest.mark.parametrize("say", ["''", "'   '", "42", "[a, b]", "null"])
def test_say_must_be_text(flows_dir: Path, say: str) -> None:
    text = GOOD.replace("    say: Bonjour {name}, décrivez la situation.\n", f"    say: {say}\n", 1)
    problems = problems_of(flows_dir, text)
    assert f"case.yaml:{at(text, 'say: ' + say)}: 'say' must be a non-empty text" in problems


def test_choice_without_label(flows_dir: Path) -> None:
    text = GOOD.replace("      - label: Recommencer\n        next: ask\n",
                        "      - next: ask\n", 1)
    only(problems_of(flows_dir, text), f"case.yaml:{at(text, 'next: ask')}: a choice needs a "
         "'label' (the text of its button)")


def test_duplicate_choice_labels(flows_dir: Path) -> None:
    text = GOOD.replace("label: Recommencer", "label: envoyer", 1)
    only(problems_of(flows_dir, text), f"case.yaml:{at(text, 'label: envoyer')}: duplicate "
         "choice 'envoyer' in step 'confirm'")


@pytest.mark.parametrize("label", ["1", "'2'", "' 3 '", "4.5"])
def test_numeric_label(flows_dir: Path, label: str) -> None:
    text = GOOD.replace("label: Menu", f"label: {label}", 1)
    only(problems_of(flows_dir, text), f"case.yaml:{at(text, 'label: ' + label)}: a choice "
         "label cannot be a number (numbers pick choices)")


def test_choice_needs_next(flows_dir: Path) -> None:
    text = GOOD.replace("      - label: Menu\n        next: menu:mentee\n", "      - label: Menu\n",
                        1)
    only(problems_of(flows_dir, text), f"case.yaml:{at(text, 'label: Menu')}: a choice needs "
         "'next': a step, 'flow:step' or '@home'")


def test_unknown_choice_key(flows_dir: Path) -> None:
    text = GOOD.replace("        next: ask\n", "        next: ask\n        goto: ask\n", 1)
    only(problems_of(flows_dir, text), f"case.yaml:{at(text, 'goto')}: unknown key 'goto' in a "
         "choice (expected label, next, action)")


def test_next_missing(flows_dir: Path) -> None:
    text = GOOD.replace("    next: confirm\n", "", 1).replace("        next: ask\n",
                                                          "        next: menu:mentee\n", 1)
    problems = problems_of(flows_dir, text)
    assert f"case.yaml:{at(text, 'ask:')}: step 'ask' needs 'next' (where to go after it)" \
        in problems


def test_steps_that_never_wait_loop(flows_dir: Path) -> None:
    text = GOOD.replace("      - label: Menu\n", "      - label: Boucle\n        next: one\n"
                        "      - label: Menu\n", 1) + textwrap.dedent("""\
          one:
            say: Un.
            next: two
          two:
            say: Deux.
            next: one
        """).replace("\n", "\n  ").replace("one:", "  one:", 1).rstrip(" ")
    only(problems_of(flows_dir, text), f"case.yaml:{at(text, 'one:')}: steps case:one -> "
         "case:two -> case:one loop without waiting for the person")


def test_loop_through_home_is_found(flows_dir: Path) -> None:
    system = (flows_dir / "system.yaml").read_text(encoding="utf-8")
    system = system.replace("mentor: menu:mentor", "mentor: case:bounce", 1)
    (flows_dir / "system.yaml").write_text(system, encoding="utf-8")
    text = GOOD + "  bounce:\n    say: Retour.\n    next: '@home'\n"
    problems = problems_of(flows_dir, text)
    assert problems == [f"case.yaml:{at(text, 'bounce:')}: steps case:bounce -> case:bounce "
                        "loop without waiting for the person",
                        f"menu.yaml:{at((flows_dir / 'menu.yaml').read_text('utf-8'), 'mentor:')}"
                        ": step 'mentor' is unreachable (no step leads to it)"]


def test_a_step_that_waits_breaks_the_loop(flows_dir: Path) -> None:
    text = GOOD.replace("      - label: Menu\n", "      - label: Boucle\n        next: one\n"
                        "      - label: Menu\n", 1)
    text += "  one:\n    say: Un.\n    next: two\n  two:\n    say: Deux ?\n    expect: text\n" \
            "    next: one\n"
    assert problems_of(flows_dir, text) == []


def test_unknown_placeholder(flows_dir: Path) -> None:
    text = GOOD.replace("Bonjour {name}", "Bonjour {nom}", 1)
    only(problems_of(flows_dir, text), f"case.yaml:{at(text, 'say: Bonjour')}: unknown "
         "placeholder {nom}: no step saves an answer as 'nom' (add 'save: nom' to the step "
         "that asks for it, or fix the spelling)")


def test_a_saved_answer_is_a_placeholder(flows_dir: Path) -> None:
    """Issue 14, item 13: `save: nom` anywhere makes `{nom}` a placeholder."""
    text = GOOD.replace("Bonjour {name}", "Bonjour {nom}", 1)
    text = text.replace("    save: context\n", "    save: nom\n", 1)
    assert problems_of(flows_dir, text) == []


@pytest.mark.parametrize("placeholder", ["{name.__class__}", "{name[0]}", "{0}", "{}",
                                         "{name!r}", "{name:>99999}", "{Name}"])
def test_placeholder_must_be_a_plain_name(flows_dir: Path, placeholder: str) -> None:
    text = GOOD.replace("Bonjour {name}", f"Bonjour {placeholder}", 1)
    only(problems_of(flows_dir, text), f"case.yaml:{at(text, 'say: Bonjour')}: placeholder "
         f"{placeholder} must be a plain name like {{name}}")


def test_lone_brace_is_reported_and_doubled_braces_are_fine(flows_dir: Path) -> None:
    text = GOOD.replace("Bonjour {name}", "Bonjour {name", 1)
    only(problems_of(flows_dir, text), f"case.yaml:{at(text, 'say: Bonjour')}: a lone '{{' or "
         "'}' (write '{{' or '}}' for a literal brace)")
    text = GOOD.replace("Bonjour {name}", "Bonjour {{name}} {{ }}", 1)
    assert problems_of(flows_dir, text) == []


def test_placeholder_in_texts_and_labels(flows_dir: Path) -> None:
    text = GOOD + "texts:\n  case_text: Bonjour {nom}\n"
    text = text.replace("label: Menu", "label: Menu {x}", 1)
    problems = problems_of(flows_dir, text)
    assert [p.split(": no step saves")[0] for p in problems] == [
        f"case.yaml:{at(text, 'label: Menu')}: unknown placeholder {{x}}",
        f"case.yaml:{at(text, 'case_text')}: unknown placeholder {{nom}}"]


def test_missing_required_text(flows_dir: Path) -> None:
    problems = problems_of(flows_dir, required=("help", "not_written_yet"))
    system = (flows_dir / "system.yaml").read_text(encoding="utf-8")
    only(problems, f"system.yaml:{at(system, 'texts:')}: missing text 'not_written_yet' "
         "(needed by the bot; add it under 'texts:')")


def test_duplicate_text_across_files(flows_dir: Path) -> None:
    text = GOOD + "texts:\n  help: Une autre aide.\n"
    problems = problems_of(flows_dir, text)
    system = (flows_dir / "system.yaml").read_text(encoding="utf-8")
    # Files are read in name order: case.yaml comes first.
    assert problems == [f"system.yaml:{at(system, '  help:').split(':')[0]}:3: duplicate text "
                        f"'help' (first at case.yaml:{at(text, 'help:')})"]


def test_missing_and_bad_routes(flows_dir: Path) -> None:
    system = (flows_dir / "system.yaml").read_text(encoding="utf-8")
    system = system.replace("  mentor: menu:mentor\n", "  mentor: mentor\n  boss: menu:mentor\n")
    (flows_dir / "system.yaml").write_text(system, encoding="utf-8")
    problems = problems_of(flows_dir)
    assert f"system.yaml:{at(system, 'mentor: mentor')}: route 'mentor' must be 'flow:step'" \
        in problems
    assert f"system.yaml:{at(system, 'boss:')}: unknown route 'boss' (expected charter, " \
        "mentee, mentor)" in problems
    assert ".:1:1: missing route 'mentor' (in a 'routes:' mapping)" in problems


@pytest.mark.parametrize(("change", "needle", "key", "message"), [
    ("flow: case", "flow: Case", "flow:", "'flow' must be a lower_case name"),
    ("start: ask", "start: nope", "start:", "'start' must name a step of flow 'case'"),
    ("    expect: text\n", "    expect: txt\n", "expect:",
     "'expect' must be text, choice or none"),
    ("    save: context\n", "    save: Context\n", "save:", "'save' must be a lower_case name"),
    ("policies: [confidentiality]", "policies: [secrecy]", "policies:",
     "unknown policy 'secrecy' (expected confidentiality)"),
    ("policies: [confidentiality]", "policies: confidentiality", "policies:",
     "'policies' must be a list"),
    ("    save: context\n", "    save: context\n    article: yes please\n", "article:",
     "'article' must be true or false"),
])
def test_other_step_mistakes(flows_dir: Path, change: str, needle: str, key: str,
                             message: str) -> None:
    text = GOOD.replace(change, needle, 1)
    problems = problems_of(flows_dir, text)
    assert f"case.yaml:{at(text, key)}: {message}" in problems, problems


def test_step_id_and_shape(flows_dir: Path) -> None:
    text = GOOD + "  Bad-Step:\n    say: x\n    next: ask\n  listed: [a, b]\n"
    problems = problems_of(flows_dir, text)
    assert problems == [
        f"case.yaml:{at(text, 'Bad-Step')}: step id 'Bad-Step' must be lower_case_words",
        f"case.yaml:{at(text, 'listed')}: step 'listed' must be a mapping",
    ]


def test_yaml_one_one_booleans_are_plain_keys(flows_dir: Path) -> None:
    # `no:` and `on:` are booleans in YAML 1.1; as keys they stay the words written.
    text = GOOD.replace("      - label: Menu\n", "      - label: Non\n        next: 'no'\n"
                        "      - label: Menu\n", 1) + "  no:\n    say: Non.\n    next: ask\n"
    assert problems_of(flows_dir, text) == []
    assert "no" in load_flows(flows_dir).flows["case"].steps


def test_a_file_must_be_a_mapping(flows_dir: Path) -> None:
    only(problems_of(flows_dir, "- a\n- b\n"), "case.yaml:1:1: a flow file must be a mapping "
         "of keys")


def test_duplicate_flow_name(flows_dir: Path) -> None:
    text = GOOD.replace("flow: case", "flow: menu", 1).replace("next: ask", "next: mentee")
    text = text.replace("start: ask", "start: mentee").replace("  ask:", "  mentee:")
    problems = problems_of(flows_dir, text)
    # case.yaml is read first: menu.yaml's flow is the duplicate (and menu:mentor is lost).
    menu = (flows_dir / "menu.yaml").read_text("utf-8")
    assert f"menu.yaml:{at(menu, 'flow:')}: duplicate flow 'menu'" in problems


def test_file_over_the_size_limit(flows_dir: Path) -> None:
    big = "# " + "x" * 80 + "\n"
    (flows_dir / "big.yaml").write_text(big * (MAX_FILE_BYTES // len(big) + 1), encoding="utf-8")
    problems = problems_of(flows_dir)
    assert len(problems) == 1
    assert problems[0].startswith("big.yaml:1:1: file too large (")
    assert f"at most {MAX_FILE_BYTES})" in problems[0]


def test_file_that_is_not_utf8(flows_dir: Path) -> None:
    (flows_dir / "latin.yaml").write_bytes(b"flow: latin\n# caf\xe9\n")
    only(problems_of(flows_dir), "latin.yaml:2:1: not UTF-8 text")


def test_symlink_outside_the_flows_directory(flows_dir: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.yaml"
    outside.write_text(GOOD, encoding="utf-8")
    (flows_dir / "case.yaml").symlink_to(outside)
    only(problems_of(flows_dir), "case.yaml:1:1: file points outside the flows directory")


def test_symlink_inside_the_flows_directory_is_fine(flows_dir: Path) -> None:
    (flows_dir / "sub").mkdir()
    (flows_dir / "sub" / "real.yml").write_text(GOOD, encoding="utf-8")
    (flows_dir / "case.yaml").symlink_to(flows_dir / "sub" / "real.yml")
    assert problems_of(flows_dir) == []


def test_directory_named_like_a_flow_file(flows_dir: Path) -> None:
    (flows_dir / "dir.yaml").mkdir()
    only(problems_of(flows_dir), "dir.yaml:1:1: not a regular file")


def test_missing_flows_directory(tmp_path: Path) -> None:
    with pytest.raises(FlowError) as info:
        load_flows(tmp_path / "nope")
    assert info.value.problems[0].endswith("nope:1:1: flows directory not found")


def test_several_problems_at_once_in_file_order(flows_dir: Path) -> None:
    text = (GOOD.replace("Bonjour {name}", "Bonjour {nom}", 1)
            .replace("check: min_words", "check: is_polite", 1)
            .replace("action: submit_question", "action: os.system", 1)
            .replace("label: Recommencer", "label: envoyer", 1)
            .replace("next: menu:mentee", "next: menu:nope", 1))
    (flows_dir / "other.yaml").write_text("flow: other\nsteps: {}\n", encoding="utf-8")
    problems = problems_of(flows_dir, text)
    assert [p.split(": ", 1)[0] for p in problems] == [
        f"case.yaml:{at(text, 'say: Bonjour')}",
        f"case.yaml:{at(text, 'check: is_polite')}",
        f"case.yaml:{at(text, 'action: os.system')}",
        f"case.yaml:{at(text, 'label: envoyer')}",
        f"case.yaml:{at(text, 'next: menu:nope')}",
        "other.yaml:2:1",
    ]


def test_aliases_do_not_multiply_problems(flows_dir: Path) -> None:
    text = GOOD.replace("    checks:\n", "    checks: &shared\n", 1).replace(
        "check: min_words", "check: is_polite", 1)
    text += "  again:\n    say: Encore.\n    expect: text\n    checks: *shared\n    next: ask\n"
    text = text.replace("        next: ask\n", "        next: again\n", 1)
    problems = problems_of(flows_dir, text)
    assert len(problems) == 1 and "unknown check 'is_polite'" in problems[0]


def test_alias_bomb_is_cheap(flows_dir: Path) -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 12):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    bomb = "\n".join(lines) + "\n"
    problems = problems_of(flows_dir, "description: x\n" + bomb.replace("a0:", "texts:\n  z: y\n"
                                                                        "a0:", 1))
    assert problems and all(p.startswith("case.yaml:") for p in problems)


def test_self_referencing_alias(flows_dir: Path) -> None:
    only(problems_of(flows_dir, "description: &d [*d]\n"),
         "case.yaml:1:14: an alias cannot contain itself")  # the anchored node starts at &d


def test_deep_nesting(flows_dir: Path) -> None:
    problems = problems_of(flows_dir, "description: " + "[" * 1500 + "]" * 1500 + "\n")
    assert problems == ["case.yaml:1:1: nested too deeply"]


def test_control_character(flows_dir: Path) -> None:
    text = GOOD.replace("Un parcours de test.", "Un parcours\x07 de test.", 1)
    only(problems_of(flows_dir, text), f"case.yaml:{at(text, chr(7))}: unacceptable character "
         "#x0007: special characters are not allowed")


def test_invalid_scalar_values(flows_dir: Path) -> None:
    text = GOOD.replace("description: Un parcours de test.", "description: 2026-13-45", 1)
    problems = problems_of(flows_dir, text)
    assert problems == [f"case.yaml:{at(text, '2026-13-45')}: invalid value: month must be in "
                        "1..12"]


# -- robustness -------------------------------------------------------------------------------

YAMLISH = st.text(alphabet=st.sampled_from(list("ab: -[]{}&*!<>'\"#|\n\t\\@%,.?=~0123é{}")),
                  max_size=120)


@settings(max_examples=300, deadline=None)
@given(st.one_of(YAMLISH, st.text(max_size=80)))
def test_any_text_is_a_source_error_or_a_value(text: str) -> None:
    try:
        load_located_text(text, "fuzz.yaml")
    except SourceError as exc:
        assert str(exc).startswith("fuzz.yaml:")


@settings(max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(YAMLISH, st.builds(lambda cut, extra: GOOD[:cut] + extra,
                                    st.integers(0, len(GOOD)), YAMLISH)))
def test_any_flow_file_is_a_flow_error_or_loads(flows_dir: Path, text: str) -> None:
    (flows_dir / "case.yaml").write_text(text, encoding="utf-8")
    try:
        flowset = load_flows(flows_dir)
    except FlowError as exc:
        assert exc.problems
        for problem in exc.problems:
            assert problem.split(": ", 1)[0].count(":") == 2, problem
        return
    assert isinstance(flowset, FlowSet)


# -- the command line -------------------------------------------------------------------------


def validate_cli(config: Path | None, cwd: Path) -> subprocess.CompletedProcess[str]:
    args = [sys.executable, "-m", "bot", "flows", "validate"]
    if config is not None:
        args += ["--config", str(config)]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=60)


def test_cli_validate_shipped_flows() -> None:
    result = validate_cli(None, ROOT)
    assert "Traceback" not in result.stderr
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ok: ")
    assert "catalogs: " in result.stdout and "en" in result.stdout.split("catalogs: ")[1]


def test_cli_validate_reports_every_problem(flows_dir: Path, tmp_path: Path) -> None:
    text = (GOOD.replace("Bonjour {name}", "Bonjour {nom}", 1)
            .replace("action: submit_question", "action: os.system", 1))
    (flows_dir / "case.yaml").write_text(text, encoding="utf-8")
    config = tmp_path / "config.yaml"
    config.write_text(f"paths: {{flows: {flows_dir}, locales: {tmp_path / 'no-locales'}}}\n",
                      encoding="utf-8")
    result = validate_cli(config, tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr and result.stdout == ""
    # The flows' contract with the code (bot.flows.contract) is named too: this minimal
    # flow set has none of the steps the code relies on.
    lines = [line for line in result.stderr.splitlines() if "the code relies on it" not in line]
    assert lines == [
        f"flows/case.yaml:{at(text, 'say: Bonjour')}: unknown placeholder {{nom}}: no step "
        "saves an answer as 'nom' (add 'save: nom' to the step that asks for it, or fix the "
        "spelling)",
        f"flows/case.yaml:{at(text, 'action: os.system')}: unknown action 'os.system' (flows "
        f"cannot name Python code); known: {', '.join(sorted(ACTIONS))}",
    ]
    assert "flows:1:1: step 'mentor:answer_text' is missing" in result.stderr
