"""A lock in the database, so two nightly runs never overlap, whichever machine or scheduler
starts them. A holder that died leaves a lock that expires."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from proactive.errors import ProactiveError
from proactive.models import RunLock


class RunLocked(ProactiveError):
    """Another run is in progress"""


def acquire(engine: Engine, name: str, now: dt.datetime, ttl: dt.timedelta) -> str:
    """Take the lock or raise RunLocked. Returns the owner token to release it with."""
    owner = uuid.uuid4().hex
    try:
        with engine.begin() as conn:
            conn.execute(
                insert(RunLock).values(
                    name=name, owner=owner, acquired_at=now, expires_at=now + ttl
                )
            )
        return owner
    except IntegrityError:
        pass
    with engine.begin() as conn:
        held = conn.execute(select(RunLock).where(RunLock.name == name)).one()
        if held.expires_at > now:
            raise RunLocked(
                f"started at {held.acquired_at:%Y-%m-%d %H:%M:%S} UTC, lock held until "
                f"{held.expires_at:%H:%M:%S} UTC"
            )
        taken = conn.execute(
            update(RunLock)
            .where(RunLock.name == name, RunLock.owner == held.owner)
            .values(owner=owner, acquired_at=now, expires_at=now + ttl)
        )
        if taken.rowcount != 1:
            raise RunLocked("another run took over an expired lock just now")
    return owner


@contextmanager
def held(engine: Engine, name: str, now: dt.datetime, ttl: dt.timedelta) -> Iterator[str]:
    owner = acquire(engine, name, now, ttl)
    try:
        yield owner
    finally:
        release(engine, name, owner)


def release(engine: Engine, name: str, owner: str) -> None:
    with engine.begin() as conn:
        conn.execute(delete(RunLock).where(RunLock.name == name, RunLock.owner == owner))
