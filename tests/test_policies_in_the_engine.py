"""The charter's policies hold in every conversation: articles 2 (confidentiality),
3 (hours) and 6 (safety), on the virtual clock, through `simulate`."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import BASE_CONFIG, QUESTION_FR, Conversation, asking, make_config, say, signing
from tests.storeview import StoreView, raw_text

EMAIL = "jean.dupont@acme-conseil.fr"
SAFE_CHOICES = ["Je suis en sécurité, reprendre", "Non, pas vraiment", "Revoir les numéros d'aide"]


def stored_text(conversation: Conversation) -> str:
    return raw_text(conversation.config.storage.path)


def ready(conversation: Conversation) -> None:
    conversation.run(
        signing("console:bob", "Bob Martin", "2026-11-30T06:00")
        + signing("console:alice", "Alice Durand", "2026-11-30T06:10")
        + [say("2026-11-30T06:30:00+01:00", "console:alice", "Poser une question")]
    )


# -- article 2: attachments --------------------------------------------------------------


def test_attachments_are_refused_and_only_the_fact_is_kept(conversation: Conversation) -> None:
    ready(conversation)
    kinds = ["image", "document", "audio", "video", "sticker"]
    events = [
        {
            "at": f"2026-11-30T06:40:0{i}+01:00",
            "from": "console:alice",
            "attachment": kind,
            "caption": "capture du tableau de bord client",
        }
        for i, kind in enumerate(kinds)
    ]
    out = conversation.run(events)
    assert len(out) == len(kinds)
    for line, word in zip(
        out,
        ["une image", "un document", "un message vocal", "une vidéo", "un autocollant"],
        strict=True,
    ):
        assert line["text"].startswith(f"Les pièces jointes ({word}) ne sont pas acceptées")
    journal = StoreView(conversation.config.storage.path).read_journal("console:alice")
    refusals = [e for e in journal if e.kind == "attachment_refused"]
    assert [e.text for e in refusals] == kinds
    assert "tableau de bord" not in stored_text(conversation)


# -- article 2: identifying data ---------------------------------------------------------


def test_identifying_text_is_held_not_stored_then_masked(conversation: Conversation) -> None:
    ready(conversation)
    text = f"Mon responsable m'a écrit depuis {EMAIL} pour contester les priorités de la réunion."
    out = conversation.run([say("2026-11-30T06:41:00+01:00", "console:alice", text)])
    # The person sees the kinds found and the masked version, never their data echoed back.
    assert EMAIL not in out[0]["text"] and "adresse e-mail" in out[0]["text"]
    assert "Mon responsable m'a écrit depuis [EMAIL] pour contester" in out[0]["text"]
    assert out[0]["choices"] == ["Masquer ces éléments", "Reformuler"]  # no "not identifying"
    assert EMAIL not in stored_text(conversation)
    # Every `simulate` run is a new process: the decision was kept, masked, in the state.
    out = conversation.run([say("2026-11-30T06:42:00+01:00", "console:alice", "1")])
    assert out[0]["text"] == (
        "Version masquée retenue : Mon responsable m'a écrit depuis [EMAIL] "
        "pour contester les priorités de la réunion."
    )
    assert out[1]["text"].startswith("2/3")
    assert EMAIL not in stored_text(conversation)
    assert "[EMAIL]" in stored_text(conversation)


def test_structured_identifiers_cannot_be_declared_not_identifying(
    conversation: Conversation,
) -> None:
    ready(conversation)
    out = conversation.run(
        [
            say(
                "2026-11-30T06:41:00+01:00",
                "console:alice",
                "Appelez-moi au 06 12 34 56 78 pour parler de la réunion de lundi prochain.",
            ),
            say("2026-11-30T06:42:00+01:00", "console:alice", "Ce n'est pas identifiant"),
        ]
    )[1:]
    # Not a choice offered: the text is taken as a new answer to the step (too short here).
    assert "06 12 34 56 78" not in stored_text(conversation)
    assert not any("Version masquée" in line["text"] for line in out)
    assert "numéro de téléphone" in stored_text(conversation)  # the kind, not the number


def test_rephrase_discards_the_held_text(conversation: Conversation) -> None:
    ready(conversation)
    out = conversation.run(
        [
            say(
                "2026-11-30T06:41:00+01:00",
                "console:alice",
                f"Le client {EMAIL} conteste les priorités fixées lors de la réunion de lundi.",
            ),
            say("2026-11-30T06:42:00+01:00", "console:alice", "Reformuler"),
        ]
    )[1:]
    assert out[0]["text"].startswith("D'accord. Réécrivez votre message")
    out = conversation.run([say("2026-11-30T06:43:00+01:00", "console:alice", QUESTION_FR[1])])
    assert out[0]["text"].startswith("2/3")
    assert EMAIL not in stored_text(conversation)


def test_names_can_be_declared_not_identifying(conversation: Conversation) -> None:
    ready(conversation)
    out = conversation.run(
        [
            say(
                "2026-11-30T06:41:00+01:00",
                "console:alice",
                "Mme Lefebvre, ma responsable, conteste les priorités que je fixe en réunion d'équipe.",
            ),
            say("2026-11-30T06:42:00+01:00", "console:alice", "3"),
        ]
    )
    assert "nom de personne" in out[0]["text"]
    assert "[PERSONNE_1], ma responsable" in out[0]["text"]
    assert out[0]["choices"][-1] == "Ce n'est pas identifiant"
    # The original was not kept: the person sends it again, and its names pass this time.
    assert out[-1]["text"].startswith("D'accord. Votre message n'a pas été gardé")
    assert "Lefebvre" not in stored_text(conversation)
    out = conversation.run(
        [
            say(
                "2026-11-30T06:43:00+01:00",
                "console:alice",
                "Mme Lefebvre, ma responsable, conteste les priorités que je fixe en réunion d'équipe.",
            )
        ]
    )
    assert out[-1]["text"].startswith("2/3")
    assert "Mme Lefebvre, ma responsable" in stored_text(conversation)


def test_deny_list_names_never_pass(tmp_path: Path) -> None:
    conversation = Conversation(
        make_config(
            tmp_path, BASE_CONFIG + "confidentiality: {deny_list: [Société Générale, Thalès]}\n"
        )
    )
    ready(conversation)
    out = conversation.run(
        [
            say(
                "2026-11-30T06:41:00+01:00",
                "console:alice",
                "Le projet pour societe generale et THALES prend du retard depuis deux semaines.",
            )
        ]
    )
    assert "nom de client" in out[0]["text"]


# -- article 3: hours --------------------------------------------------------------------


def test_inside_opening_hours_the_ack_says_today(conversation: Conversation) -> None:
    conversation.run(
        signing("console:bob", "Bob Martin", "2026-11-30T06:00")
        + signing("console:alice", "Alice Durand", "2026-11-30T06:10")
    )
    out = conversation.run(asking("console:alice", QUESTION_FR, "2026-11-30T10:00"))
    assert any(
        line["text"].startswith(
            "Votre question Q1 est envoyée. Votre mentor la lira "
            "aujourd'hui à partir de 13:00"
        )
        for line in out
    )


def test_christmas_and_the_weekend_are_closed(conversation: Conversation) -> None:
    conversation.run(
        signing("console:bob", "Bob Martin", "2026-12-24T17:00")
        + signing("console:alice", "Alice Durand", "2026-12-24T17:10")
    )
    out = conversation.run(
        asking("console:alice", QUESTION_FR, "2026-12-24T18:30")
        + [{"at": "2026-12-28T12:00:00+01:00", "tick": True}]
    )
    assert any("lundi 28 décembre à 08:00" in line["text"] for line in out)
    digests = [line for line in out if line["text"].startswith("Synthèse")]
    assert [d["at"] for d in digests] == ["2026-12-28T08:00:00+01:00"]


def test_a_mentor_absence_postpones_digests_and_the_promise(tmp_path: Path) -> None:
    conversation = Conversation(
        make_config(
            tmp_path,
            BASE_CONFIG.replace(
                'name: "Bob Martin"}',
                'name: "Bob Martin", absences: [{from: "2026-11-30", to: "2026-12-01"}]}',
            ),
        )
    )
    conversation.run(
        signing("console:bob", "Bob Martin", "2026-11-29T06:00")
        + signing("console:alice", "Alice Durand", "2026-11-29T06:10")
    )
    out = conversation.run(
        asking("console:alice", QUESTION_FR, "2026-11-30T10:00")
        + [{"at": "2026-12-02T09:00:00+01:00", "tick": True}]
    )
    assert any("mercredi 2 décembre à 08:00" in line["text"] for line in out)
    digests = [line["at"] for line in out if line["text"].startswith("Synthèse")]
    assert digests == ["2026-12-02T08:00:00+01:00"]


def test_daylight_saving_change(conversation: Conversation) -> None:
    # Summer time ends on Sunday 25 October 2026; Easter Monday 2027 is a holiday.
    conversation.run(
        signing("console:bob", "Bob Martin", "2026-10-23T06:00")
        + signing("console:alice", "Alice Durand", "2026-10-23T06:10")
    )
    out = conversation.run(
        [say("2026-10-24T22:00:00+02:00", "console:alice", "Poser une question")]
        + asking("console:alice", QUESTION_FR[1:], "2026-10-24T22:01", "+02:00")
        + [{"at": "2026-10-26T08:30:00+01:00", "tick": True}]
    )
    assert any("lundi 26 octobre à 08:00" in line["text"] for line in out)
    digests = [line["at"] for line in out if line["text"].startswith("Synthèse")]
    assert digests == ["2026-10-26T08:00:00+01:00"]
    easter = Conversation(conversation.config).run(
        [say("2027-03-27T22:00:00+01:00", "console:alice", "Poser une question")]
        + asking("console:alice", QUESTION_FR[1:], "2027-03-27T22:01")
    )
    assert any("mardi 30 mars à 08:00" in line["text"] for line in easter)


def test_mentor_digest_on_demand_is_refused_outside_hours(conversation: Conversation) -> None:
    conversation.run(signing("console:bob", "Bob Martin", "2026-11-28T10:00"))
    out = conversation.run([say("2026-11-28T10:10:00+01:00", "console:bob", "/digest")])
    assert out[0]["text"].startswith("Nous sommes en dehors des heures d'ouverture")
    assert "lundi 30 novembre à 08:00" in out[0]["text"]
    out = conversation.run([say("2026-11-30T10:10:00+01:00", "console:bob", "/digest")])
    assert out[0]["text"] == "Aucune question en attente."


# -- article 6: safety -------------------------------------------------------------------


def test_distress_is_answered_at_once_at_any_hour_and_flagged(conversation: Conversation) -> None:
    ready(conversation)
    saturday_night = "2026-11-28T23:40:00+01:00"
    out = conversation.run(
        [
            say(
                saturday_night,
                "console:alice",
                "Je n'en peux plus, je pense à en finir avec la vie.",
            )
        ]
    )
    assert out[0]["at"] == saturday_night
    for resource in ("3114", "15", "112", "114", "09 72 39 40 50"):
        assert resource in out[0]["text"]
    # Typed at a question step: not saved as the question's context, and the person is told.
    assert out[1]["text"].startswith("Votre message n'a pas été enregistré")
    assert out[2]["text"].startswith("Êtes-vous en sécurité en ce moment ?")
    assert out[2]["choices"] == SAFE_CHOICES + ["C'était ma réponse, l'enregistrer"]
    # Another message does not dismiss the question.
    out = conversation.run([say("2026-11-28T23:41:00+01:00", "console:alice", "ok")])
    # Each run is a restart: the held text lived in memory only, so it cannot be saved now.
    assert out[-1]["choices"] == SAFE_CHOICES
    out = conversation.run(
        [say("2026-11-28T23:42:00+01:00", "console:alice", "Revoir les numéros")]
    )
    assert "3114" in out[0]["text"]
    out = conversation.run(
        [
            say("2026-11-28T23:43:00+01:00", "console:alice", "1"),
            {"at": "2026-11-30T08:00:00+01:00", "tick": True},
        ]
    )
    assert out[0]["text"].startswith("D'accord. Reprenons.")
    header, flag = (line for line in out if line["to"] == "console:bob")
    assert header["text"].endswith("0 question en attente et 1 besoin d'aide signalé. Personnes concernées : Alice Durand.")
    assert flag["at"] == "2026-11-30T08:00:00+01:00"
    assert flag["text"].startswith(
        "⚠ Besoin d'aide signalé : Alice Durand, le samedi 28 novembre à 23:40"
    )
    assert "en finir" not in stored_text(conversation)


def test_work_idioms_are_not_distress(conversation: Conversation) -> None:
    ready(conversation)
    out = conversation.run(
        [
            say(
                "2026-11-30T06:41:00+01:00",
                "console:alice",
                "Ce projet me tue : le client change les priorités chaque semaine et l'équipe s'épuise.",
            )
        ]
    )
    assert out[0]["text"].startswith("2/3")


def test_help_command_at_any_time(conversation: Conversation) -> None:
    ready(conversation)
    out = conversation.run([say("2026-11-29T03:00:00+01:00", "console:alice", "/help")])
    assert "3114" in out[0]["text"] and "n'est pas un canal d'urgence" in out[0]["text"]


def test_a_mentor_sets_an_absence_with_a_command(conversation: Conversation) -> None:
    conversation.run(
        signing("console:bob", "Bob Martin", "2026-11-27T06:00")
        + signing("console:alice", "Alice Durand", "2026-11-27T06:10")
    )
    out = conversation.run(
        [
            say("2026-11-27T10:00:00+01:00", "console:bob", "/absence 2026-11-30 2026-12-02"),
            say("2026-11-27T10:00:01+01:00", "console:bob", "/absence"),
            say("2026-11-27T10:00:02+01:00", "console:bob", "/absence demain"),
            say("2026-11-27T10:00:03+01:00", "console:alice", "/absence 2026-11-30 2026-12-02"),
        ]
    )
    assert out[0]["text"].startswith(
        "Absence enregistrée du lundi 30 novembre 2026 au mercredi 2 décembre 2026"
    )
    assert out[1]["text"] == (
        "Vos absences à venir :\ndu lundi 30 novembre 2026 au mercredi 2 décembre 2026")
    assert out[2]["text"].startswith("Je ne reconnais pas de date dans « demain »")
    assert out[3]["text"] == "La commande /absence n'est pas disponible pour vous."
    out = conversation.run(
        asking("console:alice", QUESTION_FR, "2026-11-27T20:00")
        + [{"at": "2026-12-03T09:00:00+01:00", "tick": True}]
    )
    assert any("jeudi 3 décembre à 08:00" in line["text"] for line in out)
    assert [line["at"] for line in out if line["text"].startswith("Synthèse")] == [
        "2026-12-03T08:00:00+01:00"
    ]
    out = conversation.run(
        [
            say("2026-12-03T10:00:00+01:00", "console:bob", "/absence annuler"),
            say("2026-12-03T10:00:01+01:00", "console:bob", "/absence"),
        ]
    )
    assert out[1]["text"] == "Aucune absence à venir."


def test_help_is_never_refused_to_a_stranger_and_nothing_is_stored(conversation: Conversation) -> None:
    out = conversation.run([say("2026-11-29T02:00:00+01:00", "console:mallory",
                                "Je veux en finir, je vais me tuer ce soir.")])
    assert "3114" in out[0]["text"]
    assert "réservé aux personnes inscrites" in out[1]["text"]
    assert "console:mallory" not in list(StoreView(conversation.config.storage.path).person_ids())


def test_help_is_given_after_consent_is_withdrawn_without_recording(conversation: Conversation) -> None:
    ready(conversation)
    conversation.run([say("2026-11-30T09:00:00+01:00", "console:alice", "/retirer")])
    store = StoreView(conversation.config.storage.path)
    before = store.read_journal("console:alice")
    out = conversation.run([say("2026-11-30T09:01:00+01:00", "console:alice",
                                "Je n'en peux plus, j'ai envie de mourir.")])
    assert "3114" in out[0]["text"]
    assert out[1]["text"].startswith("Vous avez retiré votre consentement")
    assert store.read_journal("console:alice") == before
    assert store.flags("console:alice") == []


def test_commands_still_work_while_the_safety_question_waits(conversation: Conversation) -> None:
    ready(conversation)
    out = conversation.run([
        say("2026-11-28T23:40:00+01:00", "console:alice", "Je n'en peux plus, j'ai envie de mourir."),
        say("2026-11-28T23:41:00+01:00", "console:alice", "/journal"),
        say("2026-11-28T23:42:00+01:00", "console:alice", "bonjour"),
    ])
    assert out[3]["text"].startswith("Vous n'avez encore envoyé aucune question")
    assert out[-1]["choices"] == SAFE_CHOICES + ["C'était ma réponse, l'enregistrer"]
