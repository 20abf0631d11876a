"""Issue 13 through the engine: one identifying verdict for every text a person types, the
relationship's own parties, placeholders numbered per question, durable decisions."""

from __future__ import annotations

import re

from bot.config import Config
from bot.engine.commands import COMMANDS
from bot.flows.loader import load_flows
from bot.flows.model import Expect
from bot.store import SQLiteStore
from tests.conftest import QUESTION_FR, Conversation, asking, say, signing
from tests.storeview import StoreView, raw_text

PHONE = "06 12 34 56 78"
EMAIL = "planted.leak@example.org"
PLANTED = (
    f"Pour la suite de notre travail sur l'équipe, appelez-moi au {PHONE} "
    f"ou écrivez à {EMAIL} quand vous voulez."
)
LEAKS = (PHONE, PHONE.replace(" ", ""), EMAIL, "planted.leak")


def stored_text(config: Config) -> str:
    """Every byte of the data directory (the SQLite database and its journal files)."""
    return raw_text(config.storage.path)


def place(config: Config, pid: str, state: dict[str, object]) -> None:
    """Put a person at a step, as a restart would find them (a fixture, between two runs)."""
    store = SQLiteStore(config.storage.path)
    try:
        with store.turn([pid]) as uow:
            uow.person(pid).state = state
    finally:
        store.close()


def ready(conversation: Conversation) -> None:
    conversation.run(
        signing("console:bob", "Bob Martin", "2026-11-30T06:00")
        + signing("console:alice", "Alice Durand", "2026-11-30T06:10")
    )


def leaks(conversation: Conversation) -> list[str]:
    sent = "\n".join(line["text"] for line in conversation.lines)
    stored = stored_text(conversation.config)
    return [leak for leak in LEAKS if leak in sent or leak in stored]


def test_text_typed_at_the_menu_is_masked_before_the_journal(
    conversation: Conversation,
) -> None:
    ready(conversation)
    out = conversation.run(
        [say("2026-11-30T07:00:00+01:00", "console:alice", f"tu peux m'appeler au {PHONE}")]
    )
    assert "1" in str(out[-1].get("choices", "")) or out[-1]["choices"]
    journal = StoreView(conversation.config.storage.path).read_journal("console:alice")
    assert any("[TÉLÉPHONE]" in entry.text for entry in journal)
    assert leaks(conversation) == []


def test_a_mentor_may_thank_the_mentee_by_name_but_not_name_anyone_else(
    conversation: Conversation,
) -> None:
    ready(conversation)
    conversation.run(asking("console:alice", QUESTION_FR, "2026-11-30T07:30"))
    out = conversation.run(
        [
            say(
                "2026-11-30T09:00:00+01:00",
                "console:bob",
                "/repondre Q1 Merci Alice pour cette question, essayez d'en parler avec elle.",
            )
        ]
    )
    to_alice = [line for line in out if line["to"] == "console:alice"]
    assert to_alice and "Merci Alice pour cette question" in to_alice[0]["text"]
    out = conversation.run(
        [
            say(
                "2026-11-30T09:05:00+01:00",
                "console:bob",
                "/repondre Q1 Voyez avec Julien Petit, il connaît bien ce genre de situation.",
            )
        ]
    )
    assert out[0]["to"] == "console:bob" and "nom de personne" in out[0]["text"]
    assert "Voyez avec [PERSONNE_1], il connaît" in out[0]["text"]
    assert "Julien Petit" not in stored_text(conversation.config)


def test_a_mentee_may_name_her_mentor(conversation: Conversation) -> None:
    ready(conversation)
    out = conversation.run(
        asking(
            "console:alice",
            [
                "Poser une question",
                "Comme Bob me l'a conseillé, je prépare mieux les réunions avec mon équipe.",
            ],
            "2026-11-30T07:30",
        )
    )
    assert out[-1]["text"].startswith("2/3")


def test_placeholders_are_numbered_per_question_across_its_parts(
    conversation: Conversation,
) -> None:
    ready(conversation)
    conversation.run(
        asking(
            "console:alice",
            [
                "Poser une question",
                "Mme Lefebvre, ma responsable, conteste les priorités que je fixe en réunion.",
                "Masquer",
            ],
            "2026-11-30T07:30",
        )
    )
    # A new process, a new part: the same person keeps her number, a new one gets the next.
    out = conversation.run(
        asking(
            "console:alice",
            [
                "J'ai essayé d'en parler avec Mme Lefebvre puis avec Karim Benali, je pense "
                "qu'elle se sent exclue.",
                "Masquer",
            ],
            "2026-11-30T07:40",
        )
    )
    masked = next(line["text"] for line in out if line["text"].startswith("Version masquée"))
    assert "Mme [PERSONNE_1] puis avec [PERSONNE_2]" in masked
    assert "Lefebvre" not in stored_text(conversation.config)
    assert "Karim" not in stored_text(conversation.config)


