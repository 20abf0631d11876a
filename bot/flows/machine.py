"""`transitions` machines, one per flow definition, used statelessly.

No machine object is kept per person: the person's step is restored from the store into a
throw-away cursor, the event is fired on the flow's machine, the new step is read back.
Callbacks are never given as strings, so YAML can never make `transitions` import code.
"""

from __future__ import annotations

from typing import Any

from transitions import Machine

from bot.flows.model import Flow, FlowSet, Step

EXIT = "__exit__"  # leaving the flow: the engine resolves the cross-flow target


class _Cursor:
    """The model `transitions` moves: only a state attribute. Identity equality on purpose."""

    __slots__ = ("state",)

    def __init__(self, state: str) -> None:
        self.state = state


def _transitions(flow: Flow) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for step in flow.steps.values():
        edges = [(step.trigger(i), c.next) for i, c in enumerate(step.choices, 1)]
        if step.next is not None:
            edges.append((step.trigger(), step.next))
        for trigger, target in edges:
            inside = target.flow == flow.name and not target.is_home
            out.append({"trigger": trigger, "source": step.id,
                        "dest": target.step if inside else EXIT})
    return out


class FlowMachine:
    """Fires a flow's events for any person, without keeping per-person state."""

    def __init__(self, flow: Flow) -> None:
        self.flow = flow
        self._machine = Machine(
            model=None,
            states=[*flow.steps, EXIT],
            transitions=_transitions(flow),
            initial=flow.start,
            auto_transitions=False,
            ignore_invalid_triggers=False,
        )

    def fire(self, state: str, trigger: str) -> str:
        """The state reached from `state` by `trigger` (EXIT when the target is elsewhere)."""
        cursor = _Cursor(state)
        self._machine.events[trigger].trigger(cursor)
        return cursor.state

    def can_fire(self, state: str, trigger: str) -> bool:
        event = self._machine.events.get(trigger)
        return event is not None and state in event.transitions


def build_machines(flows: FlowSet) -> dict[str, FlowMachine]:
    return {name: FlowMachine(flow) for name, flow in flows.flows.items()}


def step_after(machine: FlowMachine, step: Step, index: int | None) -> str:
    return machine.fire(step.id, step.trigger(index))


def mermaid(flow: Flow, title: str | None = None) -> str:
    """The flow as a Mermaid state diagram, drawn by `transitions`' Mermaid engine."""
    from transitions.extensions.diagrams import GraphMachine

    labels: dict[str, str] = {}
    transitions: list[dict[str, Any]] = []
    for step in flow.steps.values():
        edges = [(c.label, c.next) for c in step.choices]
        if step.next is not None:
            edges.append(("", step.next))
        for label, target in edges:
            dest = target.step if target.flow == flow.name else str(target).replace(":", "_").replace("@", "")
            labels.setdefault(dest or "", str(target))
            trigger = _short(label) if label else ("answer" if step.expect.value == "text" else "then")
            transitions.append({"trigger": trigger, "source": step.id, "dest": dest})
    states = list(flow.steps)
    for dest in labels:
        if dest not in states:
            states.append(dest)
    machine = GraphMachine(model=None, states=states, transitions=transitions, initial=flow.start,
                           auto_transitions=False, graph_engine="mermaid",
                           title=title or flow.name, show_conditions=False)
    graph = machine.get_graph()
    return str(graph.draw(None))


def _short(label: str) -> str:
    first = label.splitlines()[0]
    return first if len(first) <= 40 else first[:39] + "…"
