"""`transitions` machines used statelessly, and the Mermaid diagrams of the flows."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from transitions import MachineError

from bot.engine.texts import REQUIRED_TEXTS
from bot.flows.loader import load_flows
from bot.flows.machine import EXIT, FlowMachine, build_machines, mermaid, step_after
from bot.flows.model import Choice, Expect, Flow, FlowSet, Step, Target
from bot.flows.yamlsrc import Where

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def flowset() -> FlowSet:
    return load_flows(ROOT / "flows", REQUIRED_TEXTS)


@pytest.fixture(scope="module")
def machines(flowset: FlowSet) -> dict[str, FlowMachine]:
    return build_machines(flowset)


def pick(flowset: FlowSet, flow: str, step: str, label: str) -> str:
    """The trigger of the choice with this label (flows gain choices: never count by hand)."""
    labels = [c.label for c in flowset.flows[flow].steps[step].choices]
    return flowset.flows[flow].steps[step].trigger(labels.index(label) + 1)


def test_one_machine_per_flow(flowset: FlowSet, machines: dict[str, FlowMachine]) -> None:
    assert set(machines) == set(flowset.flows)
    assert all(m.flow is flowset.flows[name] for name, m in machines.items())


def test_text_steps_advance(machines: dict[str, FlowMachine]) -> None:
    question = machines["question"]
    assert question.fire("context", "advance") == "analysis"
    assert question.fire("analysis", "advance") == "ask"
    assert question.fire("ask", "advance") == "review"
    assert question.fire("edit_context", "advance") == "review"


def test_choices_fire_by_number(flowset: FlowSet, machines: dict[str, FlowMachine]) -> None:
    question = machines["question"]
    assert question.fire("review", "choose_2") == "edit"
    assert question.fire("review", pick(flowset, "question", "review", "Modifier")) == "edit"
    assert question.fire("edit", pick(flowset, "question", "edit", "Le contexte")) == \
        "edit_context"
    assert question.fire("edit", pick(flowset, "question", "edit", "La demande")) == "edit_ask"
    assert question.fire("edit", pick(flowset, "question", "edit", "Rien, revenir")) == "review"
    charter = machines["charter"]
    assert charter.fire("intro", "choose_1") == "article_1"
    assert charter.fire("article_3", "choose_1") == "article_4"
    assert charter.fire("article_3", "choose_2") == "refused"
    assert charter.fire("refused", "choose_1") == "intro"


def test_targets_outside_the_flow_exit(flowset: FlowSet,
                                       machines: dict[str, FlowMachine]) -> None:
    question = machines["question"]
    assert question.fire("review", pick(flowset, "question", "review", "Envoyer")) == EXIT
    assert question.fire("review", pick(flowset, "question", "review", "Annuler")) == EXIT
    menu = machines["menu"]
    assert menu.fire("mentee", pick(flowset, "menu", "mentee", "Poser une question")) == EXIT
    assert menu.fire("mentee", pick(flowset, "menu", "mentee", "Relire la charte")) == "mentee"
    assert machines["charter"].fire("signed", "advance") == EXIT  # "@home"


@pytest.mark.parametrize(("flow", "state", "trigger"), [
    ("question", "context", "choose_1"),     # a text step offers no choice
    ("question", "review", "advance"),       # a choice step is not answered by text
    ("question", "review", "choose_99"),     # no such choice
    ("question", "nowhere", "advance"),      # not a step
    ("question", EXIT, "advance"),           # the exit is not a step either
    ("menu", "mentee", "to_mentor"),         # no automatic transitions
    ("menu", "mentee", ""),
])
def test_invalid_trigger_raises(machines: dict[str, FlowMachine], flow: str, state: str,
                                trigger: str) -> None:
    machine = machines[flow]
    assert not machine.can_fire(state, trigger)
    with pytest.raises(MachineError):
        machine.fire(state, trigger)


def test_can_fire(machines: dict[str, FlowMachine]) -> None:
    assert machines["question"].can_fire("context", "advance")
    assert machines["question"].can_fire("review", "choose_3")
    assert not machines["question"].can_fire("review", "choose_99")


def test_every_edge_of_the_shipped_flows(flowset: FlowSet,
                                         machines: dict[str, FlowMachine]) -> None:
    for flow in flowset.flows.values():
        machine = machines[flow.name]
        for step in flow.steps.values():
            edges: list[tuple[int | None, Target]] = [
                (i, c.next) for i, c in enumerate(step.choices, 1)]
            if step.next is not None:
                edges.append((None, step.next))
            for index, target in edges:
                expected = (target.step if target.flow == flow.name and not target.is_home
                            else EXIT)
                assert step_after(machine, step, index) == expected, (flow.name, step.id, index)


def test_machines_keep_no_state_between_people(machines: dict[str, FlowMachine]) -> None:
    question = machines["question"]
    results: list[str] = []
    errors: list[BaseException] = []

    def person(n: int) -> None:
        try:
            for _ in range(200):
                state = "edit" if n % 2 else "review"
                trigger = "choose_4" if n % 2 else "choose_2"
                results.append(question.fire(state, trigger))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=person, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert results.count("review") == results.count("edit") == 800
    # After all that, the machine still starts nobody anywhere.
    assert question.fire("context", "advance") == "analysis"


# -- diagrams ---------------------------------------------------------------------------------


def test_mermaid_of_the_question_flow(flowset: FlowSet) -> None:
    text = mermaid(flowset.flows["question"])
    lines = [line.strip() for line in text.splitlines()]
    assert lines[:4] == ["---", "title: question", "---", "stateDiagram-v2"]
    for step in flowset.flows["question"].steps:
        assert f'state "{step}" as {step}' in lines
    assert "[*] --> context" in lines
    assert "context --> analysis: (answer)" in lines
    assert "review --> edit: Modifier" in lines
    assert "review --> HOME: Envoyer | Annuler" in lines
    assert 'state "→ @home" as HOME' in lines


def test_mermaid_draws_other_flows_as_their_own_nodes(flowset: FlowSet) -> None:
    text = mermaid(flowset.flows["menu"], title="Menu principal")
    lines = [line.strip() for line in text.splitlines()]
    assert "title: Menu principal" in lines
    assert 'state "→ question:context" as TO_question__context' in lines
    assert "mentee --> TO_question__context: Poser une question" in lines
    assert "[*] --> mentee" in lines


def _step(sid: str, **kwargs: object) -> Step:
    return Step(id=sid, flow="demo", where=Where("demo.yaml", 1, 1), **kwargs)  # type: ignore[arg-type]


def test_mermaid_labels_cannot_break_the_diagram() -> None:
    start = _step("start", say="?", expect=Expect.CHOICE, choices=(
        Choice(label='Dire "oui"; puis #1\nseconde ligne', next=Target("demo", "home")),
        Choice(label="x" * 60, next=Target(None, None)),
    ))
    home = _step("home", say="!", next=Target("demo", "start"))
    flow = Flow(name="demo", start="start", steps={"start": start, "home": home},
                where=Where("demo.yaml", 1, 1))
    lines = [line.strip() for line in mermaid(flow).splitlines()]
    # A step called "home" and the "@home" exit stay two nodes.
    assert 'state "home" as home' in lines and 'state "→ @home" as HOME' in lines
    assert "start --> home: Dire 'oui', puis 1" in lines
    assert "start --> HOME: " + "x" * 39 + "…" in lines
    assert "home --> start: (then)" in lines


def test_cli_graph(tmp_path: Path) -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    result = subprocess.run([sys.executable, "-m", "bot", "flows", "graph", "question"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "stateDiagram-v2" in result.stdout and "edit_context" in result.stdout
    out = tmp_path / "q.mmd"
    result = subprocess.run([sys.executable, "-m", "bot", "flows", "graph", "charter", "-o",
                             str(out)], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert "article_6 --> signature: J'accepte" in out.read_text(encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "bot", "flows", "graph", "nope"], cwd=ROOT,
                            env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("mentorbot: unknown flow 'nope'; flows: charter, ")
    assert "question" in lines[0]
