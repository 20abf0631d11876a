"""Load and validate every flow and text before the bot starts.

Problems are collected, not raised one by one, so that `mentorbot flows validate` shows a
trainer every mistake at once as `path:line:col: message`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.errors import FlowError
from bot.flows import contract as contract_module
from bot.flows.model import CheckSpec, Choice, Expect, Flow, FlowSet, Step, Target
from bot.flows.vocabulary import (
    ACTIONS,
    CHECKS,
    NAME_RE,
    PLACEHOLDERS,
    POLICIES,
    STEP_ID_RE,
    lone_braces,
    placeholders,
)
from bot.flows.yamlsrc import Located, LocatedList, SourceError, Where, load_located

FILE_KEYS = {"flow", "description", "start", "steps", "texts", "routes"}
STEP_KEYS = {"say", "again", "expect", "choices", "checks", "save", "action", "next", "policies",
             "article", "confidentiality"}
CHOICE_KEYS = {"label", "next", "action"}
ROUTES = tuple(contract_module.ROUTES)
MAX_FILES = 64


def clean_text(text: str) -> str:
    """The canonical form of a text (also the gettext msgid): no surrounding blank space."""
    return text.strip()


_LOCATED = re.compile(r"^(.*):(\d+):(\d+): ")


class _Problems:
    def __init__(self) -> None:
        self.items: list[str] = []
        self.roots: list[str] = []  # files that could not be read: the likely root causes

    def add(self, where: Where, message: str) -> None:
        self.items.append(f"{where}: {message}")

    def root(self, problem: str) -> None:
        self.roots.append(problem)

    def __bool__(self) -> bool:
        return bool(self.items or self.roots)

    def sorted(self) -> list[str]:
        """A file that could not be read comes first: what is defined after its mistake is
        missing, so other problems (an unknown step, a missing text) may only follow from it.
        Then by file, line and column, so that a trainer reads them from top to bottom."""
        def key(item: str) -> tuple[str, int, int]:
            match = _LOCATED.match(item)
            if match is None:
                return (item, 0, 0)
            return (match.group(1), int(match.group(2)), int(match.group(3)))

        rest = sorted(dict.fromkeys(self.items), key=key)
        roots = list(self.roots)
        if roots and rest:
            roots[-1] += (f" [fix this first: the {len(rest)} problem(s) listed after it may "
                          "only follow from it]")
        return roots + rest


def _key_where(node: Located, key: str) -> Where:
    return node.key_where.get(key, node.where)


def _parse_target(raw: Any, flow: str) -> Target | None:
    if not isinstance(raw, str) or not raw.strip():
        return None
    raw = raw.strip()
    if raw == "@home":
        return Target(None, None)
    if ":" in raw:
        flow_name, _, step = raw.partition(":")
        if STEP_ID_RE.match(flow_name) and STEP_ID_RE.match(step):
            return Target(flow_name, step)
        return None
    return Target(flow, raw) if flow and STEP_ID_RE.match(raw) else None


def _check_text(text: Any, where: Where, problems: _Problems, what: str,
                deferred: list[tuple[str, Where]] | None = None) -> str | None:
    """A text's shape and placeholders. A placeholder that is neither one the code fills nor
    known yet goes to `deferred`: it is fine if some step saves an answer under that name."""
    if not isinstance(text, str) or not text.strip():
        problems.add(where, f"{what} must be a non-empty text")
        return None
    for name in placeholders(text):
        if not NAME_RE.match(name):
            problems.add(where, f"placeholder {{{name}}} must be a plain name like {{name}}")
        elif name not in PLACEHOLDERS:
            if deferred is not None:
                deferred.append((name, where))
            else:
                problems.add(where, f"unknown placeholder {{{name}}}")
    if lone_braces(text):
        problems.add(where, "a lone '{' or '}' (write '{{' or '}}' for a literal brace)")
    return clean_text(text)


def _is_number(value: Any) -> bool:
    """A label that is a number (`1`, `"2"`, `3.5`): numbers are how people pick choices."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return True
    return isinstance(value, str) and value.strip().isdigit()


def _type_name(expected: type) -> str:
    return {int: "whole number", list: "list of texts", str: "text"}.get(
        expected, expected.__name__)


