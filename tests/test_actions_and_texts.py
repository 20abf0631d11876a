"""The menu's actions (reread the charter, the journal, help, the digest on demand), the refusals
of `select_own_question`, signing after an invitation, and `fill` on odd templates."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from bot.app import build_app
from bot.clock import VirtualClock
from bot.config import Config
from bot.data.invitations import create_invitation
from bot.engine.texts import fill, render
from bot.i18n import Catalogs
from bot.messages import Inbound
from tests.conftest import (
    QUESTION_EN,
    QUESTION_FR,
    ROOT,
    Conversation,
    asking,
    say,
    signing,
)
from tests.storeview import StoreView

MENTEE_MENU = ["Poser une question", "Poursuivre une question", "Relire mes échanges",
               "Relire la charte", "Aide"]
MENTOR_MENU = ["Questions en attente", "Répondre à une question", "Rediriger une question",
               "Relire la charte", "Aide"]
HELP_START = "Cet espace est un outil de travail asynchrone entre deux temps d'accompagnement."


def signed(conversation: Conversation) -> None:
    conversation.run(signing("console:bob", "Bob Martin", "2026-11-30T06:00")
                     + signing("console:alice", "Alice Durand", "2026-11-30T06:10"))


def to(lines: list[dict[str, Any]], who: str) -> list[dict[str, Any]]:
    return [line for line in lines if line["to"] == who]


# -- the mentee's menu ------------------------------------------------------------------------


def test_the_journal_is_empty_before_any_question(conversation: Conversation) -> None:
    signed(conversation)
    out = conversation.run([say("2026-11-30T07:00:00+01:00", "console:alice",
                                "Relire mes échanges")])
    assert [line["text"] for line in out] == [
        "Vous n'avez encore envoyé aucune question. Vos échanges apparaîtront ici.",
        out[1]["text"]]
    assert out[1]["choices"] == MENTEE_MENU  # back to the menu


def test_the_journal_lists_each_question_with_its_date_and_status(
        conversation: Conversation) -> None:
    signed(conversation)
    conversation.run(asking("console:alice", QUESTION_FR, "2026-11-30T07:30")
                     + asking("console:alice", QUESTION_FR, "2026-11-30T07:40"))
    out = conversation.run([say("2026-11-30T07:50:00+01:00", "console:alice",
                                "Relire mes échanges")])
    assert out[0]["to"] == "console:alice"
    assert out[0]["text"] == (
        "Vos questions (2) :\n\n"
        f"Q1 — 30 novembre 2026 à 07:30 — envoyée\n{QUESTION_FR[3]}\n\n"
        f"Q2 — 30 novembre 2026 à 07:40 — envoyée\n{QUESTION_FR[3]}")
    assert out[1]["choices"] == MENTEE_MENU

    # the mentor reads them in the 08:00 digest and answers Q1: the statuses follow
    conversation.run([{"at": "2026-11-30T08:00:00+01:00", "tick": True},
                      say("2026-11-30T09:00:00+01:00", "console:bob", "/repondre Q1 Une piste.")])
    out = conversation.run([say("2026-11-30T09:10:00+01:00", "console:alice", "/journal")])
    assert "Q1 — 30 novembre 2026 à 07:30 — répondue" in out[0]["text"]
    assert "Q2 — 30 novembre 2026 à 07:40 — lue par votre mentor" in out[0]["text"]


def test_the_journal_is_in_the_mentees_language(new_conversation: Any) -> None:
    conversation: Conversation = new_conversation()
    conversation.run(signing("console:bob", "Bob Martin", "2026-11-30T06:00")
                     + signing("console:emma", "Emma Smith", "2026-11-30T06:10")
                     + asking("console:emma", QUESTION_EN, "2026-11-30T07:30"))
    out = conversation.run([say("2026-11-30T07:50:00+01:00", "console:emma", "/journal")])
    text = out[0]["text"]
    assert text.startswith("Your questions (1)")
    assert "Q1" in text and QUESTION_EN[3] in text
    assert "envoyée" not in text


def test_rereading_the_charter_shows_every_article(conversation: Conversation) -> None:
    signed(conversation)
    out = conversation.run([say("2026-11-30T07:00:00+01:00", "console:alice",
                                "Relire la charte")])
    text = out[0]["text"]
    assert text.startswith("Voici la charte que vous avez signée :\n\n")
    positions = [text.index(f"{n}. ") for n in range(1, 7)]
    assert positions == sorted(positions)  # the six articles, in order
    assert "Nature de l'outil" in text and "Limites du dispositif" in text
    assert out[1]["choices"] == MENTEE_MENU


def test_rereading_the_charter_in_english(new_conversation: Any) -> None:
    conversation: Conversation = new_conversation()
    conversation.run(signing("console:emma", "Emma Smith", "2026-11-30T06:10"))
    out = conversation.run([say("2026-11-30T07:00:00+01:00", "console:emma", "4")])
    text = out[0]["text"]
    assert "Charte d'usage" not in text and "Nature de l'outil" not in text
    catalogs = Catalogs(ROOT / "locales")
    with catalogs.use("en"):
        assert render("Voici la charte que vous avez signée :") in text


def test_help_lists_the_commands_of_the_persons_role(conversation: Conversation) -> None:
    signed(conversation)
    out = conversation.run([
        say("2026-11-30T07:00:00+01:00", "console:alice", "Aide"),
        say("2026-11-30T07:01:00+01:00", "console:bob", "Aide"),
    ])
    alice, bob = to(out, "console:alice"), to(out, "console:bob")
    assert alice[0]["text"].startswith(HELP_START) and "3114" in alice[0]["text"]
    assert "/journal" in alice[0]["text"] and "/digest" not in alice[0]["text"]
    assert alice[1]["choices"] == MENTEE_MENU
    assert bob[0]["text"].startswith(HELP_START)
    assert "/digest" in bob[0]["text"] and "/journal" not in bob[0]["text"]
    assert bob[1]["choices"] == MENTOR_MENU


# -- the mentor's menu ------------------------------------------------------------------------


def test_pending_questions_on_demand_only_inside_opening_hours(
        conversation: Conversation) -> None:
    signed(conversation)
    conversation.run(asking("console:alice", QUESTION_FR, "2026-11-30T07:30"))
    early = conversation.run([say("2026-11-30T07:45:00+01:00", "console:bob",
                                  "Questions en attente")])
    assert early[0]["text"].startswith("Nous sommes en dehors des heures d'ouverture.")
    assert "lundi 30 novembre à 08:00" in early[0]["text"]
    assert not any(line["text"].startswith("Q1") for line in early)
    assert early[-1]["choices"] == MENTOR_MENU

    later = conversation.run([say("2026-11-30T09:45:00+01:00", "console:bob",
                                  "Questions en attente")])
    mine = to(later, "console:bob")
    assert any(line["text"].startswith("Synthèse du lundi 30 novembre à 09:45") for line in mine)
    assert any(line["text"].startswith("Q1 — Alice Durand") for line in mine)
    # issue 14: the question's choices are the last shown (the menu is not said again)
    assert mine[-1]["choices"] == ["Répondre Q1", "Rediriger Q1"]


def test_pending_questions_when_there_are_none(conversation: Conversation) -> None:
    signed(conversation)
    out = conversation.run([say("2026-11-30T10:00:00+01:00", "console:bob",
                                "Questions en attente")])
    assert out[0]["text"] == "Aucune question en attente."


# -- following up a question: refusals --------------------------------------------------------


def test_following_up_an_unknown_question_goes_back_to_the_menu(
        conversation: Conversation) -> None:
    signed(conversation)
    conversation.run(asking("console:alice", QUESTION_FR, "2026-11-30T07:30"))
    out = conversation.run([
        say("2026-11-30T07:40:00+01:00", "console:alice", "Poursuivre une question"),
        say("2026-11-30T07:40:01+01:00", "console:alice", "Q7"),
        say("2026-11-30T07:40:02+01:00", "console:alice", "Poursuivre une question"),
        say("2026-11-30T07:40:03+01:00", "console:alice", "q1"),
    ])
    texts = [line["text"] for line in out]
    assert texts[1] == "Je ne trouve pas la question Q7 parmi les vôtres."
    assert out[2]["choices"] == MENTEE_MENU
    # a known question (its id is normalised) leads to the follow-up step
    assert texts[-1].startswith("Votre suite pour Q1")
    person = StoreView(conversation.config.storage.path).load_person("console:alice")
    assert person is not None and person.state["step"] == "followup"


def test_a_mentee_cannot_follow_up_another_mentees_question(new_conversation: Any) -> None:
    conversation: Conversation = new_conversation()
    conversation.run(signing("console:bob", "Bob Martin", "2026-11-30T06:00")
                     + signing("console:alice", "Alice Durand", "2026-11-30T06:10")
                     + signing("console:emma", "Emma Smith", "2026-11-30T06:20")
                     + asking("console:emma", QUESTION_EN, "2026-11-30T07:30"))
    out = conversation.run([
        say("2026-11-30T07:40:00+01:00", "console:alice", "Poursuivre une question"),
        say("2026-11-30T07:40:01+01:00", "console:alice", "Q1"),
    ])
    assert out[1]["text"] == "Je ne trouve pas la question Q1 parmi les vôtres."
    assert out[2]["choices"] == MENTEE_MENU
    [question] = StoreView(conversation.config.storage.path).questions("console:emma")
    assert question.thread == []


# -- signing after an invitation --------------------------------------------------------------


def test_an_invited_mentee_gets_the_name_they_sign_with(config: Config) -> None:
    now = datetime.fromisoformat("2026-11-30T07:00:00+01:00")
    app = build_app(config, VirtualClock(now))
    code, _ = create_invitation(app.engine, "console:bob", 14)
    texts = [f"/start {code}", "1", *["1"] * 6, "  Zoé   Martin "]
    outs = []
    for i, text in enumerate(texts):
        outs = app.engine.handle(Inbound("telegram:42", f"m{i}", now + timedelta(seconds=i),
                                         text=text))
    assert outs[0].text.startswith("Merci Zoé Martin. La charte est signée le lundi 30 novembre")
    profile = app.engine.profile("telegram:42")
    assert profile is not None and profile.name == "Zoé Martin"
    person = StoreView(config.storage.path).load_person("telegram:42")
    assert person is not None
    [signature] = person.signatures
    assert signature.name == "Zoé Martin" and signature.channel == "telegram"
    assert signature.version == app.engine.charter_version
    # the name is kept across a restart (it is in the shared store)
    again = build_app(config, VirtualClock(now))
    assert again.engine.profile("telegram:42").name == "Zoé Martin"  # type: ignore[union-attr]


def test_a_roster_name_is_not_replaced_by_the_signature(conversation: Conversation) -> None:
    conversation.run(signing("console:alice", "Alice Marie Durand", "2026-11-30T06:10"))
    app = build_app(conversation.config,
                    VirtualClock(datetime.fromisoformat("2026-11-30T07:00:00+01:00")))
    assert app.engine.profile("console:alice").name == "Alice Durand"  # type: ignore[union-attr]
    person = StoreView(conversation.config.storage.path).load_person("console:alice")
    assert person is not None and person.signatures[-1].name == "Alice Marie Durand"


# -- fill -------------------------------------------------------------------------------------


def test_fill_replaces_plain_names() -> None:
    assert fill("Bonjour {name}, voici {qid}.", {"name": "Alice", "qid": "Q1"}) == \
        "Bonjour Alice, voici Q1."
    assert fill("{count} question(s)", {"count": 3}) == "3 question(s)"  # any value, as str
    assert fill("{a}{a}", {"a": "x"}) == "xx"


def test_fill_without_placeholders_returns_the_template_untouched() -> None:
    assert fill("Merci.", {"name": "Alice"}) == "Merci."
    # a lone brace with no placeholder is not a format string: left as written
    assert fill("Un } isolé et un { aussi", {}) == "Un } isolé et un { aussi"


def test_fill_doubled_braces_are_literal() -> None:
    assert fill("{{littéral}}", {}) == "{littéral}"
    assert fill("{{name}} vaut {name}", {"name": "Alice"}) == "{name} vaut Alice"


def test_fill_keeps_unknown_placeholders_visible() -> None:
    assert fill("Bonjour {name}, {inconnu}", {"name": "Alice"}) == "Bonjour Alice, {inconnu}"


@pytest.mark.parametrize("template", [
    "{0}",                  # positional
    "{}",                   # empty
    "{name!r}",             # a conversion
    "{name:>10}",           # a format spec
    "{name.upper}",         # attribute access
    "{name.__class__}",     # ... which could reach into Python objects
    "{name[0]}",            # index access
    "{name[key]}",          # index by name
    "{Name}",               # not a plain lower-case name
])
def test_fill_leaves_anything_but_a_plain_name_as_written(template: str) -> None:
    assert fill(template, {"name": "Alice", "Name": "Alice", "0": "zero"}) == template


def test_fill_keeps_lone_braces_and_still_fills_the_placeholders() -> None:
    assert fill("{name} }", {"name": "Al"}) == "Al }"
    assert fill("{ {name}", {"name": "Al"}) == "{ Al"
    assert fill("{name", {"name": "Al"}) == "{name"


def test_render_translates_then_fills() -> None:
    catalogs = Catalogs(ROOT / "locales")
    source = "Vos questions ({count}) :"
    assert render(source, {"count": 2}) == "Vos questions (2) :"  # no locale: the source
    with catalogs.use("en"):
        english = render(source, {"count": 2})
    assert english != "Vos questions (2) :" and "2" in english and "{count}" not in english
    assert render("Merci.") == "Merci."
