"""Use cases: accounts (add, disable, list, choose a password with the one-time code)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from proactive.accounts import audit, passwords, tokens
from proactive.accounts.roles import Actor, Role, check_account
from proactive.errors import ProactiveError
from proactive.models import Site, SocialWorker, User, UserSession

SETUP_VALID = dt.timedelta(days=3)
COLUMNS = ("name", "role", "worker_id", "site_id", "active", "password_set", "created_at")


class AccountError(ProactiveError):
    """The account cannot be changed"""


class UserExists(AccountError):
    """An account with this name exists already"""


class UnknownUser(AccountError):
    """No such account"""


class SetupRefused(AccountError):
    """The one-time code is wrong or expired, or the password is not acceptable"""


def add(
    session: Session, name: str, role: Role, worker_id: str, site_id: str, now: dt.datetime
) -> str:
    """Create an account; returns its one-time setup code (shown once, stored hashed)."""
    name = name.strip()
    if not name or len(name) > 64:
        raise AccountError("a name of 1 to 64 characters is needed")
    check_account(role, worker_id, site_id)
    if session.scalar(select(User.id).where(User.name == name)) is not None:
        raise UserExists(name)
    if role is Role.worker:
        worker = session.get(SocialWorker, worker_id)
        if worker is None:
            raise AccountError(f"no social worker {worker_id}")
        if site_id and site_id != worker.site_id:
            raise AccountError(f"worker {worker_id} works at {worker.site_id}, not {site_id}")
        site_id = worker.site_id
    if site_id and session.get(Site, site_id) is None:
        raise AccountError(f"no site {site_id}")
    code = tokens.new_setup_code()
    user = User(
        name=name,
        role=role.value,
        worker_id=worker_id,
        site_id=site_id,
        password_hash="",
        setup_code_hash=tokens.digest(tokens.normal_setup_code(code)),
        setup_expires_at=now + SETUP_VALID,
        active=True,
        created_at=now,
        updated_at=now,
    )
    session.add(user)
    session.flush()
    audit.record(session, None, "user_add", f"user:{user.id}", now, f"{name} {role.value}")
    return code


def disable(session: Session, name: str, now: dt.datetime) -> None:
    """The account can no longer sign in; its open sessions end now."""
    user = _by_name(session, name)
    user.active, user.updated_at = False, now
    end_sessions(session, user.id, now)
    audit.record(session, None, "user_disable", f"user:{user.id}", now, name)


def end_sessions(session: Session, user_id: int, now: dt.datetime) -> None:
    session.execute(
        update(UserSession)
        .where(UserSession.user_id == user_id, UserSession.ended_at.is_(None))
        .values(ended_at=now)
    )


def choose_password(
    session: Session, name: str, code: str, password: str, now: dt.datetime
) -> None:
    """The owner of a new account sets a password with the one-time code (used up by this)."""
    user = session.scalars(select(User).where(User.name == name.strip())).first()
    valid = (
        user is not None
        and user.active
        and user.setup_expires_at is not None
        and now < user.setup_expires_at
        and tokens.same(tokens.digest(tokens.normal_setup_code(code)), user.setup_code_hash)
    )
    if not valid or user is None:
        raise SetupRefused("一次性设置码错误或已过期")
    if why := passwords.problem(password, user.name):
        raise SetupRefused(why)
    user.password_hash = passwords.hash_password(password)
    user.setup_code_hash, user.setup_expires_at, user.updated_at = "", None, now
    end_sessions(session, user.id, now)
    audit.record(session, actor_of(user), "password_set", f"user:{user.id}", now)


def listing(session: Session) -> list[dict[str, Any]]:
    return [
        {
            "name": u.name,
            "role": u.role,
            "worker_id": u.worker_id,
            "site_id": u.site_id,
            "active": u.active,
            "password_set": bool(u.password_hash),
            "created_at": u.created_at.isoformat(timespec="seconds"),
        }
        for u in session.scalars(select(User).order_by(User.name))
    ]


def actor_of(user: User) -> Actor:
    return Actor(user.id, user.name, Role(user.role), user.worker_id, user.site_id)


def _by_name(session: Session, name: str) -> User:
    user = session.scalars(select(User).where(User.name == name)).first()
    if user is None:
        raise UnknownUser(name)
    return user
