"""Sign-in lockout (pure): 5 wrong passwords in a row lock an account for 15 minutes. Attempts
made while locked are refused unchecked and do not count; a success starts the count again."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

MAX_FAILURES = 5
LOCK = dt.timedelta(minutes=15)


@dataclass(frozen=True)
class Attempt:
    at: dt.datetime
    ok: bool  # the password was checked: right (True) or wrong (False)


def locked_until(attempts: Iterable[Attempt]) -> dt.datetime | None:
    """The end of the latest lock the checked attempts caused (it may be over), if any."""
    failures, until = 0, None
    for attempt in sorted(attempts, key=lambda a: a.at):
        if until is not None and attempt.at < until:
            continue  # could not have been checked: the account was locked
        failures = 0 if attempt.ok else failures + 1
        if failures >= MAX_FAILURES:
            failures, until = 0, attempt.at + LOCK
    return until


def is_locked(attempts: Iterable[Attempt], now: dt.datetime) -> bool:
    until = locked_until(attempts)
    return until is not None and now < until
