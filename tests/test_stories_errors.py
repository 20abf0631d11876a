"""Conversation stories (`mentorbot flows test`): malformed files are one clear error naming the
file and the step; every kind of expectation matches and fails as documented; config overrides;
collecting stories from files and directories."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from bot.config import ConfigError
from bot.stories import StoryError, collect_stories, run_stories, run_story
from bot.transports.simulate import ScriptError

AT = "2026-11-30T07:00:00+01:00"
HELLO = f"  - at: '{AT}'\n    from: console:alice\n    say: Bonjour\n"


def write(tmp_path: Path, text: str, name: str = "story.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def hello_story(tmp_path: Path, expect: str, name: str = "story.yaml") -> Path:
    """Alice says hello; `expect` is the YAML of the step's expectations (indented 4)."""
    return write(tmp_path, f"story: hello\nsteps:\n{HELLO}    expect: {expect}\n", name)


# -- malformed files --------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "message"), [
    ("- just\n- a list\n", "a story is a mapping with 'story' and 'steps'"),
    ("story: no steps\n", "a story is a mapping with 'story' and 'steps'"),
    ("story: s\nsteps: {at: x}\n", "'steps' must be a non-empty list"),
    ("story: s\nsteps: []\n", "'steps' must be a non-empty list"),
    ("story: s\nsteps:\n  - just a string\n", "step 1: must be a mapping"),
    (f"story: s\nsteps:\n{HELLO}  - 42\n", "step 2: must be a mapping"),
    (f"story: s\nconfig: [locale, en]\nsteps:\n{HELLO}", "'config' must be a mapping"),
    (f"story: s\nsteps:\n{HELLO}    expect: 3\n",
     "step 1: 'expect' must be a list of checks or 'nothing'"),
    (f"story: s\nsteps:\n{HELLO}    expect: [contains: x, plain]\n",
     "step 1: 'expect' must be a list of checks or 'nothing'"),
    (f"story: s\nsteps:\n{HELLO}    expect: [{{contain: Bienvenue}}]\n",
     "step 1: unknown expectation 'contain'"),
])
def test_a_malformed_story_names_the_file_and_the_step(tmp_path: Path, text: str,
                                                       message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(StoryError) as caught:
        run_story(path)
    assert str(caught.value) == f"{path}: {message}"


def test_unreadable_story_files(tmp_path: Path) -> None:
    broken = write(tmp_path, "story: [unclosed\n", "broken.yaml")
    with pytest.raises(StoryError, match=r"broken\.yaml: cannot read the story: "):
        run_story(broken)
    with pytest.raises(StoryError, match=r"absent\.yaml: cannot read the story: "):
        run_story(tmp_path / "absent.yaml")


def test_a_bad_script_step_names_the_story_and_the_step(tmp_path: Path) -> None:
    path = write(tmp_path, f"""\
        story: s
        steps:
          - at: '{AT}'
            from: console:alice
            say: Bonjour
          - at: 'not a time'
            from: console:alice
            say: Bonjour
        """)
    with pytest.raises(ScriptError) as caught:
        run_story(path)
    assert str(caught.value).startswith(f"{path}: step:2: 'at' is not an ISO 8601 time")


def test_a_bad_config_override_is_a_config_error(tmp_path: Path) -> None:
    path = write(tmp_path, f"story: s\nconfig: {{colour: red}}\nsteps:\n{HELLO}")
    with pytest.raises(ConfigError, match=r"story\.yaml:config: colour: unknown key"):
        run_story(path)


# -- expectations -----------------------------------------------------------------------------


def test_a_single_expectation_may_be_a_mapping(tmp_path: Path) -> None:
    assert run_story(hello_story(tmp_path, "{contains: Bienvenue}")).ok
    result = run_story(hello_story(tmp_path, "{contains: Absent}"))
    assert len(result.failures) == 1


def test_equals_matches_the_whole_text_minus_surrounding_space(tmp_path: Path) -> None:
    welcome = ("Bienvenue. Avant tout échange, nous lisons ensemble la charte d'accompagnement :"
               " chaque article est à accepter, puis vous la signez.")
    assert run_story(hello_story(tmp_path, f'[{{equals: "  {welcome}  "}}]')).ok
    result = run_story(hello_story(tmp_path, "[{equals: Bienvenue.}]"))
    assert not result.ok
    assert "-→ console:alice: equals 'Bienvenue.'" in result.failures[0]


def test_not_contains_fails_when_the_text_is_there(tmp_path: Path) -> None:
    assert run_story(hello_story(tmp_path, "[{contains: Bienvenue, not_contains: Adieu}]")).ok
    result = run_story(hello_story(tmp_path, "[{not_contains: Bienvenue, contains: Avant tout échange}]"))
    assert not result.ok
    assert "not containing 'Bienvenue'" in result.failures[0]


def test_choices_must_be_exactly_those_offered(tmp_path: Path) -> None:
    assert run_story(hello_story(tmp_path, "[{choices: [Lire l'article 1]}]")).ok
    result = run_story(hello_story(tmp_path, "[{choices: [Lire, Partir]}]"))
    assert not result.ok
    report = result.failures[0]
    assert "-→ console:alice: [Lire | Partir]" in report
    assert "+→ console:alice: Charte d'usage de WhatsApp" in report
    assert "[Lire l'article 1]" in report  # the choices that were offered


def test_expectations_match_in_order(tmp_path: Path) -> None:
    # the charter comes after the welcome: asking for them the other way round fails
    assert run_story(hello_story(tmp_path, "[{contains: Bienvenue}, {contains: Charte}]")).ok
    result = run_story(hello_story(tmp_path, "[{contains: Charte}, {contains: Bienvenue}]"))
    assert not result.ok and result.failures[0].startswith("step 1 ('Bonjour' at ")


def test_to_names_another_recipient(tmp_path: Path) -> None:
    result = run_story(hello_story(tmp_path, "[{to: console:bob, contains: Bienvenue}]"))
    assert not result.ok
    assert "-→ console:bob: contains 'Bienvenue'" in result.failures[0]


def test_attachments_ticks_and_ids(tmp_path: Path) -> None:
    path = write(tmp_path, f"""\
        steps:
          - at: '{AT}'
            from: console:alice
            say: Bonjour
            id: m-1
          - at: '2026-11-30T07:00:01+01:00'
            from: console:alice
            say: Bonjour
            id: m-1
            expect: nothing
          - at: '2026-11-30T07:00:02+01:00'
            from: console:alice
            attachment: image
            expect:
              - contains: une image
          - at: '2026-11-30T07:00:03+01:00'
            tick: true
            expect: nothing
        """)
    result = run_story(path)
    assert result.ok, result.failures
    assert result.name == "story"  # no 'story' key: the file's stem


def test_a_failure_describes_the_step_by_what_was_said(tmp_path: Path) -> None:
    path = write(tmp_path, f"""\
        story: attachment
        steps:
          - at: '{AT}'
            from: console:alice
            attachment: document
            expect: [{{contains: nothing like this}}]
          - at: '2026-11-30T08:00:00+01:00'
            tick: true
            expect: [{{to: console:bob, contains: Synthèse}}]
        """)
    result = run_story(path)
    assert len(result.failures) == 2
    assert result.failures[0].startswith(f"step 1 ('document' at {AT})")
    assert result.failures[1].startswith("step 2 ('tick' at 2026-11-30T08:00:00+01:00)")


# -- configuration ----------------------------------------------------------------------------


def test_a_config_override_applies_to_the_story(tmp_path: Path) -> None:
    path = write(tmp_path, f"""\
        story: english
        config:
          locale: en
          people:
            - {{id: "console:bob", role: mentor, name: "Bob Martin"}}
            - {{id: "console:alice", role: mentee, name: "Alice Durand", mentor: "console:bob"}}
        steps:
          - at: '{AT}'
            from: console:alice
            say: Hello
            expect:
              - contains: Welcome
                not_contains: Bienvenue
        """)
    result = run_story(path)
    assert result.ok, result.failures


def test_a_base_config_and_its_override(tmp_path: Path) -> None:
    base = tmp_path / "config.yaml"
    base.write_text(textwrap.dedent("""\
        locale: fr
        people:
          - {id: "console:zoe", role: mentor, name: "Zoé Martin"}
          - {id: "console:yann", role: mentee, name: "Yann Morel", mentor: "console:zoe"}
        """), encoding="utf-8")
    step = textwrap.dedent(f"""\
        steps:
          - at: '{AT}'
            from: console:yann
            say: Bonjour
            expect: [{{contains: %s}}]
        """)
    plain = write(tmp_path, step % "Bienvenue", "plain.yaml")
    assert run_story(plain, base).ok
    # without the base config, console:yann is a stranger
    assert not run_story(plain).ok

    # an override keeps the base's roster and changes only what it names
    override = write(tmp_path, "config: {locale: en}\n" + step % "Welcome", "override.yaml")
    assert run_story(override, base).ok
    assert not run_story(write(tmp_path, "config: {locale: en}\n" + step % "Bienvenue",
                               "still-french.yaml"), base).ok


# -- collecting and running -------------------------------------------------------------------


def test_collect_stories_from_files_and_directories(tmp_path: Path) -> None:
    folder = tmp_path / "stories"
    folder.mkdir()
    b = hello_story(folder, "[{contains: Bienvenue}]", "b.yaml")
    a = hello_story(folder, "[{contains: Bienvenue}]", "a.yaml")
    (folder / "notes.txt").write_text("not a story", encoding="utf-8")
    single = hello_story(tmp_path, "[{contains: Bienvenue}]", "single.yaml")
    assert collect_stories([folder]) == [a, b]
    assert collect_stories([single, folder]) == [single, a, b]
    with pytest.raises(StoryError, match=r"missing\.yaml: no such story"):
        collect_stories([tmp_path / "missing.yaml"])
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(StoryError, match=r"^no story found$"):
        collect_stories([empty])


def test_collect_stories_defaults_to_the_shipped_ones() -> None:
    shipped = collect_stories([])
    assert shipped and all(p.parent.name == "stories" and p.suffix == ".yaml" for p in shipped)


def test_run_stories_reports_each_story_and_a_summary(tmp_path: Path) -> None:
    folder = tmp_path / "stories"
    folder.mkdir()
    hello_story(folder, "[{contains: Bienvenue}]", "a-ok.yaml")
    hello_story(folder, "[{contains: Absent}]", "b-fail.yaml")
    lines: list[str] = []
    assert run_stories([folder], None, lines.append) == 1
    assert lines[0] == "ok    a-ok.yaml: hello"
    assert lines[1] == "FAIL  b-fail.yaml: hello"
    assert lines[2].startswith("  step 1 ('Bonjour' at ")
    assert lines[-1] == "1 passed, 1 failed"
