"""Every conversation story of `stories/` runs under pytest too (and `mentorbot flows test`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.stories import DEFAULT_DIR, StoryError, run_stories, run_story

STORIES = sorted(DEFAULT_DIR.glob("*.yaml"))


@pytest.mark.parametrize("path", STORIES, ids=[p.stem for p in STORIES])
def test_story(path: Path) -> None:
    result = run_story(path)
    assert result.ok, "\n".join(result.failures)


def test_a_failing_story_shows_a_readable_diff(tmp_path: Path) -> None:
    story = tmp_path / "wrong.yaml"
    story.write_text(
        "story: wrong\nsteps:\n"
        "  - at: '2026-11-30T07:00:00+01:00'\n    from: console:alice\n    say: Bonjour\n"
        "    expect:\n      - contains: Au revoir\n",
        encoding="utf-8",
    )
    lines: list[str] = []
    failed = run_stories([story], None, lines.append)
    assert failed == 1
    report = "\n".join(lines)
    assert "FAIL  wrong.yaml: wrong" in report
    assert "-→ console:alice: contains 'Au revoir'" in report
    assert "+→ console:alice: Bienvenue." in report
    assert report.endswith("0 passed, 1 failed")


def test_expect_nothing(tmp_path: Path) -> None:
    story = tmp_path / "silent.yaml"
    story.write_text(
        "story: silent\nsteps:\n  - at: '2026-11-30T07:00:00+01:00'\n    tick: true\n"
        "    expect: nothing\n  - at: '2026-11-30T07:00:01+01:00'\n    from: console:alice\n"
        "    say: Bonjour\n    expect: nothing\n",
        encoding="utf-8",
    )
    result = run_story(story)
    assert len(result.failures) == 1 and "expected no message" in result.failures[0]


def test_a_malformed_story_is_a_clear_error(tmp_path: Path) -> None:
    story = tmp_path / "bad.yaml"
    story.write_text("story: bad\nsteps:\n  - at: x\n    colour: red\n", encoding="utf-8")
    with pytest.raises(StoryError, match="step 1: unknown key 'colour'"):
        run_story(story)
