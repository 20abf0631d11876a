"""The proofreading pass of issue 14, through the engine: texts read as a person reads them."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from bot.engine.charter import charter_version
from bot.engine.texts import REQUIRED_TEXTS
from bot.errors import FlowError
from bot.flows.loader import load_flows
from tests.conftest import BASE_CONFIG, QUESTION_FR, Conversation, asking, say, signing

ROOT = Path(__file__).resolve().parent.parent

PHONE = "06 12 34 56 78"
EMAIL = "planted.leak@example.org"


def ready(conversation: Conversation) -> None:
    conversation.run(
        signing("console:bob", "Bob Martin", "2026-11-30T06:00")
        + signing("console:alice", "Alice Durand", "2026-11-30T06:10")
    )


def test_the_kinds_of_identifying_data_found_are_listed_as_a_sentence(
    conversation: Conversation,
) -> None:
    ready(conversation)
    out = conversation.run(asking("console:alice", [
        "Poser une question",
        f"Mon équipe me joint au {PHONE} ou écrit à {EMAIL} à toute heure, même le soir.",
    ], "2026-11-30T07:00"))
    text = "\n".join(line["text"] for line in out)
    assert "identifier une personne ou une organisation (charte, article 2) : " in text
    kinds = text.split("organisation (charte, article 2) : ", 1)[1].split(". Il n", 1)[0]
    assert kinds in ("adresse e-mail et numéro de téléphone",
                     "numéro de téléphone et adresse e-mail")
    assert ";" not in kinds


def test_the_menu_explains_itself_once_then_only_asks(conversation: Conversation) -> None:
    ready(conversation)
    explained = "Cet espace est un outil de travail asynchrone"
    first = [line["text"] for line in conversation.lines if line["to"] == "console:alice"]
    assert sum(explained in text for text in first) == 1
    out = conversation.run([say("2026-11-30T07:00:00+01:00", "console:alice", "Relire mes échanges"),
                            say("2026-11-30T07:01:00+01:00", "console:alice", "3")])
    prompts = [line for line in out if line.get("choices")]
    assert [line["text"] for line in prompts] == ["Que souhaitez-vous faire ?"] * 2
    assert "Poser une question" in prompts[-1]["choices"]
    assert not any(explained in line["text"] for line in out)


def test_a_short_prompt_without_a_first_text_is_a_flow_error(tmp_path: Path) -> None:
    root = tmp_path / "flows"
    shutil.copytree(ROOT / "flows", root)
    menu = (root / "menu.yaml").read_text(encoding="utf-8")
    (root / "menu.yaml").write_text(menu.replace(
        "  refused:\n", "  orphan:\n    again: Encore ?\n    next: mentee\n  refused:\n", 1)
        if "  refused:\n" in menu else menu + "  orphan:\n    again: Encore ?\n    next: mentee\n",
        encoding="utf-8")
    with pytest.raises(FlowError) as caught:
        load_flows(root, REQUIRED_TEXTS)
    assert any("menu.yaml" in p and "'again' is what a step says the next times" in p
               for p in caught.value.problems)


def test_no_internal_version_is_shown_to_people(conversation: Conversation) -> None:
    ready(conversation)
    version = charter_version(load_flows(conversation.config.paths.flows, REQUIRED_TEXTS))
    said = "\n".join(line["text"] for line in conversation.lines)
    assert "La charte est signée le lundi 30 novembre" in said
    assert version not in said and "version" not in said


def test_the_digest_summary_counts_in_words_and_names_people_as_a_sentence(
    conversation: Conversation,
) -> None:
    conversation.run(
        signing("console:bob", "Bob Martin", "2026-11-30T06:00")
        + signing("console:alice", "Alice Durand", "2026-11-30T06:10")
        + signing("console:emma", "Emma Smith", "2026-11-30T06:20")
        + asking("console:alice", QUESTION_FR, "2026-11-30T07:00")
        + asking("console:alice", QUESTION_FR, "2026-11-30T07:10")
        + asking("console:emma", QUESTION_FR, "2026-11-30T07:20")
    )
    out = conversation.run([{"at": "2026-11-30T08:00:00+01:00", "tick": True}])
    header = next(line["text"] for line in out
                  if line["to"] == "console:bob" and line["text"].startswith("Synthèse"))
    assert header == ("Synthèse du lundi 30 novembre à 08:00 : 3 questions en attente et "
                      "0 besoin d'aide signalé. Personnes concernées : Alice Durand et Emma Smith.")


def test_one_date_format_everywhere(conversation: Conversation) -> None:
    """Weekday, day, month in words, and the year when it may be far: never an abbreviated
    month, a numeric date or an ISO timestamp in anything said to a person."""
    ready(conversation)
    conversation.run(
        asking("console:alice", QUESTION_FR, "2026-11-30T07:00")
        + [{"at": "2026-11-30T08:00:00+01:00", "tick": True},
           say("2026-11-30T09:00:00+01:00", "console:bob", "/repondre Q1 Une piste."),
           say("2026-11-30T09:05:00+01:00", "console:bob", "/absence 21/12 3/1"),
           say("2026-11-30T09:06:00+01:00", "console:bob", "/absence"),
           say("2026-11-30T09:10:00+01:00", "console:alice", "/export"),
           say("2026-11-30T09:11:00+01:00", "console:alice", "Relire mes échanges")]
    )
    said = "\n".join(line["text"] for line in conversation.lines)
    assert "30 novembre 2026 à 07:00" in said  # lists: the year, the time
    assert "lundi 21 décembre 2026" in said  # days
    abbreviated = re.findall(r"\b\d{1,2} (?:janv|févr|avr|juil|sept|oct|nov|déc)\.", said)
    numeric = re.findall(r"\b20\d\d-\d\d-\d\d|\b\d{1,2}/\d{1,2}/\d{2,4}\b",
                         said)
    assert abbreviated == [] and numeric == []
    assert not re.search(r"\b(?:du|le) \d{1,2}/\d{1,2}\b", said)  # "1/3" is a step, not a date


def test_help_speaks_to_each_role_and_states_the_configured_hours(
    new_conversation: Any,
) -> None:
    conversation = new_conversation(
        BASE_CONFIG + 'hours: {days: [tue, wed, thu, fri, sat], open: "09:00", close: "17:00"}\n')
    ready(conversation)
    out = conversation.run([say("2026-12-01T09:00:00+01:00", "console:alice", "/aide"),
                            say("2026-12-01T09:01:00+01:00", "console:bob", "/aide"),
                            say("2026-12-01T09:02:00+01:00", "console:emma", "/help")])
    alice, bob, emma = (next(line["text"] for line in out if line["to"] == who)
                        for who in ("console:alice", "console:bob", "console:emma"))
    assert "votre mentor lit les messages du mardi au samedi, de 09:00 à 17:00" in alice
    assert "votre mentor" not in bob
    assert "personnes que vous accompagnez" in bob and "du mardi au samedi, de 09:00" in bob
    assert "3114" in bob and "/digest" in bob
    assert "your mentor reads messages from Tuesday to Saturday, 09:00 to 17:00" in emma
    assert not any("8h" in text or "18h" in text for text in (alice, bob, emma))
