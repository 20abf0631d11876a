"""The charter's policies applied inside a turn: safety first, then confidentiality of text.

The policies themselves (`bot.policies.*`) are pure; this module turns their verdicts into
what the person is told, what is flagged for the mentor and what is (not) stored.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bot.config import PROJECT_ROOT, Config
from bot.domain import Flag
from bot.engine import trace
from bot.engine.choices import pick
from bot.errors import UserError
from bot.flows.model import Expect, Step
from bot.i18n import gettext
from bot.ops import metrics

if TYPE_CHECKING:
    from bot.engine.turn import Turn
    from bot.policies.identifying import IdentifyingDetector, Span
    from bot.policies.safety import SafetyPolicy

log = logging.getLogger("mentorbot.guard")


class PolicyError(UserError):
    """A policy's data file (lexicon) cannot be used: one line naming the file and entry."""


SAFETY_CHOICES = ("safety_choice_continue", "safety_choice_not_safe", "safety_choice_numbers")
# Answers typed by hand that name a choice (texts of flows/system.yaml, "|"-separated).
_SAFETY_SYNONYMS = {
    "safety_choice_continue": "safety_words_safe",
    "safety_choice_not_safe": "safety_words_unsafe",
}
ID_CHOICES = (
    "identifying_choice_mask",
    "identifying_choice_rephrase",
    "identifying_choice_not_identifying",
)


@dataclass
class _Flagged:
    """A text held in memory only, while its author decides: never written to disk."""

    flow: str
    step: str
    text: str
    spans: list[Span]


