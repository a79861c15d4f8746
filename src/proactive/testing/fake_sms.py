"""An in-memory SMS backend for tests: it records what was sent and can be scripted to fail,
as procrastinate ships its in-memory connector. Never selected by settings."""

from __future__ import annotations

import datetime as dt
import itertools
from collections import deque
from dataclasses import dataclass, field

from proactive.sms.backends import SendError, SendResult
from proactive.time import Clock


@dataclass
class FakeMessage:
    sid: str
    to: str
    body: str
    callback_url: str | None
    at: dt.datetime
    status: str = "queued"


@dataclass
class FakeBackend:
    """In memory, for unit tests. `script` holds outcomes for the next sends: a `SendError` is
    raised without taking the message; `(SendError, True)` takes it, then raises (a timeout after
    the provider accepted)."""

    clock: Clock | None = None  # defaults to the wall clock
    messages: list[FakeMessage] = field(default_factory=list)
    script: deque[SendError | tuple[SendError, bool]] = field(default_factory=deque)
    calls: int = 0
    _ids: itertools.count[int] = field(default_factory=itertools.count)

    def now(self) -> dt.datetime:
        return self.clock() if self.clock else dt.datetime.now(dt.UTC)

    def send(self, to: str, body: str, callback_url: str | None) -> SendResult:
        self.calls += 1
        outcome = self.script.popleft() if self.script else None
        error, accept = outcome if isinstance(outcome, tuple) else (outcome, False)
        if error is not None and not accept:
            raise error
        sid = f"SM{next(self._ids):032x}"
        self.messages.append(FakeMessage(sid, to, body, callback_url, self.now()))
        if error is not None:
            raise error
        return SendResult(sid, "queued")

    def fetch(self, sid: str) -> str | None:
        return next((m.status for m in self.messages if m.sid == sid), None)

    def find(self, to: str, body: str, since: dt.datetime) -> str | None:
        found = (m for m in self.messages if m.to == to and m.body == body and m.at >= since)
        return next((m.sid for m in found), None)

    def sent_to(self, to: str) -> list[FakeMessage]:
        return [m for m in self.messages if m.to == to]