class _Loader:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.problems = _Problems()
        self.flows: dict[str, Flow] = {}
        self.texts: dict[str, str] = {}
        self.plurals: dict[str, str] = {}  # key -> plural form (texts[key] is the singular)
        self.text_where: dict[str, Where] = {}
        self.routes: dict[str, Target] = {}
        self.route_where: dict[str, Where] = {}
        self.targets: list[tuple[Target, Where]] = []
        self.texts_at: list[Where] = []  # where each file's `texts:` is (missing texts go there)
        self.deferred: list[tuple[str, Where]] = []  # placeholders that may be `save:` names

    def files(self) -> list[Path]:
        if not self.root.is_dir():
            self.problems.add(self._root_where(), "flows directory not found")
            return []
        root = self.root.resolve()
        out = []
        for path in flow_files(self.root):
            if not path.resolve().is_relative_to(root):
                self.problems.add(Where(self._show(path), 1, 1),
                                  "file points outside the flows directory")
                continue
            out.append(path)
        if len(out) > MAX_FILES:
            self.problems.add(self._root_where(), f"too many flow files (at most {MAX_FILES})")
            return out[:MAX_FILES]
        return out

    def _root_where(self) -> Where:
        return Where(self._show(self.root), 1, 1)

    def _show(self, path: Path) -> str:
        try:
            return str(path.relative_to(Path.cwd()))
        except ValueError:
            return str(path)

    def load_file(self, path: Path) -> None:
        shown = self._show(path)
        try:
            doc = load_located(path, shown)
        except SourceError as exc:
            self.problems.root(str(exc))
            return
        if doc is None:
            return
        if not isinstance(doc, Located):
            self.problems.add(Where(shown, 1, 1), "a flow file must be a mapping of keys")
            return
        for key in doc:
            if key not in FILE_KEYS:
                self.problems.add(_key_where(doc, key), f"unknown key {key!r} "
                                  f"(expected one of {', '.join(sorted(FILE_KEYS))})")
        if "texts" in doc:
            self.texts_at.append(_key_where(doc, "texts"))
            self._texts(doc["texts"], _key_where(doc, "texts"))
        if "routes" in doc:
            self._routes(doc["routes"], _key_where(doc, "routes"))
        if "flow" in doc or "steps" in doc:
            self._flow(doc)

    def _texts(self, node: Any, where: Where) -> None:
        if not isinstance(node, Located):
            self.problems.add(where, "texts must be a mapping of key: text")
            return
        for key, value in node.items():
            kw = _key_where(node, key)
            if not NAME_RE.match(key):
                self.problems.add(kw, f"text key {key!r} must be lower_case_words")
                continue
            if key in self.texts:
                self.problems.add(kw, f"duplicate text {key!r} (first at {self.text_where[key]})")
                continue
            if isinstance(value, Located):
                self._plural(key, value, kw)
                continue
            text = _check_text(value, kw, self.problems, f"text {key!r}", self.deferred)
            if text is not None:
                self.texts[key] = text
                self.text_where[key] = kw

    def _plural(self, key: str, node: Located, where: Where) -> None:
        """A text that varies with `{count}`: `{one: ..., other: ...}` (gettext plural forms)."""
        if set(node) != {"one", "other"}:
            self.problems.add(where, f"text {key!r}: a text that varies with a number is a "
                              "mapping with exactly the keys 'one' and 'other'")
            return
        forms = [_check_text(node[k], _key_where(node, k), self.problems, f"text {key}.{k}",
                             self.deferred) for k in ("one", "other")]
        if forms[0] is None or forms[1] is None:
            return
        if "count" not in placeholders(forms[1]):
            self.problems.add(_key_where(node, "other"),
                              f"text {key}.other must contain {{count}} "
                              "(the number it varies with)")
            return
        self.texts[key], self.plurals[key] = forms[0], forms[1]
        self.text_where[key] = where

    def _routes(self, node: Any, where: Where) -> None:
        if not isinstance(node, Located):
            self.problems.add(where, "routes must be a mapping")
            return
        for key, value in node.items():
            kw = _key_where(node, key)
            if key not in ROUTES:
                self.problems.add(kw, f"unknown route {key!r} (expected {', '.join(ROUTES)})")
                continue
            if key in self.routes:
                self.problems.add(kw, f"route {key!r} defined twice")
                continue
            target = _parse_target(value, "")
            if target is None or target.is_home or not target.flow:
                self.problems.add(kw, f"route {key!r} must be 'flow:step'")
                continue
            self.routes[key] = target
            self.route_where[key] = kw
            self.targets.append((target, kw))

    def _flow(self, doc: Located) -> None:
        name = doc.get("flow")
        if not isinstance(name, str) or not STEP_ID_RE.match(name):
            self.problems.add(_key_where(doc, "flow"), "'flow' must be a lower_case name")
            return
        if name in self.flows:
            self.problems.add(_key_where(doc, "flow"), f"duplicate flow {name!r}")
            return
        steps_node = doc.get("steps")
        if not isinstance(steps_node, Located) or not steps_node:
            self.problems.add(_key_where(doc, "steps"), "'steps' must be a non-empty mapping")
            return
        steps: dict[str, Step] = {}
        for step_id, raw in steps_node.items():
            step = self._step(name, step_id, raw, _key_where(steps_node, step_id))
            if step is not None:
                steps[step_id] = step
        start = doc.get("start")
        if not isinstance(start, str) or start not in steps_node:
            self.problems.add(_key_where(doc, "start"),
                              f"'start' must name a step of flow {name!r}")
            start = next(iter(steps_node))
        description = doc.get("description", "")
        self.flows[name] = Flow(name=name, start=start, steps=steps, where=doc.where,
                                description=str(description or ""))

    def _step(self, flow: str, step_id: str, raw: Any, where: Where) -> Step | None:
        p = self.problems
        if not STEP_ID_RE.match(step_id):
            p.add(where, f"step id {step_id!r} must be lower_case_words")
            return None
        if not isinstance(raw, Located):
            p.add(where, f"step {step_id!r} must be a mapping")
            return None
        for key in raw:
            if key not in STEP_KEYS:
                p.add(_key_where(raw, key), f"unknown key {key!r} in step {step_id!r} "
                      f"(expected one of {', '.join(sorted(STEP_KEYS))})")
        say = None
        if "say" in raw:
            say = _check_text(raw["say"], _key_where(raw, "say"), p, "'say'", self.deferred)
        again = None
        if "again" in raw:
            again = _check_text(raw["again"], _key_where(raw, "again"), p, "'again'",
                                self.deferred)
            if say is None:
                p.add(_key_where(raw, "again"), "'again' is what a step says the next times: "
                      "it needs a 'say' for the first time")
        choices = self._choices(flow, step_id, raw)
        expect_raw = raw.get("expect")
        if expect_raw is None:
            expect = Expect.CHOICE if choices else Expect.NONE
        else:
            try:
                expect = Expect(str(expect_raw))
            except ValueError:
                p.add(_key_where(raw, "expect"), "'expect' must be text, choice or none")
                expect = Expect.NONE
        if expect is Expect.CHOICE and not choices:
            p.add(where, f"step {step_id!r} expects a choice but offers no 'choices'")
        if expect is not Expect.CHOICE and "choices" in raw:
            p.add(_key_where(raw, "choices"), "'choices' only make sense with expect: choice")
        if say is None and expect is not Expect.TEXT and "action" not in raw:
            p.add(where, f"step {step_id!r} has no text to say ('say' is missing)")
        if expect is Expect.TEXT and say is None:
            p.add(where, f"step {step_id!r} asks for text but says nothing ('say' is missing)")
        nxt = None
        if "next" in raw:
            nxt = _parse_target(raw["next"], flow)
            if nxt is None:
                p.add(_key_where(raw, "next"), "'next' must be a step, 'flow:step' or '@home'")
            else:
                self.targets.append((nxt, _key_where(raw, "next")))
        elif expect is not Expect.CHOICE:
            p.add(where, f"step {step_id!r} needs 'next' (where to go after it)")
        action = None
        if "action" in raw:
            action = self._action(raw.get("action"), _key_where(raw, "action"))
        checks: tuple[CheckSpec, ...] = ()
        if "checks" in raw:
            checks = self._checks(raw.get("checks"), _key_where(raw, "checks"))
        if checks and expect is not Expect.TEXT:
            p.add(_key_where(raw, "checks"), "'checks' only apply to expect: text")
        save = raw.get("save")
        if save is not None and (not isinstance(save, str) or not NAME_RE.match(save)):
            p.add(_key_where(raw, "save"), "'save' must be a lower_case name")
            save = None
        policies_raw = raw.get("policies", [])
        policies: list[str] = []
        if not isinstance(policies_raw, list):
            p.add(_key_where(raw, "policies"), "'policies' must be a list")
        else:
            for item in policies_raw:
                if item not in POLICIES:
                    p.add(_key_where(raw, "policies"),
                          f"unknown policy {item!r} (expected {', '.join(POLICIES)})")
                else:
                    policies.append(str(item))
        article = raw.get("article", False)
        if not isinstance(article, bool):
            p.add(_key_where(raw, "article"), "'article' must be true or false")
            article = False
        confidential = self._confidentiality(raw, step_id, expect, policies)
        return Step(id=step_id, flow=flow, where=where, say=say, again=again, expect=expect,
                    choices=choices,
                    checks=checks, save=save, action=action, next=nxt, policies=tuple(policies),
                    article=article, confidential=confidential)

    def _confidentiality(self, raw: Located, step_id: str, expect: Expect,
                         policies: list[str]) -> bool:
        """Every free-text step is under the confidentiality policy (identifying data held,
        the person asked) unless it says `confidentiality: false` (then masked silently)."""
        if "confidentiality" not in raw:
            return expect is Expect.TEXT
        where = _key_where(raw, "confidentiality")
        value = raw["confidentiality"]
        if not isinstance(value, bool):
            self.problems.add(where, "'confidentiality' must be true or false (false opts the "
                              "step out: identifying data is then masked without asking)")
            return expect is Expect.TEXT
        if expect is not Expect.TEXT:
            self.problems.add(where, "'confidentiality' only applies to expect: text")
            return False
        if not value and contract_module.CONFIDENTIALITY in policies:
            self.problems.add(where, f"step {step_id!r} both lists the confidentiality policy "
                              "and opts out of it: keep one")
        return bool(value)

    def _choices(self, flow: str, step_id: str, raw: Located) -> tuple[Choice, ...]:
        node = raw.get("choices")
        if node is None:
            return ()
        where = _key_where(raw, "choices")
        if not isinstance(node, LocatedList) or not node:
            self.problems.add(where, "'choices' must be a non-empty list")
            return ()
        out: list[Choice] = []
        seen: set[str] = set()
        for item, iw in zip(node, node.item_where, strict=True):
            if not isinstance(item, Located):
                self.problems.add(iw, "a choice must be a mapping with 'label' and 'next'")
                continue
            for key in item:
                if key not in CHOICE_KEYS:
                    self.problems.add(_key_where(item, key), f"unknown key {key!r} in a choice "
                                      "(expected label, next, action)")
            label_raw = item.get("label")
            label_where = _key_where(item, "label")
            label = None
            if "label" not in item:
                self.problems.add(iw, "a choice needs a 'label' (the text of its button)")
            elif _is_number(label_raw):
                self.problems.add(label_where,
                                  "a choice label cannot be a number (numbers pick choices)")
            else:
                label = _check_text(label_raw, label_where, self.problems, "'label'",
                                    self.deferred)
            target = _parse_target(item.get("next"), flow)
            if target is None:
                self.problems.add(_key_where(item, "next"),
                                  "a choice needs 'next': a step, 'flow:step' or '@home'")
            else:
                self.targets.append((target, _key_where(item, "next")))
            action = None
            if "action" in item:
                action = self._action(item.get("action"), _key_where(item, "action"))
            if label is not None:
                folded = label.casefold()
                if folded in seen:
                    self.problems.add(iw, f"duplicate choice {label!r} in step {step_id!r}")
                seen.add(folded)
            if label is not None and target is not None:
                out.append(Choice(label=label, next=target, action=action))
        return tuple(out)

    def _action(self, name: Any, where: Where) -> str | None:
        if not isinstance(name, str) or name not in ACTIONS:
            hint = ""
            if isinstance(name, str) and ("." in name or ":" in name):
                hint = " (flows cannot name Python code)"
            self.problems.add(where, f"unknown action {name!r}{hint}; "
                              f"known: {', '.join(sorted(ACTIONS))}")
            return None
        return name

    def _checks(self, node: Any, where: Where) -> tuple[CheckSpec, ...]:
        if not isinstance(node, LocatedList):
            self.problems.add(where, "'checks' must be a list")
            return ()
        out: list[CheckSpec] = []
        for item, iw in zip(node, node.item_where, strict=True):
            if not isinstance(item, Located) or "check" not in item:
                self.problems.add(iw, "a check must be a mapping with 'check' and 'error'")
                continue
            name = item["check"]
            if not isinstance(name, str) or name not in CHECKS:
                hint = ""
                if isinstance(name, str) and ("." in name or ":" in name):
                    hint = " (flows cannot name Python code)"
                self.problems.add(_key_where(item, "check"), f"unknown check {name!r}{hint}; "
                                  f"known: {', '.join(sorted(CHECKS))}")
                continue
            if "error" not in item:
                self.problems.add(iw, f"check {name!r} needs an 'error' (the text shown when "
                                  "the answer does not pass)")
                error = None
            else:
                error = _check_text(item.get("error"), _key_where(item, "error"), self.problems,
                                    "'error'", self.deferred)
            schema = CHECKS[name]
            params: dict[str, Any] = {}
            for key, value in item.items():
                if key in ("check", "error"):
                    continue
                kw = _key_where(item, key)
                if key not in schema:
                    known = ", ".join(sorted(schema)) or "none"
                    self.problems.add(kw, f"unknown parameter {key!r} for check {name!r} "
                                      f"(parameters: {known})")
                    continue
                expected = schema[key]
                must = f"parameter {key!r} of check {name!r} must be a {_type_name(expected)}"
                if not isinstance(value, expected) or isinstance(value, bool):
                    self.problems.add(kw, must)
                    continue
                if isinstance(value, list):
                    if not value or not all(isinstance(v, str) and v.strip() for v in value):
                        self.problems.add(kw, f"{must} (non-empty)")
                        continue
                    params[key] = [str(v) for v in value]
                elif isinstance(value, int) and value < 1:
                    self.problems.add(kw, f"{must} of at least 1")
                    continue
                else:
                    params[key] = value
            if error is not None:
                out.append(CheckSpec(name=name, error=error, params=params))
        return tuple(out)

    def finish(self, required_texts: Iterable[str],
               contract: Contract | None = None) -> FlowSet:
        p = self.problems
        for key in ROUTES:
            if key not in self.routes:
                p.add(self._root_where(), f"missing route {key!r} (in a 'routes:' mapping)")
        for target, where in self.targets:
            if target.is_home:
                continue
            flow = self.flows.get(target.flow or "")
            if flow is None:
                p.add(where, f"unknown flow {target.flow!r}")
            elif target.step not in flow.steps:
                p.add(where, f"unknown step {target.step!r} in flow {target.flow!r}")
        texts_at = min(self.texts_at, key=lambda w: (w.path, w.line), default=self._root_where())
        for key in sorted(set(required_texts) - set(self.texts)):
            p.add(texts_at,
                  f"missing text {key!r} (needed by the bot; add it under 'texts:')")
        self._reachability()
        self._auto_loops()
        self._saved_placeholders()
        if contract is not None:
            self._contract(contract)
        if p:
            raise FlowError(p.sorted())
        return FlowSet(flows=self.flows, texts=self.texts, plurals=self.plurals,
                       homes={"mentee": self.routes["mentee"], "mentor": self.routes["mentor"]},
                       entry={"charter": self.routes["charter"]})

    def _saves(self) -> dict[str, list[Step]]:
        out: dict[str, list[Step]] = {}
        for flow in self.flows.values():
            for step in flow.steps.values():
                if step.save:
                    out.setdefault(step.save, []).append(step)
        return out

    def _saved_placeholders(self) -> None:
        """A placeholder may name any answer a step saves (`save: goal` makes `{goal}`)."""
        saves = self._saves()
        for name, where in self.deferred:
            if name not in saves:
                self.problems.add(where, f"unknown placeholder {{{name}}}: no step saves an "
                                  f"answer as {name!r} (add 'save: {name}' to the step that "
                                  "asks for it, or fix the spelling)")

    def _contract(self, contract: Contract) -> None:
        """The steps and saved answers the code relies on (`bot.flows.contract`)."""
        p = self.problems
        for need in contract.steps:
            flow = self.flows.get(need.target.flow or "")
            where = flow.where if flow is not None else self._root_where()
            step = flow.steps.get(need.target.step or "") if flow is not None else None
            if step is None:
                p.add(where, f"step '{need.target}' is missing, but the code relies on it "
                      f"({need.why}); restore it or rename it back")
                continue
            if step.expect is not need.expect:
                p.add(step.where, f"step '{need.target}' must be expect: {need.expect.value} "
                      f"({need.why})")
            if need.save is not None and step.save != need.save:
                p.add(step.where, f"step '{need.target}' must keep 'save: {need.save}' "
                      f"(the code reads that answer; {need.why})")
        saves = self._saves()
        for flow in self.flows.values():
            for step in flow.steps.values():
                used = [step.action] if step.action else []
                used += [c.action for c in step.choices if c.action]
                for action in used:
                    for name in contract.action_reads.get(action, ()):
                        if name not in saves:
                            p.add(step.where, f"saved answer {name!r} is missing: action "
                                  f"{action!r} reads it, but no step has 'save: {name}' "
                                  "(restore it or rename it back)")

    def _edges(self, step: Step) -> list[Target]:
        out = [c.next for c in step.choices]
        if step.next is not None:
            out.append(step.next)
        return out

    def _reachability(self) -> None:
        roots = list(self.routes.values()) + [
            Target(f.name, f.start) for f in self.flows.values()
        ]
        seen: set[tuple[str, str]] = set()
        stack = [(t.flow or "", t.step or "") for t in roots if not t.is_home]
        homes = [(t.flow or "", t.step or "") for t in self.routes.values()]
        stack += homes
        while stack:
            key = stack.pop()
            if key in seen:
                continue
            seen.add(key)
            flow = self.flows.get(key[0])
            step = flow.steps.get(key[1]) if flow else None
            if step is None:
                continue
            for target in self._edges(step):
                if not target.is_home:
                    stack.append((target.flow or "", target.step or ""))
        for flow in self.flows.values():
            for step in flow.steps.values():
                if (flow.name, step.id) not in seen:
                    self.problems.add(step.where,
                                      f"step {step.id!r} is unreachable (no step leads to it)")

    def _auto_loops(self) -> None:
        """Steps that expect nothing move on by themselves: a cycle of them would never stop.

        `@home` leads to the mentee's or the mentor's home: both are followed.
        """
        homes = [self.routes[k] for k in ("mentee", "mentor") if k in self.routes]

        def moves_on(step: Step) -> list[Step]:
            if step.expect is not Expect.NONE or step.next is None:
                return []
            targets = homes if step.next.is_home else [step.next]
            found = []
            for target in targets:
                flow = self.flows.get(target.flow or "")
                nxt = flow.steps.get(target.step or "") if flow else None
                if nxt is not None:
                    found.append(nxt)
            return found

        done: set[tuple[str, str]] = set()
        reported: set[frozenset[tuple[str, str]]] = set()
        for flow in self.flows.values():
            for first in flow.steps.values():
                if (first.flow, first.id) in done:
                    continue
                path: list[Step] = []
                on_path: set[tuple[str, str]] = set()
                stack: list[tuple[Step, list[Step]]] = [(first, moves_on(first))]
                path.append(first)
                on_path.add((first.flow, first.id))
                while stack:
                    step, todo = stack[-1]
                    if not todo:
                        stack.pop()
                        path.pop()
                        on_path.discard((step.flow, step.id))
                        done.add((step.flow, step.id))
                        continue
                    nxt = todo.pop()
                    key = (nxt.flow, nxt.id)
                    if key in on_path:
                        cycle = path[[(s.flow, s.id) for s in path].index(key):]
                        keys = frozenset((s.flow, s.id) for s in cycle)
                        if keys not in reported:
                            reported.add(keys)
                            names = " -> ".join(f"{s.flow}:{s.id}" for s in [*cycle, nxt])
                            self.problems.add(nxt.where, f"steps {names} loop without "
                                              "waiting for the person")
                        continue
                    if key in done:
                        continue
                    path.append(nxt)
                    on_path.add(key)
                    stack.append((nxt, moves_on(nxt)))


def flow_files(root: Path) -> list[Path]:
    """The flow files of a directory: `*.yaml`, but hidden files (editor locks, backups)."""
    return sorted(p for p in Path(root).glob("*.yaml") if not p.name.startswith("."))


@dataclass(frozen=True, slots=True)
class Contract:
    """What the code relies on in the flows (the deployment's is `CONTRACT`)."""

    steps: tuple[contract_module.StepNeed, ...]
    action_reads: dict[str, tuple[str, ...]]


CONTRACT = Contract(steps=contract_module.STEPS, action_reads=contract_module.ACTION_READS)


def load_flows(root: Path, required_texts: Iterable[str] = (),
               contract: Contract | None = None) -> FlowSet:
    """Load every `*.yaml` of `root`; raise `FlowError` listing every problem. With a
    `contract`, the steps and saved answers the code relies on must be there too."""
    loader = _Loader(Path(root))
    for path in loader.files():
        loader.load_file(path)
    return loader.finish(required_texts, contract)


def opt_outs(flowset: FlowSet) -> list[Step]:
    """The free-text steps that opted out of the confidentiality policy."""
    return [step for flow in flowset.flows.values() for step in flow.steps.values()
            if step.expect is Expect.TEXT and not step.confidential]
