"""Issue 14, items 12 and 13: the contract between the flows and the code is checked, the
confidentiality policy covers every free-text step the flows define, and a trainer can add a
flow (with its own saved answers as placeholders) without code."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.config import Config
from bot.errors import FlowError
from bot.flows import contract
from bot.flows.validate import validate_all
from bot.stories import run_story
from tests.conftest import ROOT, Conversation, make_config, say, signing

PHONE = "06 12 34 56 78"
EMAIL = "planted.leak@example.org"

GOAL_FLOW = """\
# A flow a trainer adds: a weekly goal, reachable from the mentee's menu.
flow: goal
description: Se fixer un objectif pour la semaine.
start: ask_goal
steps:
  ask_goal:
    say: Quel objectif vous fixez-vous pour cette semaine ?
    expect: text
    save: goal
    checks:
      - check: min_words
        min: 3
        error: Précisez votre objectif en une phrase.
    next: confirm
  confirm:
    say: "Votre objectif : {goal}. Le garder ?"
    choices:
      - label: Le garder
        next: "@home"
      - label: Le réécrire
        next: ask_goal
"""

MENU_ENTRY = """      - label: Poursuivre une question
        next: question:followup_which
      - label: Fixer un objectif
        next: goal:ask_goal
"""


def copy_flows(tmp_path: Path) -> Path:
    target = tmp_path / "flows"
    shutil.copytree(ROOT / "flows", target)
    return target


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new), encoding="utf-8")


def with_flows(config: Config, flows: Path) -> Config:
    return config.model_copy(update={"paths": config.paths.model_copy(update={"flows": flows})})


def problems(config: Config) -> list[str]:
    with pytest.raises(FlowError) as caught:
        validate_all(config)
    return list(caught.value.problems)


def add_goal_flow(flows: Path) -> None:
    (flows / "goal.yaml").write_text(GOAL_FLOW, encoding="utf-8")
    edit(flows / "menu.yaml", "      - label: Poursuivre une question\n"
         "        next: question:followup_which\n", MENU_ENTRY)


# -- item 12: the contract ------------------------------------------------------------------


def test_the_shipped_flows_keep_the_contract_and_list_their_opt_outs(config: Config) -> None:
    summary = validate_all(config)
    assert summary.startswith("ok:")
    assert "opt out of the confidentiality policy" in summary
    assert "charter:signature" in summary  # the one opt-out, a name by design
    assert "mentor:answer_text" not in summary


def test_renaming_the_answer_step_fails_validate_naming_it(
    tmp_path: Path, config: Config
) -> None:
    flows = copy_flows(tmp_path)
    edit(flows / "mentor.yaml", "  answer_text:", "  answer_txt:")
    edit(flows / "mentor.yaml", "next: answer_text", "next: answer_txt")
    found = problems(with_flows(config, flows))
    assert len(found) == 1
    assert "step 'mentor:answer_text' is missing, but the code relies on it" in found[0]
    assert "/repondre" in found[0]
    assert found[0].startswith(f"{flows / 'mentor.yaml'}:")
    # The bot does not start either: /repondre can never skip the confidentiality check.
    with pytest.raises(FlowError, match="mentor:answer_text"):
        Conversation(with_flows(config, flows)).run(
            [say("2026-11-30T07:00:00+01:00", "console:bob", "Bonjour")]
        )


@pytest.mark.parametrize("need", contract.STEPS, ids=lambda n: str(n.target))
def test_removing_any_step_of_the_contract_names_it(
    tmp_path: Path, config: Config, need: contract.StepNeed
) -> None:
    flows = copy_flows(tmp_path)
    path = flows / f"{need.target.flow}.yaml"
    edit(path, f"  {need.target.step}:", f"  {need.target.step}_renamed:")
    found = "\n".join(problems(with_flows(config, flows)))
    assert f"step '{need.target}' is missing" in found


def test_renaming_a_saved_answer_an_action_reads_fails_naming_it(
    tmp_path: Path, config: Config
) -> None:
    flows = copy_flows(tmp_path)
    text = (flows / "mentor.yaml").read_text(encoding="utf-8")
    (flows / "mentor.yaml").write_text(text.replace("save: proposal", "save: proposition"),
                                       encoding="utf-8")
    edit(flows / "mentor.yaml", "    save: answer\n", "    save: reponse\n")
    found = "\n".join(problems(with_flows(config, flows)))
    assert "saved answer 'proposal' is missing: action 'redirect_to_session' reads it" in found
    assert "'redirect_to_professional'" in found
    assert "step 'mentor:answer_text' must keep 'save: answer'" in found


def test_a_contract_step_changed_to_a_choice_is_refused(tmp_path: Path, config: Config) -> None:
    flows = copy_flows(tmp_path)
    edit(flows / "question.yaml", "  followup:\n", "  followup_old:\n")
    edit(flows / "question.yaml", "    next: followup\n",
         "    next: followup\n  followup:\n    say: Suite ?\n    choices:\n"
         "      - label: Revenir\n        next: '@home'\n")
    found = "\n".join(problems(with_flows(config, flows)))
    assert "step 'question:followup' must be expect: text" in found


def test_a_removed_route_is_named(tmp_path: Path, config: Config) -> None:
    flows = copy_flows(tmp_path)
    edit(flows / "system.yaml", "  mentor: menu:mentor\n", "")
    found = "\n".join(problems(with_flows(config, flows)))
    assert "missing route 'mentor'" in found


def test_confidentiality_opt_out_must_be_a_boolean_on_a_text_step(
    tmp_path: Path, config: Config
) -> None:
    flows = copy_flows(tmp_path)
    edit(flows / "charter.yaml", "confidentiality: false", "confidentiality: maybe")
    edit(flows / "mentor.yaml", "  redirect_how:\n", "  redirect_how:\n    confidentiality: false\n")
    edit(flows / "mentor.yaml", "    save: answer\n",
         "    policies: [confidentiality]\n    confidentiality: false\n    save: answer\n")
    found = "\n".join(problems(with_flows(config, flows)))
    assert "'confidentiality' must be true or false" in found
    assert "'confidentiality' only applies to expect: text" in found
    assert "step 'answer_text' both lists the confidentiality policy and opts out" in found


def test_confidentiality_holds_on_a_text_step_without_any_policy(
    tmp_path: Path, config: Config
) -> None:
    """The checked steps come from the flow: a new step, never named in the code, with no
    `policies:` line, holds a phone number and an e-mail and asks."""
    flows = copy_flows(tmp_path)
    add_goal_flow(flows)
    conversation = Conversation(with_flows(config, flows))
    conversation.run(signing("console:alice", "Alice Durand", "2026-11-30T06:10"))
    out = conversation.run([
        say("2026-11-30T07:00:00+01:00", "console:alice", "Fixer un objectif"),
        say("2026-11-30T07:00:01+01:00", "console:alice",
            f"Appeler le client au {PHONE} ou {EMAIL} pour faire le point"),
    ])
    assert "numéro de téléphone" in out[-1]["text"]
    assert "adresse e-mail" in out[-1]["text"]
    sent = "\n".join(line["text"] for line in conversation.lines)
    assert PHONE not in sent and EMAIL not in sent


def test_a_step_that_opts_out_is_masked_without_asking_and_listed(
    tmp_path: Path, config: Config
) -> None:
    flows = copy_flows(tmp_path)
    add_goal_flow(flows)
    edit(flows / "goal.yaml", "    save: goal\n", "    confidentiality: false\n    save: goal\n")
    changed = with_flows(config, flows)
    summary = validate_all(changed.model_copy(update={"paths": changed.paths.model_copy(
        update={"locales": tmp_path / "no-locales"})}))
    assert "goal:ask_goal" in summary and "charter:signature" in summary
    conversation = Conversation(changed)
    conversation.run(signing("console:alice", "Alice Durand", "2026-11-30T06:10"))
    out = conversation.run([
        say("2026-11-30T07:00:00+01:00", "console:alice", "Fixer un objectif"),
        say("2026-11-30T07:00:01+01:00", "console:alice",
            f"Appeler le client au {PHONE} pour faire le point"),
    ])
    assert "Votre objectif :" in out[-1]["text"]
    assert PHONE not in out[-1]["text"]


def test_repondre_with_identifying_data_is_held_for_the_mentor(config: Config) -> None:
    conversation = Conversation(config)
    conversation.run(signing("console:bob", "Bob Martin", "2026-11-30T06:00")
                     + signing("console:alice", "Alice Durand", "2026-11-30T06:10"))
    conversation.run([say(f"2026-11-30T07:00:0{i}+01:00", "console:alice", t) for i, t in
                      enumerate(["Poser une question",
                                 "Dans mon équipe, une collègue conteste les priorités fixées.",
                                 "J'ai essayé d'en parler ; je pense qu'elle se sent exclue.",
                                 "J'hésite entre l'associer ou recadrer : quel regard ?",
                                 "Envoyer"])])
    out = conversation.run([say("2026-11-30T09:00:00+01:00", "console:bob",
                                f"/repondre Q1 Appelez-la au {PHONE} ou {EMAIL}.")])
    assert all(line["to"] == "console:bob" for line in out)
    assert "numéro de téléphone" in out[-1]["text"]


# -- item 13: a trainer adds a flow -----------------------------------------------------------


def test_a_saved_answer_is_a_placeholder_and_a_typo_is_named(
    tmp_path: Path, config: Config
) -> None:
    flows = copy_flows(tmp_path)
    add_goal_flow(flows)
    locales = tmp_path / "no-locales"  # the translations are item 14's concern
    changed = with_flows(config, flows)
    changed = changed.model_copy(
        update={"paths": changed.paths.model_copy(update={"locales": locales})})
    assert validate_all(changed).startswith("ok: 5 flows")
    edit(flows / "goal.yaml", "{goal}", "{gaol}")
    found = problems(changed)
    assert len(found) == 1
    assert "unknown placeholder {gaol}: no step saves an answer as 'gaol'" in found[0]
    assert found[0].startswith(f"{flows / 'goal.yaml'}:16:5:")


def test_a_new_flow_reachable_from_the_menu_runs_end_to_end(tmp_path: Path) -> None:
    flows = copy_flows(tmp_path)
    add_goal_flow(flows)
    story = tmp_path / "goal-story.yaml"
    lines = [
        "story: Alice se fixe un objectif par un parcours ajouté sans code",
        "config:",
        f"  paths: {{flows: '{flows}'}}",
        "steps:",
    ]
    at = iter(range(60))

    def step(text: str, *contains: str, choices: list[str] | None = None) -> None:
        lines.append(f"  - at: '2026-11-30T07:{next(at):02d}:00+01:00'")
        lines.append("    from: console:alice")
        lines.append(f"    say: \"{text}\"")
        if contains:
            lines.append("    expect:")
            for i, part in enumerate(contains):
                lines.append(f"      - contains: \"{part}\"")
                if choices and i == len(contains) - 1:
                    lines.append(f"        choices: {choices}")

    for text in ["Bonjour", "1", "1", "1", "1", "1", "1", "1"]:
        step(text)
    step("Alice Durand", "Merci Alice Durand", "Que souhaitez-vous faire ?")
    step("Fixer un objectif", "Quel objectif vous fixez-vous pour cette semaine ?")
    step("Trop court", "Précisez votre objectif en une phrase.")
    step("Préparer le point d'équipe de jeudi avec un ordre du jour",
         "Votre objectif : Préparer le point d'équipe de jeudi avec un ordre du jour. Le garder ?",
         choices=["Le garder", "Le réécrire"])
    step("Le réécrire", "Quel objectif vous fixez-vous pour cette semaine ?")
    step("Relire les comptes rendus des trois dernières réunions",
         "Votre objectif : Relire les comptes rendus des trois dernières réunions.")
    step("Le garder", "Que souhaitez-vous faire ?")
    story.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = run_story(story)
    assert result.ok, "\n".join(result.failures)


def test_the_shipped_config_still_loads(tmp_path: Path) -> None:
    """The contract's names are the ones the shipped flows use (no drift either way)."""
    config = make_config(tmp_path)
    assert validate_all(config).startswith("ok:")
