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
    """Looks people up; the roster wins over enrollments with the same id.

    Profiles are indexed once (the roster is fixed for a run) and the index is rebuilt only
    when enrollments change (`invalidate`), so a digest over a large organisation stays linear.
    """

    def __init__(self, config: Config, shared: SharedData) -> None:
        self._config = config
        self._shared = shared
        self._index: dict[str, Profile] | None = None
        self._by_mentor: dict[str, list[Profile]] = {}

    def invalidate(self) -> None:
        self._index = None

    def _profiles(self) -> dict[str, Profile]:
        if self._index is None:
            index: dict[str, Profile] = {}
            for pid, raw in sorted(self._shared.enrolled.items()):
                index[pid] = Profile(
                    id=pid,
                    role=str(raw.get("role", "mentee")),
                    name=str(raw.get("name", "")),
                    mentor=raw.get("mentor"),
                    locale=raw.get("locale"),
                )
            for person in self._config.people:  # the roster wins
                index[person.id] = Profile(
                    id=person.id,
                    role=person.role,
                    name=person.name,
                    mentor=person.mentor,
                    locale=person.locale,
                    absences=tuple((a.start, a.end) for a in person.absences),
                )
            by_mentor: dict[str, list[Profile]] = {}
            for profile in index.values():
                if profile.role == "mentee" and profile.mentor:
                    by_mentor.setdefault(profile.mentor, []).append(profile)
            self._index, self._by_mentor = index, by_mentor
        return self._index

    def get(self, pid: str) -> Profile | None:
        return self._profiles().get(pid)

    def all(self) -> list[Profile]:
        profiles = self._profiles()
        roster_ids = {p.id for p in self._config.people}
        roster = [profiles[pid] for pid in (p.id for p in self._config.people)]
        return roster + [p for pid, p in profiles.items() if pid not in roster_ids]

    def mentors(self) -> list[Profile]:
        return [p for p in self.all() if p.role == "mentor"]

    def mentees_of(self, mentor: str) -> list[Profile]:
        self._profiles()
        return list(self._by_mentor.get(mentor, []))
