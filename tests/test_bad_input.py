"""Bad input gets a clear answer, and nothing is lost or stored that should not be."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT, Conversation, say, signing
from tests.storeview import StoreView, raw_text


def run_cli(
    *args: str, stdin: str | None = None, cwd: Path = ROOT
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        text=True,
        capture_output=True,
        cwd=cwd,
        timeout=120,
        check=False,
    )


def signed_alice(conversation: Conversation) -> None:
    conversation.run(signing("console:alice", "Alice Durand"))


def test_empty_and_whitespace_messages_are_answered_and_keep_the_choices(
    conversation: Conversation,
) -> None:
    signed_alice(conversation)
    for i, text in enumerate(["", "   \n\t "]):
        [answer] = conversation.run([say(f"2026-11-30T07:10:0{i}+01:00", "console:alice", text)])
        assert answer["text"].startswith("Votre message est vide")
        assert answer["choices"][0] == "Poser une question"


def test_a_20000_character_message_is_refused_with_a_bound_and_not_stored(
    config: object, conversation: Conversation
) -> None:
    signed_alice(conversation)
    conversation.run([say("2026-11-30T07:10:00+01:00", "console:alice", "Poser une question")])
    huge = "mot " * 5000
    [answer] = conversation.run([say("2026-11-30T07:11:00+01:00", "console:alice", huge)])
    assert "20000 caractères, au plus 4000" in answer["text"]
    store = StoreView(conversation.config.storage.path)
    journal = store.read_journal("console:alice")
    assert all(huge.strip() not in e.text for e in journal)
    assert journal[-2].kind == "refused_too_long" and journal[-2].text == ""
    # The step is unchanged: a proper context is still expected.
    state = store.load_person("console:alice")
    assert state is not None and state.state["step"] == "context"


def test_an_answer_that_matches_no_choice_gets_the_choices_again(
    conversation: Conversation,
) -> None:
    out = conversation.run(
        [
            say("2026-11-30T07:00:00+01:00", "console:alice", "Bonjour"),
            say("2026-11-30T07:00:01+01:00", "console:alice", "peut-être"),
            say("2026-11-30T07:00:02+01:00", "console:alice", "7"),
        ]
    )
    assert out[-1]["text"].startswith("Je n'ai pas reconnu ce choix")
    assert out[-1]["choices"] == ["Lire l'article 1"]
    assert out[-2]["choices"] == ["Lire l'article 1"]


def test_choices_by_label_any_case_or_number(conversation: Conversation) -> None:
    out = conversation.run(
        [
            say("2026-11-30T07:00:00+01:00", "console:alice", "Bonjour"),
            say("2026-11-30T07:00:01+01:00", "console:alice", "LIRE L'ARTICLE 1"),
            say("2026-11-30T07:00:02+01:00", "console:alice", "j’accepte"),
            say("2026-11-30T07:00:03+01:00", "console:alice", "1."),
        ]
    )
    assert [line["text"][:11] for line in out[2:]] == ["Article 1/6", "Article 2/6", "Article 3/6"]


def test_emoji_only_text_is_explained(conversation: Conversation) -> None:
    signed_alice(conversation)
    out = conversation.run(
        [
            say("2026-11-30T07:10:00+01:00", "console:alice", "Poser une question"),
            say("2026-11-30T07:10:01+01:00", "console:alice", "😀🙏👍"),
        ]
    )
    assert out[-1]["text"].startswith("Je ne peux pas interpréter un message sans mots")


def test_commands_by_role(conversation: Conversation) -> None:
    signed_alice(conversation)
    out = conversation.run(
        [
            say("2026-11-30T07:10:00+01:00", "console:alice", "/digest"),
            say("2026-11-30T07:10:01+01:00", "console:alice", "/repondre Q1 non"),
            say("2026-11-30T07:10:02+01:00", "console:alice", "/inconnue"),
            say("2026-11-30T07:10:03+01:00", "console:alice", "/journal"),
        ]
    )
    assert out[0]["text"] == "La commande /digest n'est pas disponible pour vous."
    assert out[1]["text"] == "La commande /repondre n'est pas disponible pour vous."
    assert out[2]["text"].startswith(
        "La commande /inconnue n'existe pas. Commandes disponibles : /aide, /journal"
    )
    assert out[3]["text"].startswith("Vous n'avez encore envoyé aucune question")


def test_help_is_available_before_signing_and_names_the_resources(
    conversation: Conversation,
) -> None:
    out = conversation.run([say("2026-11-30T07:00:00+01:00", "console:alice", "/aide")])
    text = out[0]["text"]
    for resource in ("3114", "15", "112", "114", "09 72 39 40 50"):
        assert resource in text


def test_commands_need_the_charter_first(conversation: Conversation) -> None:
    out = conversation.run([say("2026-11-30T07:00:00+01:00", "console:alice", "/journal")])
    assert out[0]["text"] == "La commande /journal sera disponible une fois la charte signée."


def test_nothing_else_before_the_charter_is_signed(conversation: Conversation) -> None:
    out = conversation.run(
        [say("2026-11-30T07:00:00+01:00", "console:alice", "Poser une question")]
    )
    assert out[0]["text"].startswith("Bienvenue")
    assert out[1]["text"].startswith("Charte d'usage")


def test_an_unknown_sender_gets_one_polite_answer_and_nothing_is_stored(
    conversation: Conversation,
) -> None:
    out = conversation.run(
        [say("2026-11-30T07:00:00+01:00", "console:mallory", "Bonjour, je m'appelle Mallory")]
    )
    assert len(out) == 1 and "réservé aux personnes inscrites" in out[0]["text"]
    store = StoreView(conversation.config.storage.path)
    assert "console:mallory" not in list(store.person_ids())
    raw = raw_text(conversation.config.storage.path)
    assert "Mallory" not in raw and "mallory" not in raw


def test_signature_needs_a_full_name(conversation: Conversation) -> None:
    events = signing("console:alice", "Alice")
    out = conversation.run(events)
    assert out[-1]["text"].startswith("Écrivez votre prénom et votre nom")


def test_refusing_an_article_explains_and_offers_to_reread(conversation: Conversation) -> None:
    out = conversation.run(
        [
            say("2026-11-30T07:00:00+01:00", "console:alice", "Bonjour"),
            say("2026-11-30T07:00:01+01:00", "console:alice", "1"),
            say("2026-11-30T07:00:02+01:00", "console:alice", "Je n'accepte pas"),
        ]
    )
    assert out[-1]["text"].startswith("Sans l'accord sur chacun des articles")
    assert out[-1]["choices"] == ["Relire la charte"]


def test_malformed_simulate_line_gives_its_number_and_exit_1(tmp_path: Path) -> None:
    script = tmp_path / "s.jsonl"
    script.write_text(
        json.dumps({"at": "2026-11-30T07:00:00+01:00", "from": "console:alice", "text": "Bonjour"})
        + "\n{not json\n"
    )
    result = run_cli("simulate", str(script), "--data", str(tmp_path / "d"))
    assert result.returncode == 1
    assert f"{script}:2: not valid JSON" in result.stderr
    assert "Traceback" not in result.stderr


def test_simulate_reads_stdin_and_checks_each_field(tmp_path: Path) -> None:
    cases = {
        '{"at": "2026-11-30T07:00:00", "from": "console:alice", "text": "x"}': "needs a UTC offset",
        '{"at": "2026-11-30T07:00:00+01:00", "from": "console:alice"}': "either 'text' or 'attachment'",
        '{"at": "2026-11-30T07:00:00+01:00", "from": "console:alice", "attachment": "gif"}': "'attachment' must be one of",
        '{"at": "2026-11-30T07:00:00+01:00", "tick": true, "text": "x"}': "a tick event is",
        '{"at": "2026-11-30T07:00:00+01:00", "from": "console:alice", "text": "x", "colour": 1}': "unknown key 'colour'",
        "[1, 2]": "must be a JSON object",
    }
    for line, message in cases.items():
        result = run_cli("simulate", "-", "--data", str(tmp_path / "d"), stdin=line + "\n")
        assert result.returncode == 1, line
        assert "<stdin>:1:" in result.stderr and message in result.stderr, result.stderr
    result = run_cli(
        "simulate",
        "-",
        "--data",
        str(tmp_path / "d"),
        stdin=(
            '{"at": "2026-11-30T08:00:00+01:00", "tick": true}\n'
            '{"at": "2026-11-30T07:00:00+01:00", "tick": true}\n'
        ),
    )
    assert (
        result.returncode == 1
        and "<stdin>:2: events must be in non-decreasing time" in result.stderr
    )


def test_simulate_output_format(tmp_path: Path) -> None:
    result = run_cli(
        "simulate",
        "-",
        "--data",
        str(tmp_path / "d"),
        stdin=json.dumps(
            {"at": "2026-11-30T09:00:00+01:00", "from": "console:alice", "text": "Bonjour"}
        )
        + "\n",
    )
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert lines[0] == {
        "at": "2026-11-30T09:00:00+01:00",
        "to": "console:alice",
        "text": lines[0]["text"],
    }
    assert lines[1]["choices"] == ["Lire l'article 1"]


def test_a_flow_with_a_yaml_error_is_reported_with_its_position(tmp_path: Path) -> None:
    flows = tmp_path / "flows"
    flows.mkdir()
    for f in (ROOT / "flows").glob("*.yaml"):
        (flows / f.name).write_text(f.read_text(encoding="utf-8"), encoding="utf-8")
    (flows / "menu.yaml").write_text(
        "flow: menu\nsteps:\n  mentee:\n    say: [oops\n", encoding="utf-8"
    )
    config = tmp_path / "config.yaml"
    config.write_text(f"paths: {{flows: {flows}, locales: {ROOT / 'locales'}}}\n")
    result = run_cli("flows", "validate", "--config", str(config))
    assert result.returncode == 1
    assert "menu.yaml:5:1:" in result.stderr or "menu.yaml:4:" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def test_a_config_with_an_unknown_key_is_one_clear_line(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("hours:\n  opne: '08:00'\n")
    result = run_cli("simulate", "-", "--config", str(config), stdin="")
    assert result.returncode == 1
    assert result.stderr.strip() == f"mentorbot: {config}: hours.opne: unknown key"


def test_as_is_a_console_command_only(conversation: Conversation) -> None:
    out = conversation.run([say("2026-11-30T07:00:00+01:00", "console:alice", "/as console:bob")])
    assert out[0]["text"] == "La commande /as n'existe que dans le terminal."