def test_a_choice_for_a_lost_decision_answers_nothing_else(conversation: Conversation) -> None:
    ready(conversation)
    conversation.run(
        asking(
            "console:alice",
            ["Poser une question", f"Mon chef m'a écrit depuis {EMAIL} pour changer le planning."],
            "2026-11-30T07:30",
        )
    )
    # The person goes back to the menu, then presses "1" meant for the old decision: it does
    # not also pick the menu's first entry ("Poser une question").
    out = conversation.run(
        [
            say("2026-11-30T07:40:00+01:00", "console:alice", "/start"),
            say("2026-11-30T07:40:01+01:00", "console:alice", "1"),
        ]
    )
    last = [line["text"] for line in out[-2:]]
    assert last[0].startswith("Votre message précédent n'a pas été conservé")
    assert not any(text.startswith("1/3") for text in last)
    assert leaks(conversation) == []


def test_the_redirection_text_is_checked_too(conversation: Conversation) -> None:
    ready(conversation)
    conversation.run(asking("console:alice", QUESTION_FR, "2026-11-30T07:30"))
    out = conversation.run(
        [
            say("2026-11-30T09:00:00+01:00", "console:bob", "Rediriger une question"),
            say("2026-11-30T09:00:01+01:00", "console:bob", "Q1"),
            say("2026-11-30T09:00:02+01:00", "console:bob", "Autre professionnel"),
            say("2026-11-30T09:00:03+01:00", "console:bob", f"Le service RH, au {PHONE}."),
        ]
    )
    assert "numéro de téléphone" in out[-1]["text"]
    assert not any(line["to"] == "console:alice" for line in out)
    assert leaks(conversation) == []


def test_no_planted_identifier_reaches_the_store_or_anyone_whatever_the_step(
    conversation: Conversation,
) -> None:
    """Walks every step of every shipped flow, and every command, with a planted phone number
    and e-mail; then greps every stored file and every message sent."""
    ready(conversation)
    conversation.run(asking("console:alice", QUESTION_FR, "2026-11-30T07:30"))
    config = conversation.config
    flows = load_flows(config.paths.flows, ())
    minute = 0

    def at() -> str:
        nonlocal minute
        minute += 1
        return f"2026-11-30T{9 + minute // 60:02d}:{minute % 60:02d}:00+01:00"

    walked = 0
    for flow in flows.flows.values():
        for step in flow.steps.values():
            who = "console:bob" if flow.name == "mentor" else "console:alice"
            if flow.name == "menu":
                who = "console:bob" if step.id == "mentor" else "console:alice"
            place(
                config,
                who,
                {
                    "flow": flow.name,
                    "step": step.id,
                    "answers": {
                        "context": QUESTION_FR[1],
                        "analysis": QUESTION_FR[2],
                        "ask": QUESTION_FR[3],
                        "qid": "Q1",
                    },
                },
            )
            texts = [PLANTED, "1"] if step.expect is Expect.TEXT else [PLANTED]
            conversation.run([say(at(), who, text) for text in texts])
            walked += 1
    assert walked >= 25  # every step of the shipped flows (28 today)
    for name in COMMANDS:
        for who in ("console:alice", "console:bob"):
            if name in {"oublier", "forget", "retirer", "withdraw"}:
                continue  # they erase or silence the person: walked last, below
            conversation.run([say(at(), who, f"/{name} {PLANTED}")])
    conversation.run([say(at(), "console:alice", f"/{PHONE.replace(' ', '')}")])
    conversation.run([say(at(), "console:alice", f"/repondre Q1 {PLANTED}")])
    conversation.run([say(at(), "console:bob", f"/repondre Q1 {PLANTED}"), say(at(), "console:bob", "1")])
    for name in ("retirer", "oublier"):
        conversation.run([say(at(), "console:alice", f"/{name} {PLANTED}"), say(at(), "console:alice", PLANTED)])
    assert leaks(conversation) == []
    assert re.search(r"\[(TÉLÉPHONE|EMAIL)\]", stored_text(config))
