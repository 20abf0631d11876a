"""Invitations: a single-use code that makes its sender a mentee of a mentor."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.errors import UnknownPersonError, UserError

if TYPE_CHECKING:
    from bot.engine.core import Engine

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: codes are typed by hand


def create_invitation(engine: Engine, mentor: str, days: int) -> tuple[str, str | None]:
    """Store a new code for `mentor`; returns (code, Telegram start link when known)."""
    profile = engine.directory.get(mentor)
    if profile is None or profile.role != "mentor":
        raise UnknownPersonError(f"{mentor!r} is not a mentor of the roster")
    if not 1 <= days <= 365:
        raise UserError("--days must be between 1 and 365")
    code = "".join(secrets.choice(ALPHABET) for _ in range(8))
    now = engine.clock.now()

    def add(shared: Any) -> None:
        engine.shared.invitations[code] = {
            "mentor": mentor,
            "created_at": now.isoformat(),
            "expires_at": (now + timedelta(days=days)).isoformat(),
            "used_by": None,
        }

    engine.update_shared(add, ("invitations",))
    username = engine.shared.transports.get("telegram_username")
    link = f"https://t.me/{username}?start={code}" if username else None
    return code, link


def redeem(engine: Engine, code: str, pid: str, now: datetime) -> bool:
    """Enroll `pid` as a mentee when `code` is valid, unused and not expired."""
    code = code.strip().upper()
    result = False

    def use(shared: Any) -> bool:
        nonlocal result
        invitation = engine.shared.invitations.get(code)
        if invitation is None or invitation.get("used_by"):
            return False
        if datetime.fromisoformat(invitation["expires_at"]) < now:
            return False
        invitation["used_by"] = pid
        invitation["used_at"] = now.isoformat()
        engine.shared.enrolled[pid] = {
            "role": "mentee",
            "mentor": invitation["mentor"],
            "name": "",
            "since": now.isoformat(),
        }
        result = True
        return True

    engine.update_shared(use, ("invitations", "enrolled"))
    return result