class Guard:
    """Safety and confidentiality, built lazily (the language model loads on first need)."""

    def __init__(self, config: Config, *, safety: bool = True, identifying: bool = True) -> None:
        self.config = config
        self._safety_on = safety
        self._identifying_on = identifying
        self._safety: SafetyPolicy | None = None
        self._detector: IdentifyingDetector | None = None
        self._lock = threading.Lock()
        self._flagged: dict[str, _Flagged] = {}
        self._safety_held: dict[str, _Flagged] = {}  # texts judged alarming, memory only

    @classmethod
    def from_config(cls, config: Config) -> Guard:
        return cls(config)

    # -- lazily built policies --------------------------------------------------------------

    @property
    def safety(self) -> SafetyPolicy | None:
        if self._safety is None and self._safety_on:
            from bot.policies.safety import load_safety_policy

            with self._lock:
                if self._safety is None:
                    try:
                        self._safety = load_safety_policy(self.safety_path)
                    except ValueError as exc:  # SafetyLexiconError names the file and entry
                        raise PolicyError(str(exc)) from None
        return self._safety

    def _policy_file(self, name: str) -> Path:
        """A deployment's own `flows/policies/<name>`, else the shipped one."""
        own = self.config.paths.flows / "policies" / name
        return own if own.exists() else PROJECT_ROOT / "flows" / "policies" / name

    @property
    def safety_path(self) -> Path:
        return self._policy_file("safety.yaml")

    @property
    def identifying_path(self) -> Path:
        return self._policy_file("identifying.yaml")

    def prepare(self, warm_up: bool = False) -> None:
        """Load the policies now (a broken lexicon stops the start, not a conversation);
        `warm_up` also loads the language model, for servers."""
        detector = self.detector
        _ = self.safety
        if warm_up and detector is not None:
            detector.warm_up()

    @property
    def detector(self) -> IdentifyingDetector | None:
        if self._detector is None and self._identifying_on:
            from bot.policies.identifying import IdentifyingDetector, IdentifyingSettings, SpanKind

            conf = self.config.confidentiality
            disabled = frozenset(SpanKind(k) for k in conf.disabled)
            settings = IdentifyingSettings(
                deny_list=tuple(conf.deny_list),
                disabled=disabled,
                extra_stop_words=tuple(conf.stop_words),
                lexicon_path=self.identifying_path,
                use_model=conf.use_model,
            )
            with self._lock:
                if self._detector is None:
                    try:
                        self._detector = IdentifyingDetector(settings)
                    except ValueError as exc:  # LexiconError names the file
                        raise PolicyError(str(exc)) from None
        return self._detector

    # -- article 6 ------------------------------------------------------------------------

    def resources_key(self, text: str) -> str | None:
        """The text key of the immediate answer an alarming message calls for, else None.
        Used where nothing may be stored (strangers, withdrawn consent): the answer only."""
        policy = self.safety
        if policy is None:
            return None
        from bot.policies.safety import SafetyLevel

        level = policy.assess(text).level
        if level is SafetyLevel.URGENT:
            return "safety_urgent"
        if level is SafetyLevel.DISTRESS:
            return "safety_distress"
        if level is SafetyLevel.CHECK_IN:
            return "safety_check_in"
        return None

    def safety_first(self, turn: Turn, text: str) -> bool:
        """Check every text before anything else. True when the turn is fully answered.

        An alarming text (check-in, distress, urgent) gets the help resources at once, in any
        step, signed or not, at any hour; the person is asked whether they are safe, and the
        interrupted step waits for that answer. The text itself is never saved as the step's
        answer (it is held in memory only) unless the person says it was their answer.
        """
        if turn.state.get("pending") == "safety" and self._safety_answer(turn, text):
            return True
        policy = self.safety
        if policy is None:
            return False
        from bot.policies.safety import SafetyLevel

        verdict = policy.assess(text)
        trace.safety(turn, verdict.level.name)
        if verdict.level is SafetyLevel.NONE:
            if turn.state.get("pending") == "safety" and not text.lstrip().startswith("/"):
                # The question stays until answered: one message cannot dismiss it silently.
                self._ask_to_continue(turn)
                return True
            return False
        log.info(
            "safety person=%s level=%s layer=%s rules=%s",
            turn.profile.id,
            verdict.level.name,
            verdict.layer,
            ",".join(verdict.rules),
        )
        metrics.safety_answer(verdict.level.name)
        if verdict.level is SafetyLevel.OUT_OF_SCOPE:
            turn.say("safety_out_of_scope")
            return False
        level = verdict.level.name.lower()
        self._flag(turn, level)
        turn.journal(turn.party, "in", "", kind=f"safety_{level}")
        key = {
            SafetyLevel.URGENT: "safety_urgent",
            SafetyLevel.DISTRESS: "safety_distress",
        }.get(verdict.level, "safety_check_in")
        turn.say(key, entry="safety")
        self._hold_for_safety(turn, text)
        turn.state["pending"] = "safety"
        self._ask_to_continue(turn)
        return True

    def _flag(self, turn: Turn, level: str) -> None:
        """For the top of the mentor's next digest: the fact and its level, never the text."""
        if turn.journaling:
            turn.uow.flag_add(Flag(person=turn.profile.id, at=turn.now.isoformat(), level=level))

    def _hold_for_safety(self, turn: Turn, text: str) -> None:
        """A text typed at a text step is kept in memory only, until the person says whether
        it was their answer; it never reaches the question (context, analysis, ask...)."""
        step = turn.current()
        self._safety_held.pop(turn.profile.id, None)
        if step is None or step.expect is not Expect.TEXT or text.lstrip().startswith("/"):
            return
        self._safety_held[turn.profile.id] = _Flagged(step.flow, step.id, text, [])
        turn.say("safety_not_saved")

    def _held_here(self, turn: Turn) -> _Flagged | None:
        """The held text, if the person is still at the step it was typed for."""
        held = self._safety_held.get(turn.profile.id)
        step = turn.current()
        if held is None or step is None or (held.flow, held.step) != (step.flow, step.id):
            return None
        return held

    def _safety_keys(self, turn: Turn) -> tuple[str, ...]:
        keys = SAFETY_CHOICES
        return (*keys, "safety_choice_keep") if self._held_here(turn) is not None else keys

    def _ask_to_continue(self, turn: Turn) -> None:
        texts = turn.engine.flows.texts
        choices = tuple(texts[k] for k in self._safety_keys(turn))
        turn.say("safety_continue", choices=choices)

    def _safety_answer(self, turn: Turn, text: str) -> bool:
        """The answer to "Are you safe right now?". True when the turn is fully answered.

        "Non" (not safe) gets the emergency numbers again and the question stays; "ça va"
        resumes the step. Neither closes anything: every later text is assessed the same way.
        """
        keys = self._safety_keys(turn)
        picked = self._pick(turn, text, keys, synonyms=_SAFETY_SYNONYMS)
        if picked == "safety_choice_continue":
            turn.journal(turn.party, "in", turn.text("safety_choice_continue"))
            self._safety_held.pop(turn.profile.id, None)
            turn.state.pop("pending", None)
            turn.say("safety_resumed")
            step = turn.current()
            if step is not None:
                turn.prompt(step)
            return True
        if picked == "safety_choice_not_safe":
            turn.journal(turn.party, "in", turn.text("safety_choice_not_safe"))
            self._flag(turn, "urgent")
            turn.journal(turn.party, "in", "", kind="safety_urgent")
            turn.say("safety_urgent", entry="safety")
            turn.say("safety_not_safe", entry="safety")
            self._ask_to_continue(turn)
            return True
        if picked == "safety_choice_numbers":
            turn.say("help", commands=turn.text(f"commands_{turn.profile.role}"))
            self._ask_to_continue(turn)
            return True
        if picked == "safety_choice_keep":
            held = self._safety_held.pop(turn.profile.id)
            turn.state.pop("pending", None)
            turn.journal(turn.party, "in", turn.text("safety_choice_keep"))
            step = turn.current()
            assert step is not None  # _held_here checked it
            turn.engine.answer_step(turn, step, held.text)
            return True
        return False  # anything else is assessed first: it may be alarming too

    def _pick(
        self,
        turn: Turn,
        text: str,
        keys: tuple[str, ...],
        synonyms: dict[str, str] | None = None,
    ) -> str | None:
        """The choice `text` names, by number or label; `synonyms` maps a choice to a text of
        answers typed by hand ("oui|ça va"), accepted in the source and the person's language."""
        texts = turn.engine.flows.texts
        with turn.engine.catalogs.use(turn.profile.locale):
            options = []
            for key in keys:
                labels = [texts[key], gettext(texts[key])]
                words = (synonyms or {}).get(key)
                if words is not None:
                    labels += [*texts[words].split("|"), *gettext(texts[words]).split("|")]
                options.append(labels)
        index = pick(text, options)
        return keys[index - 1] if index is not None else None

    # -- article 2 ------------------------------------------------------------------------

    def confidentiality(self, turn: Turn, step: Step, text: str) -> bool:
        """Identifying data in a text: hold it in memory, ask the person. True when held."""
        detector = self.detector
        if detector is None:
            return False
        spans = detector.detect(text)
        trace.identifying(turn, spans)
        if not spans:
            return False
        self._hold(turn, step, text, spans)
        return True

    def _hold(self, turn: Turn, step: Step, text: str, spans: list[Span]) -> None:
        self._flagged[turn.profile.id] = _Flagged(step.flow, step.id, text, spans)
        turn.state["pending"] = "identifying"
        turn.journal(turn.party, "in", "", kind="refused_identifying")
        metrics.refused("identifying")
        found = "; ".join(
            turn.text("identifying_item", text=s.text, kind=turn.text("kind_" + s.kind.value))
            for s in spans
        )
        keys = ID_CHOICES if all(not s.kind.structured for s in spans) else ID_CHOICES[:2]
        log.info(
            "identifying person=%s kinds=%s",
            turn.profile.id,
            ",".join(sorted({s.kind.value for s in spans})),
        )
        kinds = "; ".join(dict.fromkeys(turn.text("kind_" + s.kind.value) for s in spans))
        turn.say(
            "identifying_found",
            found=found,
            journal_params={"found": kinds},  # the journal keeps the kinds, never the data
            choices=tuple(turn.engine.flows.texts[k] for k in keys),
        )

    def pending(self, turn: Turn, text: str) -> bool:
        """The answer to a held text's question. True when the turn is fully answered."""
        if turn.state.get("pending") != "identifying":
            return False
        held = self._flagged.get(turn.profile.id)
        step = turn.current()
        if held is None or step is None or (held.flow, held.step) != (step.flow, step.id):
            self._flagged.pop(turn.profile.id, None)
            turn.state.pop("pending", None)
            turn.say("identifying_lost")
            return False  # the new text is handled as the step's answer
        picked = self._pick(turn, text, ID_CHOICES)
        if picked == "identifying_choice_not_identifying" and any(
            s.kind.structured for s in held.spans
        ):
            picked = None
        if picked is None:
            # A new text instead of a choice: it replaces the held one.
            self._flagged.pop(turn.profile.id, None)
            turn.state.pop("pending", None)
            return False
        self._flagged.pop(turn.profile.id, None)
        turn.state.pop("pending", None)
        turn.journal(turn.party, "in", turn.text(picked))
        if picked == "identifying_choice_rephrase":
            turn.say("identifying_rephrase")
            return True
        if picked == "identifying_choice_mask":
            accepted = self.mask(turn, held.text, held.spans)
            turn.say("identifying_masked", text=accepted)
        else:
            assert self.detector is not None
            rest = self.detector.detect(held.text, ignore={s.text for s in held.spans})
            accepted = self.mask(turn, held.text, rest) if rest else held.text
        turn.engine.accept_text(turn, step, accepted)
        return True

    def mask(self, turn: Turn, text: str, spans: list[Span]) -> str:
        from bot.policies.identifying import SpanKind, mask

        labels: dict[SpanKind, str] = {}
        for kind in SpanKind:
            labels[kind] = turn.text(f"placeholder_{kind.value}")
        masked: str = mask(text, spans, labels)
        metrics.masked(s.kind.value for s in spans)
        return masked
