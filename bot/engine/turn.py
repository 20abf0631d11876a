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

from babel.dates import format_date, get_day_names

from bot.domain import JournalEntry, OutboxEntry, PersonData
from bot.engine import prompts
from bot.engine.people import Profile
from bot.engine.texts import fill, render
from bot.flows.model import Expect, Step, Target
from bot.i18n import current_locale, format_when, gettext, join_words
from bot.messages import Document, Outbound
from bot.policies.hours import WEEKDAYS
from bot.store.sql import UnitOfWork

if TYPE_CHECKING:
    from bot.engine.core import Engine

MAX_AUTO_STEPS = 50
SEEN_KEY = "seen"  # the steps with an `again` text the person has already read


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
    _offered: set[str] = field(default_factory=set)  # who was offered a question's choices

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
        document: Document | None = None,
        journaled: bool = True,
        options: tuple[tuple[str, str], ...] | None = None,
        step: str | None = None,
        prompt: str | None = None,
    ) -> None:
        """Queue a message already in the recipient's language and journal it (as
        `journal_text` when the journal keeps less than what is sent). `volatile`: what is
        sent must not be kept at all (quoted identifying data): never written to the outbox.
        `document`: a file with `text` as its caption, volatile. `journaled=False`: not
        journaled at all (an export: the next one must not contain it).

        A message with choices (or a step's prompt) becomes the recipient's current prompt
        (`bot.engine.prompts`): `options` says what each choice does when it does not answer
        the step or the pending question; `prompt` re-shows an existing prompt under its key."""
        key = self._key()
        meta: dict[str, str] = {}
        if options is not None:
            self._offered.add(party.profile.id)
        if choices or step is not None:
            prompt_key = prompt or prompts.key_of(key)
            prompts.register(
                party.data,
                self.source,
                prompts.Prompt(prompt_key, choices, options, step),
            )
            if choices:
                meta["prompt"] = prompt_key
        self.out.append(
            Outbound(
                to=party.profile.id,
                text=text,
                choices=choices,
                key=key,
                meta=meta,
                volatile=volatile or document is not None,
                about=qid,
                document=document,
            )
        )
        kept = text if journal_text is None else journal_text
        if not self.journaling or not journaled:
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
        options: tuple[tuple[str, str], ...] | None = None,
        **params: Any,
    ) -> None:
        """Say the text `key` of `flows/system.yaml` to `party` (default: the sender).
        `journal_params` replace some placeholders in the journaled copy."""
        target = party or self.party
        with self.engine.catalogs.use(target.profile.locale):
            source = self.engine.flows.texts[key]
            plural = self.engine.flows.plurals.get(key)
            text = render(source, self.params(target, params), plural)
            kept = None
            if journal_params is not None:
                kept = render(source, self.params(target, {**params, **journal_params}), plural)
            labels = tuple(fill(gettext(c), self.params(target, params)) for c in choices)
        self.send(target, text, labels, kind=entry, qid=about, journal_text=kept,
                  volatile=journal_params is not None, options=options)

    def text(self, key: str, party: Party | None = None, **params: Any) -> str:
        """The text `key`, rendered for `party`, without sending it."""
        target = party or self.party
        with self.engine.catalogs.use(target.profile.locale):
            return render(self.engine.flows.texts[key], self.params(target, params),
                          self.engine.flows.plurals.get(key))

    def opening_hours(self, party: Party | None = None) -> str:
        """The configured opening hours as a sentence says them ("du lundi au vendredi, de
        08:00 à 18:00"), in `party`'s language: no text states hours the deployment has not."""
        hours = self.engine.config.hours
        target = party or self.party
        with self.engine.catalogs.use(target.profile.locale):
            names = get_day_names("wide", locale=current_locale())
            indexes = sorted(WEEKDAYS.index(day) for day in hours.days)
            days = [names[i] for i in indexes]
            if len(days) > 2 and indexes == list(range(indexes[0], indexes[-1] + 1)):
                said = self.text("hours_days_range", party=target, since=days[0], until=days[-1])
            else:
                said = join_words(days)
        return self.text("hours_summary", party=target, days=said,
                         since=hours.open.strftime("%H:%M"), until=hours.close.strftime("%H:%M"))

    def listing(self, items: list[str], party: Party | None = None) -> str:
        """Words joined as a sentence says them ("a, b et c"), in `party`'s language."""
        with self.engine.catalogs.use((party or self.party).profile.locale):
            return join_words(items)

    def when(self, moment: datetime, party: Party | None = None, short: bool = False,
             pattern: str | None = None) -> str:
        """`moment` for `party`: the text key `pattern` names its pattern (default the date)."""
        target = party or self.party
        key = pattern or ("date_short_pattern" if short else "date_pattern")
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
        if step.choices and self.profile.id in self._offered:
            # A question's choices were just shown (a digest from the menu): they are the last
            # choices, so the menu is not said again after them; its buttons still answer.
            return
        say = step.say
        if step.again is not None:  # the explanation once, then the short prompt
            seen: list[str] = self.state.setdefault(SEEN_KEY, [])
            key = f"{step.flow}:{step.id}"
            if key in seen:
                say = step.again
            else:
                seen.append(key)
        with self.engine.catalogs.use(self.profile.locale):
            text = fill(gettext(say), self.params(self.party, extra or {}))
            labels = tuple(gettext(c.label) for c in step.choices)
        if step.article:
            from bot.engine import charter

            at = charter.position(self.engine.flows, step)
            if at is not None:  # "Article 3/6", above the article's own text
                text = self.text("charter_article_position", count=at[0], total=at[1]) + "\n" + text
            self.state[charter.READING] = step.id
            # The charter's text is journaled by reference (version and article), not whole.
            kept = f"{self.engine.charter_version}:{step.id}"
            self.send(self.party, text, labels, kind="charter_article", journal_text=kept,
                      step=f"{step.flow}:{step.id}")
            return
        self.send(self.party, text, labels, step=f"{step.flow}:{step.id}")

    def home(self) -> Target:
        return self.engine.flows.homes[self.profile.role]

    def after_charter(self) -> Target | None:
        """On the way home after signing again: say which articles changed, and the step the
        new charter interrupted (the person's answers kept), if any."""
        from bot.engine import charter

        changed = self.state.pop(charter.CHANGED, None)
        if isinstance(changed, list) and changed:
            steps = [s for s in self.engine.flows.charter_articles() if s.id in changed]
            with self.engine.catalogs.use(self.profile.locale):
                titles = [gettext(s.say).strip().splitlines()[0] for s in steps if s.say]
            self.say("charter_articles_changed", articles="\n".join(f"• {t}" for t in titles))
        target = charter.resume_point(self.state, self.engine.flows)
        if target is not None:
            self.say("charter_resumed")
        return target

    def enter(self, target: Target) -> None:
        """Move to `target`, run what the steps on the way do, stop where input is awaited."""
        for _ in range(MAX_AUTO_STEPS):
            if target.is_home:
                target = self.after_charter() or self.home()
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
