"""Invitations: a single-use code that makes its sender a mentee of a mentor.

A code is deleted when it is used (and by the daily purge when it expires), so the table
holds only codes that can still be redeemed.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.domain import Enrollment, Invitation
from bot.errors import UnknownPersonError, UserError
from bot.store.sql import UnitOfWork

if TYPE_CHECKING:
    from bot.engine.core import Engine

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: codes are typed by hand
USERNAME_KEY = ("telegram", "username")  # learned by `run`, for the t.me start link


def create_invitation(engine: Engine, mentor: str, days: int) -> tuple[str, str | None]:
    """Store a new code for `mentor`; returns (code, Telegram start link when known)."""
    profile = engine.directory.roster(mentor)
    if profile is None or profile.role != "mentor":
        raise UnknownPersonError(f"{mentor!r} is not a mentor of the roster")
    if not 1 <= days <= 365:
        raise UserError("--days must be between 1 and 365")
    code = "".join(secrets.choice(ALPHABET) for _ in range(8))
    now = engine.clock.now()
    with engine.store.turn() as uow:
        uow.invitation_add(
            Invitation(
                code=code,
                mentor=mentor,
                created_at=now.isoformat(),
                expires_at=(now + timedelta(days=days)).isoformat(),
            )
        )
        username = uow.transport_get(*USERNAME_KEY)
    link = f"https://t.me/{username}?start={code}" if isinstance(username, str) else None
    return code, link


def redeem(uow: UnitOfWork, code: str, pid: str, now: datetime) -> bool:
    """Enroll `pid` as a mentee when `code` is valid and not expired (the code is used up)."""
    invitation = uow.invitation_take(code.strip().upper())
    if invitation is None:
        return False
    if datetime.fromisoformat(invitation.expires_at) < now:
        return False
    uow.enroll(
        Enrollment(id=pid, role="mentee", mentor=invitation.mentor, since=now.isoformat())
    )
    return True
