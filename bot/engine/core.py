"""The engine: one inbound message in, durable state and journal, outbound messages out.

    dedupe by message id -> per-person lock -> load state
      -> policies that run first (attachments, length, safety, commands, the charter gate)
      -> the person's flow step, with the policies the step asks for
      -> persist everyone touched durably, then return what to send

The engine knows nothing of any transport, and reads the time only from its clock.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Collection
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any

from bot.clock import Clock
from bot.config import Config
from bot.engine import commands, consent, questions
from bot.engine.actions import Actions
from bot.engine.charter import charter_version, signed
from bot.engine.checks import CHECKS
from bot.engine.choices import pick
from bot.engine.guard import Guard
from bot.engine.locks import PersonLocks
from bot.engine.people import Directory, Profile
from bot.engine.texts import REQUIRED_TEXTS
from bot.engine.turn import Party, Turn
from bot.flows.loader import load_flows
from bot.flows.machine import build_machines
from bot.flows.model import Expect, FlowSet, Step
from bot.i18n import Catalogs, gettext
from bot.messages import Inbound, Outbound
from bot.ops import metrics
from bot.policies.hours import Absence, Calendar
from bot.policies.textnorm import has_words
from bot.store import PersonData, SharedData, Store

log = logging.getLogger("mentorbot.engine")


class Engine:
    """Transport-neutral conversation engine over a `Store` and a `Clock`."""

    def __init__(
        self,
        config: Config,
        store: Store,
        clock: Clock,
        flows: FlowSet | None = None,
        catalogs: Catalogs | None = None,
        guard: Guard | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self.clock = clock
        self.flows = flows or load_flows(config.paths.flows, REQUIRED_TEXTS)
        self.catalogs = catalogs or Catalogs(config.paths.locales, config.locale)
        self.machines = build_machines(self.flows)
        self.actions = Actions()
        self.charter_version = charter_version(self.flows)
        self.calendar = Calendar(
            days=config.hours.days,
            open=config.hours.open,
            close=config.hours.close,
            timezone=config.timezone,
            holidays_country=config.hours.holidays,
        )
        self.guard = guard or Guard.from_config(config)
        # Channels whose replies go through the durable outbox (set by `run`): their outbound
        # messages are written in the same commit as the turn, so a crash loses none.
        self.outbox_channels: frozenset[str] = frozenset()
        self._shared_lock = threading.RLock()
        self.shared: SharedData = store.load_shared()
        self.directory = Directory(config, self.shared)
        self.locks = PersonLocks()

    # -- shared state ---------------------------------------------------------------------

    def next_question_id(self, mentee: str) -> str:
        with self._shared_lock:
            number = self.shared.counters.get("question", 0) + 1
            self.shared.counters["question"] = number
            qid = f"Q{number}"
            self.shared.questions[qid] = mentee
            self.store.save_shared(self.shared, ("counters", "questions"))
            return qid

    def update_shared(self, change: Any, parts: Collection[str] | None = None) -> None:
        """Apply `change(shared)` and persist the `parts` it touches (all when None); `change`
        may return False to say that nothing changed."""
        with self._shared_lock:
            changed = change(self.shared)
            if parts is None or "enrolled" in parts:
                self.directory.invalidate()
            if changed is not False:
                self.store.save_shared(self.shared, parts)

    def absences(self, profile: Profile, data: PersonData | None = None) -> tuple[Absence, ...]:
        """A mentor's absences: from the roster, and those they set with `/absence`."""
        pairs = list(profile.absences)
        stored = data if data is not None else self.store.load_person(profile.id)
        if stored is not None:
            pairs.extend(tuple(p) for p in stored.meta.get("absences", []))
        return tuple(
            Absence(date.fromisoformat(str(a)), date.fromisoformat(str(b))) for a, b in pairs
        )

    # -- inbound --------------------------------------------------------------------------

    def handle(self, inbound: Inbound) -> list[Outbound]:
        """Handle one message; returns what to send, once everything is durably stored."""
        started = metrics.turn_started()
        metrics.message_in(inbound.channel)
        profile = self.directory.get(inbound.sender)
        if profile is None:
            return self._stranger(inbound)
        with self.locks.hold(profile.id):
            data = self.store.load_person(profile.id) or PersonData(id=profile.id)
            if data.has_applied(inbound.message_id):
                log.info("redelivery ignored person=%s message=%s", profile.id, inbound.message_id)
                metrics.redelivery_dropped(inbound.channel)
                return []
            turn = Turn(self, Party(data, profile), inbound.message_id, self.clock.now())
            with turn.stack:
                self._pipeline(turn, inbound)
                data.meta["last_inbound_at"] = turn.now.isoformat()
                self.commit(turn)
            log.info(
                "handled person=%s message=%s out=%d ms=%s", profile.id, inbound.message_id,
                len(turn.out), metrics.turn_done(started),
            )
        if turn.erase:
            # Outside the person's lock: erasure takes the mentor's lock, and the lock order is
            # always the mentor's before the mentee's.
            from bot.data.forget import forget

            forget(self, profile.id)
            log.info("erased on request person=%s", profile.id)
        return turn.out

    def commit(self, turn: Turn) -> None:
        """Persist the other people first, the turn's own person last (it records the source
        id: a crash before that point replays the whole turn, whose other writes are skipped)."""
        dropped: set[str] = set()
        for pid, party in turn.others.items():
            if party.data.has_applied(turn.source):
                dropped.add(pid)
                continue
            if not party.changed() and not any(o.to == pid for o in turn.out):
                continue  # only looked at (a digest reading a mentee's questions): no write
            party.data.mark_applied(turn.source)
            self._queue(turn, party.data)
            self.store.save_person(party.data)
        if dropped:
            turn.out = [o for o in turn.out if o.to not in dropped]
        if turn.erase:
            return
        turn.person.mark_applied(turn.source)
        self._queue(turn, turn.person)
        self.store.save_person(turn.person)

    def _queue(self, turn: Turn, data: PersonData) -> None:
        """Put the person's outbound messages in their outbox, in the same atomic write."""
        if not self.outbox_channels:
            return
        present = {entry.get("key") for entry in data.outbox}
        for out in turn.out:
            if out.to == data.id and out.channel in self.outbox_channels and out.key not in present:
                data.outbox.append(
                    {
                        "key": out.key,
                        "to": out.to,
                        "text": out.text,
                        "choices": list(out.choices),
                        "meta": dict(out.meta),
                        "status": "pending",
                        "parts": 0,
                        "queued_at": turn.now.isoformat(),
                    }
                )

    def _stranger(self, inbound: Inbound) -> list[Outbound]:
        """Someone not enrolled: one polite answer, nothing of theirs stored.

        The one exception is `/start CODE` with a valid invitation: the sender is enrolled."""
        parsed = commands.parse(inbound.text or "")
        if parsed and parsed[0] == "start" and parsed[1]:
            from bot.data.invitations import redeem

            if redeem(self, parsed[1], inbound.sender, self.clock.now()):
                log.info("invitation redeemed channel=%s", inbound.channel)
                return self.handle(inbound)
        log.info("unknown sender channel=%s", inbound.channel)
        metrics.refused("unknown_sender")
        keys = ["unknown_sender"]
        urgent = self.guard.resources_key(inbound.text or "")
        if urgent is not None:  # help is never refused, even to a stranger
            keys.insert(0, urgent)
        with self.catalogs.use(self.config.locale):
            texts = [gettext(self.flows.texts[key]) for key in keys]
        return [
            Outbound(to=inbound.sender, text=text, key=f"{inbound.message_id}#{i}")
            for i, text in enumerate(texts, 1)
        ]

    def _pipeline(self, turn: Turn, inbound: Inbound) -> None:
        if inbound.choice is not None and inbound.text is None:
            # A button press is the number typed: it answers a flow step or a policy's question.
            inbound = replace(inbound, text=str(inbound.choice), choice=None)
        if inbound.attachment is not None:
            self._refuse_attachment(turn, inbound)
            return
        text = inbound.text if inbound.text is not None else ""
        if inbound.choice is None and len(text) > self.config.limits.max_text_length:
            turn.journal(turn.party, "in", "", kind="refused_too_long")
            metrics.refused("too_long")
            turn.say("too_long", count=len(text), limit=self.config.limits.max_text_length)
            return
        if inbound.choice is None and not text.strip():
            turn.say("empty_message", choices=self._current_choices(turn))
            return
        parsed = commands.parse(text) if inbound.choice is None else None
        in_charter = turn.state.get("flow") == self.flows.entry["charter"].flow
        if consent.withdrawn(turn.person) and not in_charter:
            if parsed is None or parsed[0] not in consent.ALLOWED_WHEN_WITHDRAWN:
                turn.journaling = False  # consent withdrawn: answered, nothing recorded
                urgent = self.guard.resources_key(text)
                if urgent is not None:  # help is never refused
                    turn.say(urgent)
                turn.say("withdrawn_active")
                metrics.refused("withdrawn")
                return
        elif inbound.choice is None and self.guard.safety_first(turn, text):
            return
        if turn.state.get("pending") == "forget" and parsed is None:
            consent.forget_answer(turn, text)
            return
        is_signed = signed(turn.person, self.charter_version)
        if parsed is not None:
            # Only the command is kept: free text after it passes the policies first.
            turn.journal(turn.party, "in", f"/{parsed[0]}", kind="command")
            commands.dispatch(turn, parsed[0], parsed[1], is_signed)
            return
        if not is_signed and turn.state.get("flow") != self.flows.entry["charter"].flow:
            key = "charter_changed" if turn.person.signatures else "charter_first"
            turn.say(key)
            turn.state.pop("answers", None)
            turn.enter(self.flows.entry["charter"])
            return
        if turn.state.get("pending") == "identifying" and self.guard.pending(turn, text):
            return
        if inbound.choice is None and questions.shortcut(turn, text):
            return
        step = turn.current()
        if step is None:
            if turn.state.get("step"):
                log.warning(
                    "stored step gone person=%s step=%s:%s",
                    turn.profile.id,
                    turn.state.get("flow"),
                    turn.state.get("step"),
                )
                turn.say("state_reset")
            turn.enter(turn.home() if is_signed else self.flows.entry["charter"])
            return
        self._step(turn, step, text, inbound.choice)

    def _current_choices(self, turn: Turn) -> tuple[str, ...]:
        step = turn.current()
        return tuple(c.label for c in step.choices) if step else ()

    def _refuse_attachment(self, turn: Turn, inbound: Inbound) -> None:
        kind = str(inbound.attachment)
        turn.journal(turn.party, "in", kind, kind="attachment_refused")
        metrics.refused("attachment")
        turn.say(
            "attachment_refused",
            kind=turn.text(f"attachment_{kind}"),
            choices=self._current_choices(turn),
        )

    # -- steps ----------------------------------------------------------------------------

    def _step(self, turn: Turn, step: Step, text: str, choice: int | None) -> None:
        if step.expect is Expect.CHOICE:
            index = choice if choice is not None else self.match_choice(turn, step, text)
            if index is None or not 1 <= index <= len(step.choices):
                turn.journal(turn.party, "in", text) if text else None
                turn.say("not_a_choice", choices=tuple(c.label for c in step.choices))
                return
            picked = step.choices[index - 1]
            with self.catalogs.use(turn.profile.locale):
                label = gettext(picked.label)
            turn.journal(turn.party, "in", label)
            target = turn.follow(step, index)
            if picked.action:
                target = self.actions.run(picked.action, turn) or target
            turn.enter(target)
            return
        if step.expect is Expect.TEXT:
            self.answer_step(turn, step, text)
            return
        turn.enter(turn.follow(step, None))

    def answer_step(self, turn: Turn, step: Step, text: str) -> None:
        """A text typed for a text step: the step's policies, then its checks."""
        if not has_words(text):
            turn.say("emoji_only")
            return
        if "confidentiality" in step.policies and self.guard.confidentiality(turn, step, text):
            return
        self.accept_text(turn, step, text)

    def accept_text(self, turn: Turn, step: Step, text: str) -> None:
        """A text that passed the rules: checks, then saved, then the step's action and next."""
        for spec in step.checks:
            if not CHECKS[spec.name](text, spec.params):
                turn.journal(turn.party, "in", text)
                with self.catalogs.use(turn.profile.locale):
                    message = gettext(spec.error)
                turn.send(turn.party, message)
                return
        if step.save != "signature_name":  # the signature is journaled by its action
            turn.journal(turn.party, "in", text)
        if step.save:
            turn.answers[step.save] = text.strip()
        target = turn.follow(step, None)
        if step.action:
            target = self.actions.run(step.action, turn) or target
        turn.enter(target)

    def match_choice(self, turn: Turn, step: Step, text: str) -> int | None:
        """A choice by its number, its label in the person's language or the source's, or a
        unique beginning of it."""
        with self.catalogs.use(turn.profile.locale):
            options = [(c.label, gettext(c.label)) for c in step.choices]
        return pick(text, options)

    # -- scheduled jobs -------------------------------------------------------------------

    def run_digests(self, when: datetime) -> list[Outbound]:
        """At a digest time: every signed mentor inside their opening hours gets a digest."""
        from bot.engine import digest

        out: list[Outbound] = []
        for mentor in self.directory.mentors():
            if not self.calendar.is_open(when, self.absences(mentor)):
                continue
            with self.locks.hold(mentor.id):
                data = self.store.load_person(mentor.id)
                if data is None or not signed(data, self.charter_version):
                    continue
                turn = Turn(self, Party(data, mentor), f"digest:{when.isoformat()}", when)
                with turn.stack:
                    if data.has_applied(turn.source):
                        continue
                    count = digest.deliver(turn, turn.party, empty_notice=False)
                    if count:
                        self.commit(turn)
                        log.info("digest mentor=%s questions=%d", mentor.id, count)
                        metrics.digest_sent()
                out.extend(turn.out)
        return out

    def purge(self, when: datetime) -> int:
        """Retention: journal lines older than `retention.days` are removed."""
        limit = when - timedelta(days=self.config.retention.days)
        removed = 0
        for pid in list(self.store.person_ids()):
            with self.locks.hold(pid):
                entries = self.store.read_journal(pid)
                kept = [e for e in entries if datetime.fromisoformat(e.at) >= limit]
                if len(kept) != len(entries):
                    self.store.rewrite_journal(pid, kept)
                    removed += len(entries) - len(kept)
        if removed:
            log.info("retention purge removed=%d", removed)
        return removed

    def state_of(self, pid: str) -> dict[str, Any]:
        data = self.store.load_person(pid)
        return dict(data.state) if data else {}
