"""The charter's policies applied inside a turn: safety first, then confidentiality of text.

The policies themselves (`bot.policies.*`) are pure; this module turns their verdicts into
what the person is told, what is flagged for the mentor and what is (not) stored.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.config import PROJECT_ROOT, Config
from bot.domain import Flag
from bot.engine import trace
from bot.engine.choices import pick
from bot.errors import UserError
from bot.flows.contract import QUESTION_PARTS, SIGNATURE
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


# In `turn.state` (persisted with the person): the held text's masked version and kinds,
# the step whose next text may name people, and the per-question numbering memory.
PENDING_KEY = "identifying"
WAIVER_KEY = "identifying_waiver"
NUMBERS_KEY = "identifying_numbers"
MAX_NUMBER_SCOPES = 8


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

    @staticmethod
    def _delegating(turn: Turn, text: str) -> bool:
        """The text answers a step whose `not_delegating` check refuses it."""
        from bot.engine.checks import CHECKS

        step = turn.current()
        if step is None or step.expect is not Expect.TEXT:
            return False
        return any(spec.name == "not_delegating" and not CHECKS[spec.name](text, spec.params)
                   for spec in step.checks)

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
        from bot.policies.safety import SafetyLevel, SafetyVerdict

        verdict = policy.assess(text)
        if verdict.level is SafetyLevel.OUT_OF_SCOPE and turn.profile.role != "mentee":
            # Issue 14: the hint is for a mentee's own matter. A mentor who redirects towards
            # a lawyer or a doctor does their job (charter, article 6): no warning for it.
            verdict = SafetyVerdict(SafetyLevel.NONE)
        if (verdict.layer == "semantic" and verdict.level < SafetyLevel.URGENT
                and self._delegating(turn, text)):
            # "Dites-moi ce que je dois faire" reads like helplessness to the meaning layer
            # alone; the step recognises a decision handed to the mentor and explains that the
            # mentor does not decide (charter, article 4). A word of the lexicon still wins.
            verdict = SafetyVerdict(SafetyLevel.NONE)
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
    #
    # Issue 13: one verdict for every text a person types. `screen` judges a text typed for a
    # text step (held and asked about when the step has the confidentiality policy, masked
    # silently otherwise); `redact` masks a text that is only journaled (a menu answer that is
    # no choice). Nothing identifying is kept while the person decides: `turn.state` holds the
    # masked version and the kinds found, never the original, so the decision survives a
    # restart. "Ce n'est pas identifiant" (names only) cannot bring the original back: the
    # person is asked to send it again, and that next text for the same step passes with its
    # names of people and organisations accepted (structured identifiers and the deny-list
    # are still checked).

    def _parties(self, turn: Turn) -> tuple[str, ...]:
        """The full names of the relationship's own parties: the author, and the mentor of a
        mentee or the mentee of the question a mentor is handling."""
        names = [turn.profile.name]
        other: str | None = None
        if turn.profile.role == "mentee":
            other = turn.profile.mentor
        else:
            qid = turn.state.get("answers", {}).get("qid")
            question = turn.uow.question(str(qid)) if qid else None
            other = question.mentee if question is not None else None
        if other:
            profile = turn.profile_of(other)
            if profile is not None:
                names.append(profile.name)
        return tuple(name for name in names if name)

    def _spans(self, turn: Turn, text: str) -> list[Span]:
        detector = self.detector
        if detector is None:
            return []
        spans = detector.detect(text, allowed_names=self._parties(turn))
        trace.identifying(turn, spans)
        return spans

    def screen(self, turn: Turn, step: Step, text: str) -> str | None:
        """The identifying verdict on a text typed for a text step: the text to accept (as
        typed, or masked), or None when it is held and the person was asked what to do."""
        from bot.policies.identifying import SpanKind

        spans = self._spans(turn, text)
        waiver = turn.state.pop(WAIVER_KEY, None)
        if waiver == [step.flow, step.id] or step.save == SIGNATURE:
            # Names declared not identifying, or a signature (a name, by design).
            spans = [s for s in spans if s.kind not in {SpanKind.PERSON, SpanKind.ORGANISATION}]
        if not spans:
            return text
        if step.confidential:  # every free-text step unless its YAML opts out
            self._hold(turn, step, text, spans)
            return None
        log.info("identifying masked person=%s step=%s:%s", turn.profile.id, step.flow, step.id)
        return self.mask(turn, text, spans)

    def confidentiality(self, turn: Turn, step: Step, text: str) -> bool:
        """Identifying data in a text: hold its masked version, ask the person. True when held."""
        spans = self._spans(turn, text)
        if not spans:
            return False
        self._hold(turn, step, text, spans)
        return True

    def redact(self, turn: Turn, text: str) -> str:
        """A text that is only journaled, every identifying element masked."""
        spans = self._spans(turn, text)
        return self.mask(turn, text, spans) if spans else text

    def _hold(self, turn: Turn, step: Step, text: str, spans: list[Span]) -> None:
        from bot.policies.identifying import SpanKind

        numbers = self._numbers(turn, step)
        masked = self.mask(turn, text, spans, numbers)
        kinds = list(dict.fromkeys(s.kind.value for s in spans))
        names_only = all(s.kind in {SpanKind.PERSON, SpanKind.ORGANISATION} for s in spans)
        keys = ID_CHOICES if names_only else ID_CHOICES[:2]
        turn.state["pending"] = "identifying"
        turn.state[PENDING_KEY] = {
            "flow": step.flow,
            "step": step.id,
            "masked": masked,
            "kinds": kinds,
            "choices": list(keys),
            "numbers": numbers,
        }
        turn.journal(turn.party, "in", "", kind="refused_identifying")
        metrics.refused("identifying")
        log.info("identifying person=%s kinds=%s", turn.profile.id, ",".join(sorted(kinds)))
        found = turn.listing([turn.text("kind_" + kind) for kind in kinds])
        turn.say(
            "identifying_found",
            found=found,
            text=masked,
            choices=tuple(turn.engine.flows.texts[k] for k in keys),
        )

    def pending(self, turn: Turn, text: str) -> bool:
        """The answer to a held text's question. True when the turn is fully answered: a
        choice resolving the decision is consumed by it and never answers the step too."""
        if turn.state.get("pending") != "identifying":
            return False
        held = turn.state.get(PENDING_KEY)
        step = turn.current()
        keys = tuple(held.get("choices", ID_CHOICES)) if isinstance(held, dict) else ID_CHOICES
        picked = self._pick(turn, text, keys)
        if (
            not isinstance(held, dict)
            or step is None
            or (held.get("flow"), held.get("step")) != (step.flow, step.id)
        ):
            self._clear(turn)
            turn.say("identifying_lost")
            if picked is None:
                return False  # the new text is handled as the step's answer
            if step is not None:
                turn.prompt(step)
            return True
        if picked is None:
            # A new text instead of a choice: it replaces the held one.
            self._clear(turn)
            return False
        self._clear(turn)
        turn.journal(turn.party, "in", turn.text(picked))
        if picked == "identifying_choice_rephrase":
            turn.say("identifying_rephrase")
            return True
        if picked == "identifying_choice_not_identifying":
            turn.state[WAIVER_KEY] = [step.flow, step.id]
            turn.say("identifying_resend")
            return True
        masked = str(held.get("masked", ""))
        self._keep_numbers(turn, held.get("numbers"))
        turn.say("identifying_masked", text=masked)
        turn.engine.accept_text(turn, step, masked)
        return True

    def _clear(self, turn: Turn) -> None:
        turn.state.pop("pending", None)
        turn.state.pop(PENDING_KEY, None)

    # -- placeholders numbered per question -------------------------------------------------
    #
    # "[PERSONNE_1]" must be the same person in the context, the analysis and the ask, across
    # restarts, without keeping any name. Each scope (the question being written, or the
    # question a follow-up or an answer is about) has a random key; a name is remembered as
    # the first 3 hex digits of HMAC(key, folded name): 4,096 buckets, so a digest cannot be
    # turned back into one name (thousands of names share it), and the key dies with the
    # scope, so the same name in two questions cannot be linked. Two different names of one
    # question share a digest once in 4,096: they would then share a number.

    def _scope(self, turn: Turn, step: Step) -> str:
        if step.save in QUESTION_PARTS:
            return "draft"
        qid = turn.state.get("answers", {}).get("qid")
        return f"q:{qid}" if qid else f"step:{step.flow}:{step.id}"

    def _numbers(self, turn: Turn, step: Step) -> dict[str, Any]:
        """The numbering memory of the step's scope (a copy: kept only if the mask is)."""
        scope = self._scope(turn, step)
        stored: dict[str, Any] = turn.state.get(NUMBERS_KEY, {})
        answers = turn.state.get("answers", {})
        fresh = scope == "draft" and not any(
            part in answers for part in QUESTION_PARTS if part != step.save
        )
        memory = stored.get(scope)
        if fresh or not isinstance(memory, dict):
            memory = {"key": secrets.token_hex(16), "labels": {}}
        return {"scope": scope, "key": memory["key"], "labels": dict(memory["labels"])}

    def _keep_numbers(self, turn: Turn, numbers: object) -> None:
        if not isinstance(numbers, dict) or "scope" not in numbers:
            return
        stored: dict[str, Any] = turn.state.setdefault(NUMBERS_KEY, {})
        stored.pop(numbers["scope"], None)
        stored[numbers["scope"]] = {"key": numbers["key"], "labels": numbers["labels"]}
        while len(stored) > MAX_NUMBER_SCOPES:
            stored.pop(next(iter(stored)))

    def mask(
        self, turn: Turn, text: str, spans: list[Span], numbers: dict[str, Any] | None = None
    ) -> str:
        """The text with placeholders in the person's language; names numbered with
        `numbers` (a scope's memory, updated in place) when given, per message otherwise."""
        from bot.policies.identifying import SpanKind, mask
        from bot.policies.textnorm import fold

        labels = {kind: turn.text(f"placeholder_{kind.value}") for kind in SpanKind}
        metrics.masked(s.kind.value for s in spans)
        if numbers is None:
            return mask(text, spans, labels)
        key = bytes.fromhex(str(numbers["key"]))
        memory: dict[str, list[str]] = numbers["labels"]

        def number(label: str, surface: str) -> int:
            digest = hmac.new(key, fold(surface).encode(), hashlib.sha256).hexdigest()[:3]
            seen = memory[label] = list(memory.get(label, []))
            if digest not in seen:
                seen.append(digest)
            return seen.index(digest) + 1

        return mask(text, spans, labels, number)
