"""The engine: one inbound message in, durable state and journal, outbound messages out.

    dedupe by message id -> unit of work (the person's lock, their state loaded)
      -> policies that run first (attachments, length, safety, commands, the charter gate)
      -> the person's flow step, with the policies the step asks for
      -> journal, outbox and state committed at once; then the outbox is delivered

The engine knows nothing of any transport, and reads the time only from its clock.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import date, datetime, timedelta

from bot.clock import Clock
from bot.config import Config
from bot.domain import PersonData
from bot.engine import charter, commands, consent, prompts, questions, wayout
from bot.engine.actions import Actions
from bot.engine.charter import charter_version, signed
from bot.engine.checks import CHECKS
from bot.engine.choices import pick
from bot.engine.guard import Guard
from bot.engine.people import Directory, Profile
from bot.engine.texts import REQUIRED_TEXTS
from bot.engine.turn import Party, Turn
from bot.flows.contract import QID, SIGNATURE
from bot.flows.loader import CONTRACT, load_flows
from bot.flows.machine import build_machines
from bot.flows.model import Expect, FlowSet, Step
from bot.i18n import Catalogs, gettext
from bot.messages import Inbound, Outbound
from bot.ops import metrics
from bot.policies.hours import Absence, Calendar
from bot.policies.textnorm import has_words
from bot.store import DamagedData, Store
from bot.store.sql import UnitOfWork
from bot.store.text import clean

log = logging.getLogger("mentorbot.engine")

PROCESSED_KEPT = timedelta(days=30)  # longer than any platform's redelivery window
SENT_KEPT = timedelta(days=7)  # sent messages stay a while for late delivery statuses


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
        self.flows = flows or load_flows(config.paths.flows, REQUIRED_TEXTS, CONTRACT)
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
        # The channels this process delivers (set by `run`): an outgoing message for another
        # channel is not queued. None (simulate, console, studio): every channel is.
        self.outbox_channels: frozenset[str] | None = None
        self.directory = Directory(config)

    def absences(self, profile: Profile, data: PersonData | None = None) -> tuple[Absence, ...]:
        """A mentor's absences: from the roster, and those they set with `/absence`."""
        pairs = list(profile.absences)
        if data is not None:
            pairs.extend((a.start, a.end) for a in data.absences)
        return tuple(
            Absence(date.fromisoformat(str(a)), date.fromisoformat(str(b))) for a, b in pairs
        )

    def absences_of(self, pid: str | None, uow: UnitOfWork) -> tuple[Absence, ...]:
        profile = self.directory.get(pid, uow) if pid else None
        if profile is None:
            return ()
        return self.absences(profile, uow.peek(profile.id))

    def profile(self, pid: str) -> Profile | None:
        with self.store.read() as uow:
            return self.directory.get(pid, uow)

    # -- inbound --------------------------------------------------------------------------

    def handle(self, inbound: Inbound) -> list[Outbound]:
        """Handle one message; returns what it sends, once everything is durably committed
        (the messages to known people are in the outbox by then)."""
        if inbound.text is not None:
            inbound = replace(inbound, text=clean(inbound.text))
        metrics.turn_started()
        metrics.message_in(inbound.channel)
        try:
            return self._handle(inbound)
        except DamagedData as damaged:
            return self._damaged(inbound, damaged.pid)

    def _handle(self, inbound: Inbound) -> list[Outbound]:
        with self.store.turn([inbound.sender]) as uow:
            profile = self.directory.get(inbound.sender, uow)
            if profile is None:
                profile = self._stranger(inbound, uow)
                if profile is None:
                    return self._stranger_reply(inbound)
            if uow.processed(inbound.message_id):
                log.info("redelivery ignored person=%s message=%s", profile.id, inbound.message_id)
                metrics.redelivery_dropped(inbound.channel)
                return []
            data = uow.person(profile.id)
            turn = Turn(self, uow, Party(data, profile), inbound.message_id, self.clock.now())
            self._pipeline(turn, inbound)
            if turn.erase:
                from bot.data.forget import erase

                erase(self, profile.id, uow)
            else:
                data.last_inbound_at = turn.now.isoformat()
                uow.outbox_release(profile.id)  # they wrote: held messages may go now
            turn.finish()
            uow.mark_processed(
                inbound.message_id, None if turn.erase else profile.id, turn.now.isoformat()
            )
        if turn.erase:
            self.store.compact_log()
            log.info("erased on request person=%s", profile.id)
        log.info("handled person=%s message=%s out=%d ms=%s", profile.id, inbound.message_id,
                 len(turn.out), metrics.turn_done())
        return turn.out

    def _damaged(self, inbound: Inbound, pid: str) -> list[Outbound]:
        """One person's data cannot be read: tell them and their mentor; others are served."""
        log.error("unreadable person data person=%s", pid)
        profile = self.directory.roster(pid)
        locale = profile.locale if profile else self.config.locale
        with self.catalogs.use(locale):
            text = gettext(self.flows.texts["data_unreadable"])
        out = [Outbound(to=inbound.sender, text=text, key=f"{inbound.message_id}#damaged")]
        mentor = profile.mentor if profile else None
        if mentor and pid == inbound.sender:
            try:
                with self.store.turn([mentor]) as uow:
                    mentor_profile = self.directory.get(mentor, uow)
                    if mentor_profile is not None:
                        turn = Turn(self, uow, Party(uow.person(mentor), mentor_profile),
                                    f"damaged:{pid}:{self.clock.now().date()}", self.clock.now())
                        if not uow.processed(turn.source):
                            turn.say("data_unreadable_mentor",
                                     mentee=(profile.name if profile else "") or pid)
                            turn.finish()
                            uow.mark_processed(turn.source, mentor, turn.now.isoformat())
                            out.extend(turn.out)
            except DamagedData:
                log.error("unreadable person data person=%s", mentor)
        return out

    def _stranger(self, inbound: Inbound, uow: UnitOfWork) -> Profile | None:
        """`/start CODE` with a valid invitation enrolls the sender; None otherwise."""
        parsed = commands.parse(inbound.text or "")
        if parsed and parsed[0] == "start" and parsed[1]:
            from bot.data.invitations import redeem

            if redeem(uow, parsed[1], inbound.sender, self.clock.now()):
                log.info("invitation redeemed channel=%s", inbound.channel)
                return self.directory.get(inbound.sender, uow)
        return None

    def _stranger_reply(self, inbound: Inbound) -> list[Outbound]:
        """Someone not enrolled: one polite answer, nothing of theirs stored."""
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
            # Consent withdrawn: nothing is recorded, but help, erasure and export always work
            # (the answer to the erasure question included).
            turn.journaling = parsed is not None and parsed[0] == "start"
            if parsed is None:
                allowed = turn.state.get("pending") == "forget"
            else:
                allowed = parsed[0] in consent.ALLOWED_WHEN_WITHDRAWN
            if not allowed:
                urgent = self.guard.resources_key(text)
                if urgent is not None:  # help is never refused
                    turn.say(urgent)
                turn.say("withdrawn_active")
                metrics.refused("withdrawn")
                return
        elif inbound.choice is None and self.guard.safety_first(turn, text):
            return
        # A pressed button answers the prompt it belongs to, while that prompt is current.
        shown: prompts.Prompt | None = None
        if inbound.prompt is not None and parsed is None:
            shown = prompts.find(turn.person, inbound.prompt)
            index = prompts.resolve(shown, text) if shown is not None else None
            if shown is None or index is None or not 1 <= index <= len(shown.labels):
                log.info("old button person=%s message=%s", turn.profile.id, inbound.message_id)
                self._stale(turn)
                return
        if turn.state.get("pending") == "forget" and parsed is None:
            consent.forget_answer(turn, text)
            return
        is_signed = signed(turn.person, self.charter_version)
        if parsed is not None:
            # Only the command is kept: free text after it passes the policies first.
            # Issue 13: even the command's name is judged ("/0612345678" is no command).
            turn.journal(turn.party, "in", self.guard.redact(turn, f"/{parsed[0]}"), kind="command")
            commands.dispatch(turn, parsed[0], parsed[1], is_signed)
            return
        if not is_signed and turn.state.get("flow") != self.flows.entry["charter"].flow:
            key = "charter_changed" if turn.person.signatures else "charter_first"
            turn.say(key)
            charter.suspend(turn.state, self.flows, turn.home())
            turn.enter(self.flows.entry["charter"])
            return
        if turn.state.get("pending") == "identifying" and self.guard.pending(turn, text):
            return
        if turn.state.get("pending") == wayout.PENDING and wayout.answer(turn, text):
            return
        if self._choose(turn, text, shown):
            return
        if shown is None and inbound.choice is None and questions.shortcut(turn, text):
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

    def _choose(self, turn: Turn, text: str, shown: prompts.Prompt | None) -> bool:
        """A choice of the prompt shown last (typed) or of the button's prompt (pressed) that
        acts on a question (a digest's "Répondre Q1", an answer's "Poursuivre Q1"). True if
        used. A button of a step's prompt still current answers that step."""
        last = prompts.latest(turn.person)
        prompt = shown or last
        if prompt is None:
            return False
        if prompt.options is None:
            step = turn.current()
            if shown is not None and shown is not last and step is not None and (
                f"{step.flow}:{step.id}" == shown.step
            ):
                self._step(turn, step, text, None)
                return True
            return False
        number = text.strip().rstrip(".").isdecimal()
        if shown is None and number and prompts.ambiguous(turn.person):
            # "2" under Q1's and Q2's choices: say how to name one rather than guess.
            turn.journal(turn.party, "in", text.strip())
            turn.say("choice_ambiguous", label=prompt.labels[0])
            return True
        index = prompts.resolve(prompt, text)
        if index is None or not 1 <= index <= len(prompt.options):
            if text.strip().rstrip(".").isdecimal():  # a number: of these choices, not others
                turn.journal(turn.party, "in", text.strip())
                turn.send(turn.party, turn.text("not_a_choice"), prompt.labels,
                          options=prompt.options, step=prompt.step, prompt=prompt.key)
                return True
            return False
        turn.journal(turn.party, "in", prompt.labels[index - 1])
        questions.act(turn, *prompt.options[index - 1])
        return True

    def _stale(self, turn: Turn) -> None:
        """An old button: say so, and show what is current."""
        last = prompts.latest(turn.person)
        if last is not None and last.labels:
            turn.send(turn.party, turn.text("choice_stale"), last.labels, options=last.options,
                      step=last.step, prompt=last.key)
            return
        turn.say("choice_stale_step")
        step = turn.current()
        if step is not None and step.say is not None:
            turn.prompt(step)
        elif signed(turn.person, self.charter_version):
            turn.enter(turn.home())
        else:
            turn.enter(self.flows.entry["charter"])

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
                if text:  # issue 13: a menu answer is journaled only once judged, masked
                    turn.journal(turn.party, "in", self.guard.redact(turn, text))
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
        # Issue 13: the one identifying verdict for every text step (held and asked about
        # with the confidentiality policy, masked otherwise); None when held.
        accepted = self.guard.screen(turn, step, text)
        if accepted is None:
            return
        self.accept_text(turn, step, accepted)

    def accept_text(self, turn: Turn, step: Step, text: str, as_is: bool = False) -> None:
        """A text that passed the rules: checks, then saved, then the step's action and next.
        `as_is`: the person chose to send it as it is, the checks with a way out are skipped."""
        for spec in step.checks:
            if as_is and wayout.waived(spec):
                continue
            if not CHECKS[spec.name](text, spec.params):
                turn.journal(turn.party, "in", text)
                with self.catalogs.use(turn.profile.locale):
                    message = gettext(spec.error)
                turn.send(turn.party, message)
                wayout.refused(turn, step, spec, text)  # issue 14: never a trap
                return
        wayout.passed(turn)
        if step.save != SIGNATURE:  # the signature is journaled by its action
            # About a question (an answer, a redirection, a follow-up): erasure finds it.
            about = turn.answers.get(QID) if step.save != QID else None
            turn.journal(turn.party, "in", text, qid=str(about) if about else None)
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
        """At a digest time: every signed mentor inside their opening hours with work pending
        gets a digest, each in a unit of work of its own, recorded so that a replay sends it
        once. Mentors with nothing pending cost no transaction."""
        from bot.engine import digest

        out: list[Outbound] = []
        with self.store.read() as uow:  # who has work: one read, not a transaction per mentor
            busy = uow.mentors_with_pending()
            for pid in uow.flagged_people():
                profile = self.directory.get(pid, uow)
                if profile is not None and profile.mentor:
                    busy.add(profile.mentor)
        for mentor in self.directory.mentors():
            if mentor.id not in busy:
                continue
            source = f"digest:{when.isoformat()}:{mentor.id}"
            try:
                with self.store.turn([mentor.id]) as uow:
                    data = uow.peek(mentor.id)
                    if data is None or not signed(data, self.charter_version):
                        continue
                    if not self.calendar.is_open(when, self.absences(mentor, data)):
                        continue
                    if uow.processed(source):
                        continue
                    turn = Turn(self, uow, Party(data, mentor), source, when)
                    count = digest.deliver(turn, turn.party, empty_notice=False)
                    if not count:
                        continue  # nothing said, nothing changed: no write, no fsync
                    turn.finish()
                    uow.mark_processed(source, mentor.id, when.isoformat())
                    log.info("digest mentor=%s messages=%d", mentor.id, count)
                    metrics.digest_sent()
                    out.extend(turn.out)
            except DamagedData as damaged:
                log.error("digest skipped: unreadable person data person=%s", damaged.pid)
        return out

    def purge(self, when: datetime) -> int:
        """Retention: journal lines and ended questions older than `retention.days`, used
        message ids, expired invitations and delivered messages are removed."""
        limit = (when - timedelta(days=self.config.retention.days)).isoformat()
        with self.store.turn() as uow:
            removed = uow.journal_purge(limit)
            questions_removed = uow.questions_purge(limit)
            uow.processed_purge((when - PROCESSED_KEPT).isoformat())
            uow.invitations_purge(when.isoformat())
            uow.outbox_purge((when - SENT_KEPT).isoformat())
        if removed or questions_removed:
            log.info("retention purge journal=%d questions=%d", removed, questions_removed)
        return removed
