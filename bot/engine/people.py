"""Who is who: the roster of `config.yaml` plus the people enrolled by invitation (stored).

The roster is fixed for a run and indexed once; enrollments are read from the store each
time, so that a mentee enrolled through another worker is known at once.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.config import Config
from bot.domain import Enrollment
from bot.store.sql import UnitOfWork


@dataclass(frozen=True, slots=True)
class Profile:
    id: str
    role: str  # "mentor" | "mentee"
    name: str
    mentor: str | None
    locale: str | None
    absences: tuple[tuple[str, str], ...] = ()
    enrolled: bool = False  # by invitation (stored), not from the roster

    @property
    def channel(self) -> str:
        return self.id.split(":", 1)[0]


def _from_enrollment(enrollment: Enrollment) -> Profile:
    return Profile(
        id=enrollment.id,
        role=enrollment.role,
        name=enrollment.name,
        mentor=enrollment.mentor,
        locale=enrollment.locale,
        enrolled=True,
    )


class Directory:
    """Looks people up; the roster wins over enrollments with the same id."""

    def __init__(self, config: Config) -> None:
        self._roster: dict[str, Profile] = {
            person.id: Profile(
                id=person.id,
                role=person.role,
                name=person.name,
                mentor=person.mentor,
                locale=person.locale,
                absences=tuple((a.start, a.end) for a in person.absences),
            )
            for person in config.people
        }
        self._roster_mentees: dict[str, list[Profile]] = {}
        for profile in self._roster.values():
            if profile.role == "mentee" and profile.mentor:
                self._roster_mentees.setdefault(profile.mentor, []).append(profile)

    def roster(self, pid: str) -> Profile | None:
        return self._roster.get(pid)

    def get(self, pid: str, uow: UnitOfWork) -> Profile | None:
        profile = self._roster.get(pid)
        if profile is not None:
            return profile
        enrollment = uow.enrollment(pid)
        return _from_enrollment(enrollment) if enrollment else None

    def all(self, uow: UnitOfWork) -> list[Profile]:
        enrolled = [_from_enrollment(e) for e in uow.enrollments() if e.id not in self._roster]
        return list(self._roster.values()) + enrolled

    def mentors(self) -> list[Profile]:
        """Mentors come from the roster only (invitations enroll mentees)."""
        return [p for p in self._roster.values() if p.role == "mentor"]

    def mentees_of(self, mentor: str, uow: UnitOfWork) -> list[Profile]:
        enrolled = [
            _from_enrollment(e) for e in uow.enrollments(mentor) if e.id not in self._roster
        ]
        return list(self._roster_mentees.get(mentor, [])) + enrolled
