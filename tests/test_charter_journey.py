"""The charter as a conversation (issue 14, item 8): "Article 3/6"; after refusing an article,
"Relire la charte" resumes at that article; after signing a changed charter again, the bot
says which articles changed and returns to the question that was being written."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from bot.config import Config
from tests.conftest import ARTICLES, ROOT, Conversation, make_config, say, signing

ALICE = "console:alice"


def at(minute: int, second: int = 0) -> str:
    return f"2026-11-30T09:{minute:02d}:{second:02d}+01:00"


def texts(out: list[dict[str, Any]], who: str = ALICE) -> list[str]:
    return [line["text"] for line in out if line["to"] == who]


def test_each_article_shows_its_position(conversation: Conversation) -> None:
    out = texts(conversation.run(signing(ALICE, "Alice Durand", "2026-11-30T09:00")))
    intro = next(t for t in out if t.startswith("Charte d'usage"))
    assert "Article" not in intro.splitlines()[0]  # the introduction is not numbered
    shown = [t.splitlines()[:2] for t in out if t.startswith("Article ")]
    assert shown == [
        ["Article 1/6", "1. Nature de l'outil"],
        ["Article 2/6", "2. Confidentialité et protection des informations"],
        ["Article 3/6", "3. Temporalité et modalités de réponse"],
        ["Article 4/6", "4. Responsabilité et posture"],
        ["Article 5/6", "5. Traçabilité des échanges"],
        ["Article 6/6", "6. Limites du dispositif"],
    ]


def test_rereading_resumes_at_the_refused_article(conversation: Conversation) -> None:
    out = conversation.run([
        say(at(0), ALICE, "Bonjour"),
        say(at(1), ALICE, "Lire l'article 1"),
        say(at(2), ALICE, "J'accepte"),
        say(at(3), ALICE, "J'accepte"),
        say(at(4), ALICE, "Je n'accepte pas"),  # article 3
        say(at(5), ALICE, "peut-être"),  # not a choice: asked again, nothing lost
        say(at(6), ALICE, "Relire la charte"),
    ])
    said = texts(out)
    assert said[-3].startswith("Sans l'accord sur chacun des articles")
    assert said[-2].startswith("Je n'ai pas reconnu ce choix.")
    assert said[-1].startswith("Article 3/6\n3. Temporalité")
    out = conversation.run([say(at(7, i), ALICE, "J'accepte") for i in range(4)]
                           + [say(at(8), ALICE, "Alice Durand")])
    said = texts(out)
    assert [t.splitlines()[0] for t in said[:3]] == ["Article 4/6", "Article 5/6", "Article 6/6"]
    assert said[3].startswith("Vous avez accepté les six articles")
    assert said[4].startswith("Merci Alice Durand. La charte est signée")
    # A first signature: nothing changed, nothing interrupted; the menu follows.
    assert not any("ont changé" in t or t.startswith("Reprenons") for t in said)
    assert said[5].startswith("Que souhaitez-vous faire ?")


def test_refusing_the_first_article_rereads_it(conversation: Conversation) -> None:
    out = conversation.run([
        say(at(0), ALICE, "Bonjour"),
        say(at(1), ALICE, "1"),
        say(at(2), ALICE, "2"),  # Je n'accepte pas
        say(at(3), ALICE, "1"),  # Relire la charte
    ])
    assert texts(out)[-1].startswith("Article 1/6\n1. Nature de l'outil")


def flows_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "flows"
    shutil.copytree(ROOT / "flows", copy)
    return copy


def with_flows(config: Config, flows: Path) -> Config:
    return config.model_copy(update={"paths": config.paths.model_copy(update={"flows": flows})})


def test_a_changed_charter_names_its_changes_and_returns_to_the_question(
    tmp_path: Path,
) -> None:
    flows = flows_copy(tmp_path)
    config = with_flows(make_config(tmp_path), flows)
    Conversation(config).run(signing(ALICE, "Alice Durand", "2026-11-30T08:00") + [
        say(at(0), ALICE, "Poser une question"),
        say(at(1), ALICE, "Dans mon équipe, une collègue conteste systématiquement les "
                          "priorités fixées en réunion."),
    ])
    charter = flows / "charter.yaml"
    text = charter.read_text(encoding="utf-8")
    text = text.replace("du lundi au vendredi, de 8h à 18h.", "du lundi au vendredi, de 9h à 17h.")
    text = text.replace("Cette mémoire permet", "Cette mémoire partagée permet")
    charter.write_text(text, encoding="utf-8")
    # The next message comes while the charter has changed: sign again first.
    out = Conversation(config).run([
        say(at(10), ALICE, "J'ai essayé d'en parler avec elle après la réunion ; je pense "
                           "qu'elle se sent exclue."),
    ])
    said = texts(out)
    assert said[0].startswith("La charte a été modifiée depuis votre signature")
    out = Conversation(config).run(
        [say(at(11, i), ALICE, "1") for i in range(1 + ARTICLES)]
        + [say(at(12), ALICE, "Alice Durand")])
    said = texts(out)
    thanks = next(i for i, t in enumerate(said) if t.startswith("Merci Alice Durand"))
    assert said[thanks + 1] == (
        "Depuis votre précédente signature, ces articles ont changé :\n"
        "• 3. Temporalité et modalités de réponse\n"
        "• 5. Traçabilité des échanges")
    assert said[thanks + 2] == "Reprenons là où vous en étiez."
    assert said[thanks + 3].startswith("2/3")  # the analysis, the context kept
    assert len(said) == thanks + 4
    out = Conversation(config).run([
        say(at(13), ALICE, "J'ai essayé d'en parler avec elle après la réunion ; je pense "
                           "qu'elle se sent exclue."),
        say(at(14), ALICE, "J'hésite entre l'associer à la préparation ou recadrer : quel "
                           "regard sur ma posture ?"),
    ])
    review = texts(out)[-1]
    assert "une collègue conteste systématiquement les priorités" in review
