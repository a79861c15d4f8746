"""The audit log: every action a person takes in the app or at the terminal, with who did it."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from proactive.accounts.roles import Actor
from proactive.models import AuditEntry


def record(
    session: Session,
    actor: Actor | None,
    action: str,
    target: str,
    now: dt.datetime,
    detail: str = "",
) -> None:
    """Append one entry; `actor` None is the command line. Never put a full ID or phone number
    in `detail`."""
    session.add(
        AuditEntry(
            at=now,
            user_id=actor.user_id if actor else None,
            actor=actor.label if actor else "cli",
            action=action,
            target=target,
            detail=detail,
        )
    )


def count(session: Session, action: str, target: str) -> int:
    query = select(func.count()).where(AuditEntry.action == action, AuditEntry.target == target)
    return session.scalar(query) or 0


def entries(session: Session, target: str) -> list[AuditEntry]:
    query = select(AuditEntry).where(AuditEntry.target == target).order_by(AuditEntry.id)
    return list(session.scalars(query))
