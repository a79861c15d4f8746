"""Use cases: sign in (with the lockout), the session behind a cookie, sign out.

A session lasts one working day (12 hours) from sign-in; signing out, disabling the account or
choosing a new password ends it. The cookie holds a random token, the database its SHA-256."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from proactive.accounts import audit, lockout, passwords, tokens
from proactive.accounts.roles import Actor
from proactive.accounts.users import actor_of
from proactive.models import LoginAttempt, User, UserSession

SESSION_LENGTH = dt.timedelta(hours=12)
CHECKED = ("ok", "bad_password")  # the attempts the lockout counts
RECENT = 50


class Refusal(StrEnum):
    bad_credentials = "bad_credentials"  # wrong name or password, or a disabled account
    locked = "locked"


@dataclass(frozen=True)
class SignedIn:
    token: str  # for the cookie; never stored
    csrf: str
    actor: Actor


@dataclass(frozen=True)
class Current:
    """The session behind a request's cookie."""

    actor: Actor
    csrf: str
    expires_at: dt.datetime


def sign_in(session: Session, name: str, password: str, now: dt.datetime) -> SignedIn | Refusal:
    name = name.strip()[:64]
    user = session.scalars(select(User).where(User.name == name)).first()
    if _locked(session, name, now):
        _attempt(session, name, "locked", now)
        return Refusal.locked
    ok = user is not None and user.active and passwords.verify(user.password_hash, password)
    if user is None or not ok:
        result = "bad_password" if user is not None and user.active else "refused"
        _attempt(session, name, result, now)
        return Refusal.locked if _locked(session, name, now) else Refusal.bad_credentials
    _attempt(session, name, "ok", now)
    token, csrf = tokens.new_token(), tokens.new_token()
    session.add(
        UserSession(
            token_hash=tokens.digest(token),
            user_id=user.id,
            csrf_token=csrf,
            created_at=now,
            expires_at=now + SESSION_LENGTH,
        )
    )
    actor = actor_of(user)
    audit.record(session, actor, "sign_in", f"user:{user.id}", now)
    return SignedIn(token, csrf, actor)


def current(session: Session, token: str, now: dt.datetime) -> Current | None:
    """The live session of this cookie token, if any (not ended, not expired, account active)."""
    if not token:
        return None
    row = session.execute(
        select(UserSession, User)
        .join(User, User.id == UserSession.user_id)
        .where(UserSession.token_hash == tokens.digest(token))
    ).first()
    if row is None:
        return None
    live, user = row
    if live.ended_at is not None or now >= live.expires_at or not user.active:
        return None
    return Current(actor_of(user), live.csrf_token, live.expires_at)


def sign_out(session: Session, token: str, now: dt.datetime) -> None:
    live = session.get(UserSession, tokens.digest(token))
    if live is None or live.ended_at is not None:
        return
    live.ended_at = now
    user = session.get(User, live.user_id)
    actor = actor_of(user) if user else None
    audit.record(session, actor, "sign_out", f"user:{live.user_id}", now)


def _locked(session: Session, name: str, now: dt.datetime) -> bool:
    rows = session.execute(
        select(LoginAttempt.at, LoginAttempt.result)
        .where(LoginAttempt.name == name, LoginAttempt.result.in_(CHECKED))
        .order_by(LoginAttempt.id.desc())
        .limit(RECENT)
    )
    return lockout.is_locked((lockout.Attempt(at, result == "ok") for at, result in rows), now)


def _attempt(session: Session, name: str, result: str, now: dt.datetime) -> None:
    session.add(LoginAttempt(name=name, at=now, result=result))
    session.flush()
