"""The outbox worker: sends queued messages through an `SmsBackend`, GOV.UK Notify's way.

Each batch takes three steps, and the provider is never called inside a transaction:
1. `claim`: one short transaction picks due rows (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so
   workers never pick the same row; SQLite ignores it: run one worker there), withdraws those to
   opted-out numbers, defers those over the daily cap per number to the next morning, and marks
   the rest `sending` with `claimed_at`. COMMIT.
2. send each message (outside any transaction), paced by a token bucket;
3. one short transaction per message records the outcome: `sent` and the provider's SID; a
   retryable error back to `queued` with a backoff (exponential, full jitter); a permanent one
   `failed` with its code (21610 also opts the number out).

The guarantee is AT-MOST-ONCE, not at-least-once. Twilio's Messages API takes no idempotency
key, so a request whose answer never came (a timeout, a crash after the request left) may or may
not have produced an SMS, and sending again could text a resident twice — with a different
confirmation code on their mind, or a duplicate "your certificate is ready". So:
- a row is only ever re-sent after the provider said no (an error answer), or after we looked
  the message up with `find` and the provider did not have it (every retry looks first; after
  an ambiguous error it waits at least `MAYBE_SENT_WAIT` so a slow request has finished);
- a row left `sending` (the worker died between steps 1 and 3) is handled by `reconcile` once
  `claimed_at` is older than PROACTIVE_SMS_STUCK_MINUTES: with a SID its status is fetched;
  without one it is looked up by To and Body: found, the SID is adopted; not found, the row is
  `failed` with error_code "interrupted" and an operator decides. It is never re-sent blindly.
A message may therefore be lost (and is then visible as `failed`/"interrupted"), never doubled.

Rate: PROACTIVE_SMS_RATE is for all workers together. On PostgreSQL the token bucket is a row
(`sms_send_rate`) every worker process draws from under a row lock, timed by the database's
clock; on SQLite (one worker process) it lives in the process and its threads share it.
Daily cap: on PostgreSQL a transaction-scoped advisory lock per number makes the count exact
with concurrent workers.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, func, or_, select, text, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from proactive.masking import mask_numbers, mask_phone
from proactive.models import Message, OptOut, SendRate
from proactive.settings import Settings
from proactive.sms import optouts
from proactive.sms.backends import UNSUBSCRIBED, SendError, SmsBackend
from proactive.sms.message_states import (
    DELIVERED,
    FAILED,
    PROVIDER,
    QUEUED,
    SENDING,
    SENT,
    UNDELIVERED,
    WITHDRAWN,
    advance,
)
from proactive.sms.optouts import CONFIRM_KIND
from proactive.sms.wording import is_quiet, quiet_bounds, sendable_from
from proactive.time import SHANGHAI, Clock

log = logging.getLogger("proactive.sms")


MAX_ATTEMPTS = 6
BACKOFF_BASE = dt.timedelta(seconds=30)
BACKOFF_CAP = dt.timedelta(hours=1)
MAYBE_SENT_WAIT = dt.timedelta(minutes=2)  # a slow request has finished by then
LOOKUP_MARGIN = dt.timedelta(minutes=1)  # clocks differ: look a minute before
INTERRUPTED = "interrupted"
INTERRUPTED_REASON = (
    "发送中断，未确认是否送达，请人工核实 / send interrupted: check before resending"
)
COUNTED = (SENDING, SENT, DELIVERED, UNDELIVERED)  # toward the daily cap


# -- pure rules


def quiet(now: dt.datetime, quiet_hours: str) -> dt.datetime | None:
    """When sending may resume (UTC) if `now` is in the quiet hours (Asia/Shanghai), else None."""
    return sendable_from(now, quiet_hours) if is_quiet(now, quiet_hours) else None


def next_morning(now: dt.datetime, quiet_hours: str) -> dt.datetime:
    """Tomorrow (Asia/Shanghai) when the quiet hours end (08:00), as UTC."""
    bounds = quiet_bounds(quiet_hours)
    morning = bounds[1] if bounds else dt.time(0, 0)
    tomorrow = now.astimezone(SHANGHAI).date() + dt.timedelta(days=1)
    return dt.datetime.combine(tomorrow, morning, SHANGHAI).astimezone(dt.UTC)


def day_start(now: dt.datetime) -> dt.datetime:
    """Midnight of `now`'s day in Asia/Shanghai, as UTC: the daily cap's day."""
    local = now.astimezone(SHANGHAI).date()
    return dt.datetime.combine(local, dt.time(0, 0), SHANGHAI).astimezone(dt.UTC)


def backoff(attempts: int, rng: random.Random) -> dt.timedelta:
    """Full jitter: uniform between 0 and min(cap, base * 2^(attempts-1))."""
    ceiling = min(BACKOFF_CAP, BACKOFF_BASE * 2 ** max(attempts - 1, 0))
    return dt.timedelta(seconds=ceiling.total_seconds() * rng.random())


def retry_delay(attempts: int, error: SendError, rng: random.Random) -> dt.timedelta:
    delay = backoff(attempts, rng)
    return max(delay, MAYBE_SENT_WAIT) if error.maybe_sent else delay


class TokenBucket:
    """`rate` tokens a second, bursts up to `burst`; thread-safe. `take` reserves a token and
    returns how long to wait before using it. A rate of 0 or less means no limit."""

    def __init__(
        self,
        rate: float,
        burst: float | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate = rate
        self.capacity = burst if burst is not None else max(1.0, rate)
        self.tokens = self.capacity
        self.monotonic = monotonic
        self.at = monotonic()
        self._lock = threading.Lock()

    def take(self) -> float:
        if self.rate <= 0:
            return 0.0
        with self._lock:
            now = self.monotonic()
            self.tokens = min(self.capacity, self.tokens + (now - self.at) * self.rate)
            self.at = now
            self.tokens -= 1
            return max(0.0, -self.tokens / self.rate)


BUCKET = "sms"  # the one row of sms_send_rate


class SharedBucket:
    """The token bucket as a database row, for every worker process at once: each `take`
    refills it by the time passed on the database's clock, takes a token under a row lock and
    returns how long to wait before using it. PostgreSQL only."""

    def __init__(self, engine: Engine, rate: float, burst: float | None = None) -> None:
        self.engine = engine
        self.rate = rate
        self.capacity = burst if burst is not None else max(1.0, rate)

    def take(self) -> float:
        if self.rate <= 0:
            return 0.0
        with self.engine.begin() as conn:
            now: dt.datetime = conn.execute(select(func.clock_timestamp())).scalar_one()
            conn.execute(
                postgresql.insert(SendRate)
                .values(name=BUCKET, tokens=self.capacity, at=now)
                .on_conflict_do_nothing()
            )
            mine = select(SendRate.tokens, SendRate.at).where(SendRate.name == BUCKET)
            row = conn.execute(mine.with_for_update()).one()
            elapsed = max(0.0, (now - row.at).total_seconds())
            tokens: float = min(self.capacity, float(row.tokens) + elapsed * self.rate) - 1.0
            conn.execute(
                update(SendRate)
                .where(SendRate.name == BUCKET)
                .values(tokens=tokens, at=max(now, row.at))
            )
        return max(0.0, -tokens / self.rate)


def bucket_for(engine: Engine, rate: float, workers: int) -> TokenBucket | SharedBucket:
    """The bucket PROACTIVE_SMS_RATE is drawn from: shared by all processes on PostgreSQL."""
    if engine.dialect.name == "postgresql":
        return SharedBucket(engine, rate)
    return TokenBucket(rate / workers)


# -- step 1: claim


def claim(
    engine: Engine,
    limit: int,
    now: dt.datetime,
    worker_id: str,
    daily_cap: int = 3,
    quiet_hours: str = "21:00-08:00",
) -> list[int]:
    """Mark up to `limit` due messages `sending` for this worker; their ids, in order."""
    return _claim(engine, limit, now, worker_id, daily_cap, quiet_hours)[0]


def _claim(
    engine: Engine, limit: int, now: dt.datetime, worker_id: str, daily_cap: int, quiet_hours: str
) -> tuple[list[int], int]:
    """The ids claimed, and how many due rows were looked at (withdrawn and deferred too)."""
    with engine.begin() as conn:
        due = conn.execute(
            select(Message.id, Message.to_number, Message.kind)
            .where(
                Message.status == QUEUED,
                Message.not_before <= now,
                or_(Message.next_attempt_at.is_(None), Message.next_attempt_at <= now),
            )
            .order_by(Message.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        if not due:
            return [], 0
        numbers = sorted({row.to_number for row in due})
        opted = set(conn.scalars(select(OptOut.number).where(OptOut.number.in_(numbers))))
        # an opted-out number still gets the one message confirming it
        blocked = {row.id for row in due if row.to_number in opted and row.kind != CONFIRM_KIND}
        withdrawn = sorted(blocked)
        _withdraw(conn, withdrawn, now)
        left = _left_today(conn, numbers, now, daily_cap)
        claimed, deferred = [], []
        for row in due:
            if row.id in blocked:
                continue
            if left[row.to_number] > 0:
                left[row.to_number] -= 1
                claimed.append(row.id)
            else:
                deferred.append(row.id)
        _defer(conn, deferred, next_morning(now, quiet_hours), now)
        if claimed:
            conn.execute(
                update(Message)
                .where(Message.id.in_(claimed))
                .values(status=SENDING, claimed_at=now, updated_at=now)
            )
    if withdrawn or deferred:
        log.info(
            "sms.claim",
            extra={"worker": worker_id, "withdrawn": len(withdrawn), "deferred": len(deferred)},
        )
    return claimed, len(due)


def _withdraw(conn: Connection, ids: list[int], now: dt.datetime) -> None:
    if ids:
        conn.execute(
            update(Message)
            .where(Message.id.in_(ids))
            .values(status=WITHDRAWN, reason="opted_out", updated_at=now)
        )


def _defer(conn: Connection, ids: list[int], until: dt.datetime, now: dt.datetime) -> None:
    if ids:
        conn.execute(
            update(Message)
            .where(Message.id.in_(ids))
            .values(next_attempt_at=until, reason="daily_cap", updated_at=now)
        )


def _left_today(conn: Connection, numbers: list[str], now: dt.datetime, cap: int) -> Counter[str]:
    """How many more messages each number may get today."""
    if not numbers:
        return Counter()
    if conn.dialect.name == "postgresql":  # concurrent claims for one number count one by one
        conn.execute(
            text(
                "SELECT pg_advisory_xact_lock(hashtext(n)) FROM "
                "(SELECT unnest(CAST(:numbers AS text[])) AS n ORDER BY n) AS s"
            ),
            {"numbers": numbers},
        )
    counted = conn.execute(
        select(Message.to_number, func.count())
        .where(
            Message.to_number.in_(numbers),
            Message.status.in_(COUNTED),
            Message.claimed_at >= day_start(now),
        )
        .group_by(Message.to_number)
    ).all()
    left = Counter(dict.fromkeys(numbers, cap))
    for number, count in counted:
        left[number] = cap - count
    return left


# -- steps 2 and 3: send, record


@dataclass(frozen=True)
class Outgoing:
    id: int
    to: str
    body: str
    attempts: int
    created_at: dt.datetime


@dataclass
class Sender:
    """Sends claimed messages and records each outcome."""

    engine: Engine
    backend: SmsBackend
    clock: Clock
    rng: random.Random
    callback_url: str | None = None
    quiet_hours: str = ""
    bucket: TokenBucket | SharedBucket | None = None
    stop: threading.Event = field(default_factory=threading.Event)  # set: stop between sends

    def send_claimed(self, ids: Sequence[int]) -> Counter[str]:
        """Send each; rows not reached (stop, quiet hours, an unexpected error) go back to
        `queued`: they were never sent. The row in flight on an unexpected error stays
        `sending`, for `reconcile`."""
        counts: Counter[str] = Counter()
        if not ids:
            return counts
        rows = self._load(ids)
        done = 0
        try:
            for row in rows:
                if not self._may_send():
                    break
                done += 1
                counts[self._send_one(row)] += 1
        finally:
            self._release([row.id for row in rows[done:]])
        return counts

    def _may_send(self) -> bool:
        if self.quiet_hours and quiet(self.clock(), self.quiet_hours):
            return False
        wait = self.bucket.take() if self.bucket else 0.0
        return not self.stop.wait(wait) if wait else not self.stop.is_set()

    def _load(self, ids: Sequence[int]) -> list[Outgoing]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(
                    Message.id,
                    Message.to_number,
                    Message.body,
                    Message.attempts,
                    Message.created_at,
                )
                .where(Message.id.in_(ids), Message.status == SENDING)
                .order_by(Message.id)
            ).all()
        return [Outgoing(*row) for row in rows]

    def _release(self, ids: list[int]) -> None:
        if ids:
            with self.engine.begin() as conn:
                conn.execute(
                    update(Message)
                    .where(Message.id.in_(ids), Message.status == SENDING)
                    .values(status=QUEUED, claimed_at=None, updated_at=self.clock())
                )

    def _send_one(self, row: Outgoing) -> str:
        try:
            if row.attempts:  # a retry: the provider may have the message already
                sid = self.backend.find(row.to, row.body, row.created_at - LOOKUP_MARGIN)
                if sid and not _sid_taken(self.engine, sid, row.id):
                    return self._record_sent(row, sid, "", adopted=True)
            result = self.backend.send(row.to, row.body, self.callback_url)
        except SendError as error:
            return self._record_error(row, error)
        return self._record_sent(row, result.sid, result.status)

    def _record_sent(
        self, row: Outgoing, sid: str, provider_status: str, adopted: bool = False
    ) -> str:
        status = advance(SENT, PROVIDER.get(provider_status, SENT))
        with self.engine.begin() as conn:
            conn.execute(
                update(Message)
                .where(Message.id == row.id, _sending_or_interrupted())
                .values(
                    status=status,
                    provider_sid=sid,
                    attempts=row.attempts + (0 if adopted else 1),
                    next_attempt_at=None,
                    error_code="",
                    reason="adopted" if adopted else "",
                    updated_at=self.clock(),
                )
            )
        log.info(
            "sms.sent",
            extra={"message_id": row.id, "to": mask_phone(row.to), "sid": sid, "adopted": adopted},
        )
        return "sent"

    def _record_error(self, row: Outgoing, error: SendError) -> str:
        now = self.clock()
        attempts = row.attempts + 1
        values: dict[str, object] = {
            "attempts": attempts,
            "error_code": error.code,
            "reason": mask_numbers(error.message)[:500],  # providers quote the number
            "updated_at": now,
        }
        retry = error.retryable and attempts < MAX_ATTEMPTS
        if retry:
            values.update(
                status=QUEUED, next_attempt_at=now + retry_delay(attempts, error, self.rng)
            )
        else:
            values.update(status=FAILED, next_attempt_at=None)
        with self.engine.begin() as conn:
            conn.execute(
                update(Message)
                .where(Message.id == row.id, Message.status == SENDING)
                .values(values)
            )
            if error.code == UNSUBSCRIBED:  # the provider says so: no more messages to them
                with Session(bind=conn) as session:
                    optouts.add(session, row.to, "provider", f"Twilio {error.code}", now)
        event = "sms.retry" if retry else "sms.failed"
        extra = {"message_id": row.id, "to": mask_phone(row.to), "code": error.code}
        log.warning(event, extra={**extra, "attempts": attempts, "next": values["next_attempt_at"]})
        return "retried" if retry else "failed"


def _sending_or_interrupted() -> ColumnElement[bool]:
    """A SID in hand is the truth, even if `reconcile` gave the row up meanwhile."""
    return or_(
        Message.status == SENDING, (Message.status == FAILED) & (Message.error_code == INTERRUPTED)
    )


def _sid_taken(engine: Engine, sid: str, own_id: int) -> bool:
    """Another row already has this SID (two rows with one To and Body): not ours to adopt."""
    with engine.connect() as conn:
        other = conn.scalar(
            select(Message.id).where(Message.provider_sid == sid, Message.id != own_id).limit(1)
        )
    return other is not None


# -- reconciliation


def reconcile(
    engine: Engine, backend: SmsBackend, now: dt.datetime, stuck_after: dt.timedelta
) -> Counter[str]:
    """Settle rows left `sending` longer than `stuck_after`: fetch by SID, else find by To and
    Body (adopt), else `failed`/"interrupted" for an operator. Never re-sends."""
    counts: Counter[str] = Counter()
    with engine.connect() as conn:
        stuck = conn.execute(
            select(
                Message.id,
                Message.to_number,
                Message.body,
                Message.provider_sid,
                Message.claimed_at,
                Message.created_at,
            )
            .where(Message.status == SENDING, Message.claimed_at < now - stuck_after)
            .order_by(Message.id)
            .limit(500)
        ).all()
    for row in stuck:
        try:
            outcome = _settle(engine, backend, row, now)
        except SendError as error:
            log.warning("sms.reconcile_error", extra={"message_id": row.id, "code": error.code})
            outcome = "unreachable"
        counts[f"reconciled:{outcome}"] += 1
    return counts


def _settle(engine: Engine, backend: SmsBackend, row: Any, now: dt.datetime) -> str:
    """`row`: a stuck message's id, to_number, body, provider_sid, claimed_at, created_at."""
    sid, to, body = row.provider_sid, row.to_number, row.body
    since = min(row.created_at, row.claimed_at) - LOOKUP_MARGIN
    if not sid:
        found = backend.find(to, body, since)
        sid = found if found and not _sid_taken(engine, found, row.id) else ""
    if sid:
        values: dict[str, object] = {
            "provider_sid": sid,
            "status": advance(SENT, PROVIDER.get(backend.fetch(sid) or "", SENT)),
            "reason": "reconciled",
        }
        outcome = "adopted"
    else:
        values = {"status": FAILED, "error_code": INTERRUPTED, "reason": INTERRUPTED_REASON}
        outcome = INTERRUPTED
    guard = (
        (Message.id == row.id)
        & (Message.status == SENDING)
        & (Message.claimed_at == row.claimed_at)
    )
    with engine.begin() as conn:
        changed = conn.execute(update(Message).where(guard).values({**values, "updated_at": now}))
    if changed.rowcount:
        event = "sms.reconciled" if sid else "sms.interrupted"
        log.warning(event, extra={"message_id": row.id, "to": mask_phone(to), "sid": sid})
    return outcome


