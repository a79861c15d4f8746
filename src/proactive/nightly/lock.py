"""A lock in the database, so two nightly runs never overlap, whichever machine or scheduler
starts them, and a run that died leaves nothing to wait for.

PostgreSQL: a session advisory lock (per schema and name) on a connection held for the run; it
ends with that connection, so with its process. SQLite: a row in `run_locks` naming the holder's
host and pid; a holder on this host whose process is gone is taken over at once.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine, delete, insert, select, text, update
from sqlalchemy.exc import IntegrityError

from proactive import processes
from proactive.errors import ProactiveError
from proactive.models import RunLock

_KEY = "hashtextextended(current_schema() || ':' || :name, 0)"


class RunLocked(ProactiveError):
    """Another run is in progress"""


@contextmanager
def held(engine: Engine, name: str, now: dt.datetime) -> Iterator[None]:
    """Hold the lock for the block, or raise RunLocked at once."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn, _advisory(conn, name):
            yield
        return
    owner = acquire_row(engine, name, now)
    try:
        yield
    finally:
        with engine.begin() as conn:
            conn.execute(delete(RunLock).where(RunLock.name == name, RunLock.owner == owner))


@contextmanager
def _advisory(conn: Connection, name: str) -> Iterator[None]:
    taken = conn.execute(text(f"SELECT pg_try_advisory_lock({_KEY})"), {"name": name}).scalar()
    conn.commit()
    if not taken:
        raise RunLocked("another PostgreSQL session holds the lock; it ends with that session")
    try:
        yield
    finally:
        conn.rollback()
        conn.execute(text(f"SELECT pg_advisory_unlock({_KEY})"), {"name": name})
        conn.commit()


def acquire_row(engine: Engine, name: str, now: dt.datetime) -> str:
    """Take the row lock (SQLite) or raise RunLocked. Returns the owner to release it with."""
    owner = f"{processes.host()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"
    try:
        with engine.begin() as conn:
            conn.execute(insert(RunLock).values(name=name, owner=owner, acquired_at=now))
        return owner
    except IntegrityError:
        pass
    with engine.begin() as conn:
        holder = conn.execute(select(RunLock).where(RunLock.name == name)).one()
        host, pid, _ = holder.owner.rsplit(":", 2)
        if not processes.gone(host, int(pid)):
            raise RunLocked(
                f"process {pid} on {host}, started at {holder.acquired_at:%Y-%m-%d %H:%M:%S} UTC"
            )
        taken = conn.execute(
            update(RunLock)
            .where(RunLock.name == name, RunLock.owner == holder.owner)
            .values(owner=owner, acquired_at=now)
        )
        if taken.rowcount != 1:
            raise RunLocked("another run took over a dead run's lock just now")
    return owner
