"""One turn: everything the engine does for one inbound message or one scheduled job.

A `Turn` works inside one unit of work (`uow`): what it reads and changes is in that
transaction, and what it says (rendered in each recipient's language) and journals is written
into the same transaction by `finish`, so that the message, the state, the journal and the
outbox are durable together or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from babel.dates import format_date

from bot.domain import JournalEntry, OutboxEntry, PersonData
from bot.engine.people import Profile
from bot.engine.texts import fill, render
from bot.flows.model import Expect, Step, Target
from bot.i18n import current_locale, format_when, gettext
from bot.messages import Outbound
from bot.store.sql import UnitOfWork

if TYPE_CHECKING:
    from bot.engine.core import Engine

MAX_AUTO_STEPS = 50


@dataclass
class Party:
    """A person taking part in a turn: their data and their profile."""

    data: PersonData
    profile: Profile


@dataclass
class Turn:
    engine: Engine
    uow: UnitOfWork
    party: Party
    source: str  # the inbound message id or the job id: keys journal lines and outbox entries
    now: datetime
    out: list[Outbound] = field(default_factory=list)
    others: dict[str, Party] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)  # placeholders set by actions
    erase: bool = False  # the person asked for erasure: nothing of theirs is saved
    journaling: bool = True  # False when nothing of the turn may be kept (consent withdrawn)
    lines: dict[str, list[JournalEntry]] = field(default_factory=dict)
    _seq: int = 0

    # -- people ---------------------------------------------------------------------------

    @property
    def person(self) -> PersonData:
        return self.party.data

    @property
    def profile(self) -> Profile:
        return self.party.profile

    @property
    def state(self) -> dict[str, Any]:
        return self.person.state

    @property
    def answers(self) -> dict[str, Any]:
        answers: dict[str, Any] = self.state.setdefault("answers", {})
        return answers

    def other(self, pid: str) -> Party | None:
        """Another person of this turn (loaded once, locked until the commit)."""
        if pid == self.profile.id:
            return self.party
        if pid not in self.others:
            profile = self.engine.directory.get(pid, self.uow)
            if profile is None:
                return None
            self.others[pid] = Party(data=self.uow.person(pid), profile=profile)
        return self.others[pid]

    def profile_of(self, pid: str) -> Profile | None:
        return self.engine.directory.get(pid, self.uow)

    def finish(self) -> None:
        """Write the turn's journal lines and outgoing messages into its unit of work."""
        if self.journaling:
            for pid, entries in self.lines.items():
                if not (self.erase and pid == self.profile.id):
                    self.uow.journal_add(pid, entries)
        kept = self.engine.outbox_channels
        stored: list[OutboxEntry] = []
        for out in self.out:
            if out.volatile or (self.erase and out.to == self.profile.id):
                continue  # quoted identifying data, or the goodbye to an erased person
            if kept is not None and out.channel not in kept:
                continue
            stored.append(
                OutboxEntry(
                    key=out.key,
                    to=out.to,
                    text=out.text,
                    choices=out.choices,
                    meta=dict(out.meta),
                    queued_at=self.now.isoformat(),
                    question=out.about,
                )
            )
        self.uow.outbox_add(stored)

    # -- saying things ----------------------------------------------------------------------

    def _key(self) -> str:
        self._seq += 1
        return f"{self.source}#{self._seq}"

    def journal(
        self, party: Party, direction: str, text: str, kind: str = "message", qid: str | None = None
    ) -> None:
        if not self.journaling:
            return
        self.lines.setdefault(party.profile.id, []).append(
            JournalEntry(
                at=self.now.isoformat(),
                direction=direction,
                text=text,
                kind=kind,
                qid=qid,
                key=self._key(),
            )
        )

    def send(
        self,
        party: Party,
        text: str,
        choices: tuple[str, ...] = (),
        kind: str = "message",
        qid: str | None = None,
        journal_text: str | None = None,
        volatile: bool = False,
    ) -> None:
        """Queue a message already in the recipient's language and journal it (as
        `journal_text` when the journal keeps less than what is sent). `volatile`: what is
        sent must not be kept at all (quoted identifying data): never written to the outbox."""
        key = self._key()
        self.out.append(
            Outbound(
                to=party.profile.id,
                text=text,
                choices=choices,
                key=key,
                volatile=volatile,
                about=qid,
            )
        )
        kept = text if journal_text is None else journal_text
        if not self.journaling:
            return
        self.lines.setdefault(party.profile.id, []).append(
            JournalEntry(
                at=self.now.isoformat(), direction="out", text=kept, kind=kind, qid=qid, key=key
            )
        )

    def say(
        self,
        key: str,
        party: Party | None = None,
        choices: tuple[str, ...] = (),
        entry: str = "message",
        about: str | None = None,
        journal_params: dict[str, Any] | None = None,
        **params: Any,
    ) -> None:
        """Say the text `key` of `flows/system.yaml` to `party` (default: the sender).
        `journal_params` replace some placeholders in the journaled copy."""
        target = party or self.party
        with self.engine.catalogs.use(target.profile.locale):
            source = self.engine.flows.texts[key]
            text = render(source, self.params(target, params))
            kept = None
            if journal_params is not None:
                kept = render(source, self.params(target, {**params, **journal_params}))
            labels = tuple(fill(gettext(c), self.params(target, params)) for c in choices)
        self.send(target, text, labels, kind=entry, qid=about, journal_text=kept,
                  volatile=journal_params is not None)

    def text(self, key: str, party: Party | None = None, **params: Any) -> str:
        """The text `key`, rendered for `party`, without sending it."""
        target = party or self.party
        with self.engine.catalogs.use(target.profile.locale):
            return render(self.engine.flows.texts[key], self.params(target, params))

    def when(self, moment: datetime, party: Party | None = None, short: bool = False) -> str:
        target = party or self.party
        key = "date_short_pattern" if short else "date_pattern"
        with self.engine.catalogs.use(target.profile.locale):
            return format_when(moment, self.engine.flows.texts[key], self.engine.config.timezone)

    def when_day(self, day: date, party: Party | None = None) -> str:
        """A calendar date in the person's language ("lundi 21 décembre 2026")."""
        target = party or self.party
        with self.engine.catalogs.use(target.profile.locale):
            return format_date(
                day, gettext(self.engine.flows.texts["day_pattern"]), locale=current_locale()
            )

    def params(self, party: Party, extra: dict[str, Any]) -> dict[str, Any]:
        base: dict[str, Any] = {"name": party.profile.name}
        base.update(party.data.state.get("answers", {}))
        if party is self.party:
            base.update(self.extra)
        base.update(extra)
        return base

    # -- the flow -------------------------------------------------------------------------

    def current(self) -> Step | None:
        flow, step = self.state.get("flow"), self.state.get("step")
        if not flow or not step:
            return None
        return self.engine.flows.step(Target(str(flow), str(step)))

    def prompt(self, step: Step, extra: dict[str, Any] | None = None) -> None:
        """Say a step's text with its choices, in the sender's language."""
        if step.say is None:
            return
        with self.engine.catalogs.use(self.profile.locale):
            text = fill(gettext(step.say), self.params(self.party, extra or {}))
            labels = tuple(gettext(c.label) for c in step.choices)
        if step.article:
            # The charter's text is journaled by reference (version and article), not whole.
            kept = f"{self.engine.charter_version}:{step.id}"
            self.send(self.party, text, labels, kind="charter_article", journal_text=kept)
            return
        self.send(self.party, text, labels)

    def home(self) -> Target:
        return self.engine.flows.homes[self.profile.role]

    def enter(self, target: Target) -> None:
        """Move to `target`, run what the steps on the way do, stop where input is awaited."""
        for _ in range(MAX_AUTO_STEPS):
            if target.is_home:
                target = self.home()
            step = self.engine.flows.step(target)
            if step is None:  # cannot happen with a validated flow set
                target = self.home()
                continue
            if (self.state.get("flow"), self.state.get("step")) != (step.flow, step.id):
                self.state.pop("refusals", None)  # refusals count at one step (issue 14)
            self.state["flow"], self.state["step"] = step.flow, step.id
            redirect = None
            if step.action and step.expect is not Expect.TEXT:
                redirect = self.engine.actions.run(step.action, self)
            if redirect is not None:
                target = redirect
                continue
            self.prompt(step)
            if step.expect is not Expect.NONE:
                return
            target = self.follow(step, None)

    def follow(self, step: Step, index: int | None) -> Target:
        """Fire the step's event on its flow's machine; the target it leads to."""
        machine = self.engine.machines[step.flow]
        state = machine.fire(step.id, step.trigger(index))
        if state != "__exit__":
            return Target(step.flow, state)
        edge = step.choices[index - 1].next if index is not None else step.next
        assert edge is not None
        return edge