def refresh(
    engine: Engine, backend: SmsBackend, now: dt.datetime, batch: int = 500
) -> Counter[str]:
    """Daily: fetch the status of every message `sent` without a final status (receipts lost)."""
    counts: Counter[str] = Counter()
    last = 0
    while True:
        with engine.connect() as conn:
            rows = conn.execute(
                select(Message.id, Message.provider_sid)
                .where(Message.status == SENT, Message.provider_sid != "", Message.id > last)
                .order_by(Message.id)
                .limit(batch)
            ).all()
        if not rows:
            return counts
        for message_id, sid in rows:
            last = message_id
            try:
                reported = backend.fetch(sid)
            except SendError:
                counts["refresh:unreachable"] += 1
                continue
            status = advance(SENT, PROVIDER.get(reported or "", SENT))
            if status != SENT:
                with engine.begin() as conn:
                    conn.execute(
                        update(Message)
                        .where(Message.id == message_id, Message.status == SENT)
                        .values(status=status, updated_at=now)
                    )
            counts[f"refresh:{status}"] += 1


# -- the loop


def run_worker(
    engine: Engine,
    backend: SmsBackend,
    settings: Settings,
    clock: Clock,
    once: bool,
    stop: threading.Event,
    *,
    workers: int = 1,
    bucket: TokenBucket | SharedBucket | None = None,
    batch: int = 10,
    idle_seconds: float = 1.0,
    rng: random.Random | None = None,
    worker_id: str = "",
) -> Counter[str]:
    """Reconcile, claim, send; sleep when idle or quiet. `once`: until nothing is due, then
    return. Returns counts of outcomes. Stops between messages when `stop` is set (SIGTERM)."""
    worker_id = worker_id or uuid.uuid4().hex[:8]
    stuck_after = dt.timedelta(minutes=float(settings.sms_stuck_minutes))
    callback = f"{settings.public_url.rstrip('/')}/twilio/status" if settings.public_url else None
    sender = Sender(
        engine,
        backend,
        clock,
        rng or random.Random(),
        callback_url=callback,
        quiet_hours=settings.quiet_hours,
        bucket=bucket or bucket_for(engine, float(settings.sms_rate), workers),
        stop=stop,
    )
    cap = int(settings.sms_daily_cap)
    totals: Counter[str] = Counter()
    reconciled_at: dt.datetime | None = None
    while not stop.is_set():
        now = clock()
        if reconciled_at is None or now - reconciled_at >= dt.timedelta(minutes=1):
            totals.update(reconcile(engine, backend, now, stuck_after))
            reconciled_at = now
        resume = quiet(now, settings.quiet_hours)
        try:
            ids: list[int] = []
            seen = 0
            if not resume:
                ids, seen = _claim(engine, batch, now, worker_id, cap, settings.quiet_hours)
            totals.update(sender.send_claimed(ids))
        except Exception:
            if once:
                raise
            log.exception("sms.worker_error", extra={"worker": worker_id})
            stop.wait(idle_seconds * 5)
            continue
        if seen:
            continue
        if once:
            break
        pause = (resume - now).total_seconds() if resume else idle_seconds
        stop.wait(min(pause, 60.0))
    log.info("sms.worker_stopped", extra={"worker": worker_id, **totals})
    return totals
