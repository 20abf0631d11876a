"""`transitions` machines, one per flow definition, used statelessly.

No machine object is kept per person: the person's step is restored from the store into a
throw-away cursor, the event is fired on the flow's machine, the new step is read back.
Callbacks are never given as strings, so YAML can never make `transitions` import code.
"""

from __future__ import annotations

from typing import Any

from transitions import Machine, MachineError, State
from transitions.extensions.diagrams import GraphMachine

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
        # The machine's transitions as a table, read once: firing an event through
        # `transitions` builds an event chain per call, which every message paid for.
        self._next: dict[tuple[str, str], str] = {
            (source, trigger): str(found[0].dest)
            for trigger, event in self._machine.events.items()
            for source, found in event.transitions.items()
            if found and found[0].dest is not None
        }

    def fire(self, state: str, trigger: str) -> str:
        """The state reached from `state` by `trigger` (EXIT when the target is elsewhere).

        Raises `transitions.MachineError` when `state` is not a step of the flow or `trigger`
        does not leave it.
        """
        if state not in self.flow.steps:
            raise MachineError(f"{state!r} is not a step of flow {self.flow.name!r}")
        dest = self._next.get((state, trigger))
        if dest is not None:
            return dest
        event = self._machine.events.get(trigger)
        if event is None:
            raise MachineError(f"no event {trigger!r} in flow {self.flow.name!r}")
        cursor = _Cursor(state)
        event.trigger(cursor)  # raises the machine's own error for a trigger that cannot fire
        return cursor.state

    def can_fire(self, state: str, trigger: str) -> bool:
        event = self._machine.events.get(trigger)
        return event is not None and state in event.transitions


def build_machines(flows: FlowSet) -> dict[str, FlowMachine]:
    return {name: FlowMachine(flow) for name, flow in flows.flows.items()}


def step_after(machine: FlowMachine, step: Step, index: int | None) -> str:
    return machine.fire(step.id, step.trigger(index))


class _Drawing:
    """The model a `GraphMachine` draws (it needs one to attach `get_graph` to)."""


class _LabelledState(State):
    """A state drawn with a label of its own (the Mermaid engine reads `label`)."""

    def __init__(self, *args: Any, label: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if label:
            self.label = label


class _DiagramMachine(GraphMachine):
    state_cls = _LabelledState


def _mermaid_label(text: str) -> str:
    """One line, without the characters that end a Mermaid label or statement."""
    first = text.strip().splitlines()[0] if text.strip() else ""
    first = first.replace('"', "'").replace(";", ",").replace("#", "")
    return first if len(first) <= 40 else first[:39] + "…"


def mermaid(flow: Flow, title: str | None = None) -> str:
    """The flow as a Mermaid state diagram, drawn by `transitions`' Mermaid engine.

    A target outside the flow (`@home`, `flow:step`) is drawn as an upper-case node (step ids
    are lower case, so it never merges with a step) labelled with the target.
    """
    exits: dict[str, str] = {}  # node name -> target as written
    transitions: list[dict[str, Any]] = []
    for step in flow.steps.values():
        edges = [(step.trigger(i), c.label, c.next) for i, c in enumerate(step.choices, 1)]
        if step.next is not None:
            label = "(answer)" if step.expect.value == "text" else "(then)"
            edges.append((step.trigger(), label, step.next))
        for trigger, label, target in edges:
            if target.flow == flow.name and not target.is_home:
                dest = target.step
            else:
                dest = "HOME" if target.is_home else f"TO_{target.flow}__{target.step}"
                exits[dest] = str(target)
            transitions.append({"trigger": trigger, "source": step.id, "dest": dest,
                                "label": _mermaid_label(label)})
    states: list[Any] = list(flow.steps)
    states += [{"name": name, "label": f"→ {shown}"} for name, shown in exits.items()]
    machine = _DiagramMachine(model=_Drawing(), states=states, transitions=transitions,
                           initial=flow.start, auto_transitions=False, graph_engine="mermaid",
                           title=f"title: {_mermaid_label(title or flow.name)}",
                           show_conditions=False)
    graph = machine.get_combined_graph()
    return str(graph.draw(None))
