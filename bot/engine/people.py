"""Who is who: the roster of `config.yaml` plus the people enrolled by invitation."""

from __future__ import annotations

from dataclasses import dataclass

from bot.config import Config
from bot.store.model import SharedData


@dataclass(frozen=True, slots=True)
class Profile:
    id: str
    role: str  # "mentor" | "mentee"
    name: str
    mentor: str | None
    locale: str | None
    absences: tuple[tuple[str, str], ...] = ()

    @property
    def channel(self) -> str:
        return self.id.split(":", 1)[0]


class Directory:
    """Looks people up; the roster wins over enrollments with the same id."""

    def __init__(self, config: Config, shared: SharedData) -> None:
        self._config = config
        self._shared = shared

    def get(self, pid: str) -> Profile | None:
        person = self._config.person(pid)
        if person is not None:
            return Profile(
                id=person.id,
                role=person.role,
                name=person.name,
                mentor=person.mentor,
                locale=person.locale,
                absences=tuple((a.start, a.end) for a in person.absences),
            )
        raw = self._shared.enrolled.get(pid)
        if raw is None:
            return None
        return Profile(
            id=pid,
            role=str(raw.get("role", "mentee")),
            name=str(raw.get("name", "")),
            mentor=raw.get("mentor"),
            locale=raw.get("locale"),
        )

    def all(self) -> list[Profile]:
        ids = [p.id for p in self._config.people] + sorted(
            pid for pid in self._shared.enrolled if self._config.person(pid) is None
        )
        return [p for p in (self.get(pid) for pid in ids) if p is not None]

    def mentors(self) -> list[Profile]:
        return [p for p in self.all() if p.role == "mentor"]

    def mentees_of(self, mentor: str) -> list[Profile]:
        return [p for p in self.all() if p.role == "mentee" and p.mentor == mentor]
