"""The proofreading pass of issue 14, through the engine: texts read as a person reads them."""

from __future__ import annotations

from tests.conftest import Conversation, asking, signing

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
