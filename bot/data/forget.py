"""Erasure: every trace of a person removed everywhere, the mentor's side included."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.errors import UnknownPersonError

if TYPE_CHECKING:
    from bot.engine.core import Engine


def forget(engine: Engine, pid: str) -> str:
    """Erase `pid`; returns a short summary of what was removed."""
    profile = engine.directory.get(pid)
    data = engine.store.load_person(pid)
    if profile is None and data is None:
        raise UnknownPersonError(f"unknown person {pid!r}: not in the roster and nothing stored")
    qids = {q["id"] for q in data.questions} if data else set()
    with engine.locks.hold(pid):
        removed_files = engine.store.forget_person(pid)
    # The mentor's side: digests and answers about these questions leave their journal too.
    mentor = profile.mentor if profile else None
    cleaned = 0
    if mentor:
        name = profile.name if profile else ""
        with engine.locks.hold(mentor):
            entries = engine.store.read_journal(mentor)
            kept = [e for e in entries if e.qid not in qids]
            cleaned = len(entries) - len(kept)
            for entry in kept:  # digest headers name their mentees
                if name and name in entry.text:
                    entry.text = entry.text.replace(name, "[…]")
                    cleaned += 1
            if cleaned:
                engine.store.rewrite_journal(mentor, kept)

    def unlink(shared: Any) -> None:
        for qid in qids:
            engine.shared.questions.pop(qid, None)
        engine.shared.enrolled.pop(pid, None)
        for invitation in engine.shared.invitations.values():
            if invitation.get("used_by") == pid:
                invitation["used_by"] = "erased"

    engine.update_shared(unlink)
    return (
        f"{'person files removed' if removed_files else 'no files'}, "
        f"{len(qids)} question(s), {cleaned} line(s) of the mentor's journal"
    )
