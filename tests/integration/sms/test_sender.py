"""The outbox worker with the real Twilio client against the local stand-in, on SQLite and
PostgreSQL: what is sent, retried, failed, withdrawn, deferred, reconciled — and never twice."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import random
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, insert, select, update

from proactive.models import Message, OptOut
from proactive.settings import Settings
from proactive.sms.backends import TwilioBackend
from proactive.sms.message_states import DELIVERED, FAILED, QUEUED, SENDING, SENT, WITHDRAWN
from proactive.sms.optouts import CONFIRM_KIND
from proactive.sms.sender import (
    INTERRUPTED,
    INTERRUPTED_REASON,
    MAYBE_SENT_WAIT,
    Sender,
    SharedBucket,
    TokenBucket,
    bucket_for,
    claim,
    reconcile,
    refresh,
    run_worker,
)
from proactive.testing.twilio_standin import ACCOUNT_SID, AUTH_TOKEN, Forced, TwilioStandin

SHANGHAI = dt.timezone(dt.timedelta(hours=8))
MORNING = dt.datetime(2026, 11, 25, 10, 0, tzinfo=SHANGHAI).astimezone(dt.UTC)
BODY = "您的老年人优待证已办好，社工李芳将于11月27日上午送证上门，请出示确认码{code}"
STUCK = dt.timedelta(minutes=10)


class Clock:
    def __init__(self, at: dt.datetime) -> None:
        self.at = at

    def __call__(self) -> dt.datetime:
        return self.at

    def advance(self, **delta: float) -> None:
        self.at += dt.timedelta(**delta)


_keys = itertools.count(1)


def message(engine: Engine, to: str = "+8613800138000", **overrides: Any) -> int:
    """Insert one queued outbox row; its id."""
    n = next(_keys)
    row: dict[str, Any] = {
        "idempotency_key": f"test:{n}",
        "kind": "issued",
        "template": "issued.txt.j2",
        "to_number": to,
        "addressee": "self",
        "body": BODY.format(code=f"{n % 10000:04d}"),
        "segments": 1,
        "status": QUEUED,
        "not_before": MORNING - dt.timedelta(hours=1),
        "created_at": MORNING - dt.timedelta(hours=1),
        "updated_at": MORNING - dt.timedelta(hours=1),
        **overrides,
    }
    with engine.begin() as conn:
        return int(conn.execute(insert(Message).values(row).returning(Message.id)).scalar_one())


def row(engine: Engine, message_id: int) -> Any:
    with engine.connect() as conn:
        return conn.execute(select(Message).where(Message.id == message_id)).one()


def settings(**overrides: str) -> Settings:
    values = {"sms_rate": "0", "sms_daily_cap": "3", "quiet_hours": "21:00-08:00"}
    return dataclasses.replace(Settings.from_env({}), **{**values, **overrides})


@pytest.fixture
def clock() -> Clock:
    return Clock(MORNING)


@pytest.fixture
def standin(clock: Clock) -> Iterator[TwilioStandin]:
    with TwilioStandin(clock=clock) as server:
        yield server


@pytest.fixture
def backend(standin: TwilioStandin) -> TwilioBackend:
    return TwilioBackend(
        ACCOUNT_SID, AUTH_TOKEN, from_="+15005550006", api_base=standin.url, timeout=0.5
    )


def work(engine: Engine, backend: Any, clock: Clock, **overrides: str) -> dict[str, int]:
    stop = threading.Event()
    totals = run_worker(
        engine, backend, settings(**overrides), clock, True, stop, rng=random.Random(7)
    )
    return dict(totals)


def test_an_accepted_message_is_sent_with_its_sid(
    engine: Engine, backend: TwilioBackend, standin: TwilioStandin, clock: Clock
) -> None:
    sent = message(engine)
    totals = work(engine, backend, clock, public_url="https://proactive.example.gov.cn")
    after = row(engine, sent)
    assert totals == {"sent": 1}
    assert after.status == SENT and after.attempts == 1 and after.error_code == ""
    assert after.provider_sid in standin.messages
    assert standin.messages[after.provider_sid]["body"] == after.body
    assert standin.creates(after.to_number, after.body) == 1
    request = standin.received[-1].params
    assert request["StatusCallback"] == "https://proactive.example.gov.cn/twilio/status"
    assert request["From"] == "+15005550006"
    assert work(engine, backend, clock) == {}  # nothing left: nothing sent again
    assert standin.creates() == 1


@pytest.mark.parametrize(
    ("number", "code"),
    [
        ("+15005550001", "21211"),
        ("+15005550002", "21612"),
        ("+15005550003", "21408"),
        ("+15005550004", "21610"),
        ("+15005550009", "21614"),
    ],
)
def test_twilio_test_numbers_fail_for_good_without_a_retry(
    engine: Engine,
    backend: TwilioBackend,
    standin: TwilioStandin,
    clock: Clock,
    number: str,
    code: str,
) -> None:
    failing = message(engine, to=number)
    assert work(engine, backend, clock) == {"failed": 1}
    clock.advance(hours=2)
    work(engine, backend, clock)
    after = row(engine, failing)
    assert (after.status, after.error_code, after.attempts) == (FAILED, code, 1)
    assert standin.creates(number) == 1


def test_an_unsubscribed_recipient_is_opted_out_and_gets_nothing_more(
    engine: Engine, backend: TwilioBackend, standin: TwilioStandin, clock: Clock
) -> None:
    first = message(engine, to="+15005550004")
    work(engine, backend, clock)
    with engine.connect() as conn:
        opt_out = conn.execute(select(OptOut)).one()
    assert (opt_out.number, opt_out.source) == ("+15005550004", "provider")
    later = message(engine, to="+15005550004")
    work(engine, backend, clock)
    assert row(engine, first).status == FAILED
    assert (row(engine, later).status, row(engine, later).reason) == (WITHDRAWN, "opted_out")
    assert standin.creates("+15005550004") == 1


def test_an_opted_out_number_is_withdrawn_and_not_sent(
    engine: Engine, backend: TwilioBackend, standin: TwilioStandin, clock: Clock
) -> None:
    with engine.begin() as conn:
        conn.execute(
            insert(OptOut).values(number="+8613900000001", source="hotline", created_at=clock())
        )
    withdrawn = message(engine, to="+8613900000001")
    kept = message(engine, to="+8613900000002")
    work(engine, backend, clock)
    assert (row(engine, withdrawn).status, row(engine, withdrawn).reason) == (
        WITHDRAWN,
        "opted_out",
    )
    assert row(engine, kept).status == SENT
    assert standin.creates("+8613900000001") == 0


def test_the_opt_out_confirmation_still_goes_to_the_opted_out_number(
    engine: Engine, backend: TwilioBackend, standin: TwilioStandin, clock: Clock
) -> None:
    with engine.begin() as conn:
        conn.execute(
            insert(OptOut).values(number="+8613900000003", source="sms", created_at=clock())
        )
    confirm = message(engine, to="+8613900000003", kind=CONFIRM_KIND)
    other = message(engine, to="+8613900000003")
    work(engine, backend, clock)
    assert row(engine, confirm).status == SENT
    assert row(engine, other).status == WITHDRAWN
    assert standin.creates("+8613900000003") == 1


def test_rate_limit_and_outage_are_retried_with_backoff(
    engine: Engine, backend: TwilioBackend, standin: TwilioStandin, clock: Clock
) -> None:
    retried = message(engine)
    standin.force(Forced(429), Forced(503))
    assert work(engine, backend, clock) == {"retried": 1}
    first = row(engine, retried)
    assert (first.status, first.attempts, first.error_code) == (QUEUED, 1, "20429")
    assert clock() <= first.next_attempt_at <= clock() + dt.timedelta(seconds=30)
    assert work(engine, backend, clock) == {}  # not due yet: no request at all
    clock.at = first.next_attempt_at
    assert work(engine, backend, clock) == {"retried": 1}
    second = row(engine, retried)
    assert (second.status, second.attempts, second.error_code) == (QUEUED, 2, "20503")
    assert second.next_attempt_at >= clock() + MAYBE_SENT_WAIT  # a 5xx: the provider may have it
    clock.at = second.next_attempt_at
    assert work(engine, backend, clock) == {"sent": 1}
    last = row(engine, retried)
    assert (last.status, last.attempts, last.error_code) == (SENT, 3, "")
    assert standin.creates(last.to_number, last.body) == 3
    assert len(standin.messages) == 1


def test_a_slow_answer_is_retried_but_looked_up_first_so_never_sent_twice(
    engine: Engine, backend: TwilioBackend, standin: TwilioStandin, clock: Clock
) -> None:
    slow = message(engine)
    standin.force(Forced(delay=1.5))  # Twilio takes the message; its answer comes too late
    assert work(engine, backend, clock) == {"retried": 1}
    first = row(engine, slow)
    assert (first.status, first.error_code) == (QUEUED, "timeout")
    assert first.next_attempt_at >= clock() + MAYBE_SENT_WAIT
    standin.wait_idle()
    clock.at = first.next_attempt_at
    assert work(engine, backend, clock) == {"sent": 1}
    after = row(engine, slow)
    assert (after.status, after.reason) == (SENT, "adopted")
    assert after.provider_sid in standin.messages
    assert standin.creates(after.to_number, after.body) == 1


def test_a_slow_failure_is_retried_and_sent_once(
    engine: Engine, backend: TwilioBackend, standin: TwilioStandin, clock: Clock
) -> None:
    slow = message(engine)
    standin.force(Forced(503, delay=1.5))  # too late, and not taken either
    work(engine, backend, clock)
    standin.wait_idle()
    clock.at = row(engine, slow).next_attempt_at
    assert work(engine, backend, clock) == {"sent": 1}
    after = row(engine, slow)
    assert (after.status, after.attempts) == (SENT, 2)
    assert standin.creates(after.to_number, after.body) == 2
    assert len(standin.messages) == 1


def test_retries_give_up_after_six_attempts(
    engine: Engine, backend: TwilioBackend, standin: TwilioStandin, clock: Clock
) -> None:
    doomed = message(engine)
    standin.force(*[Forced(429)] * 6)
    for _ in range(6):
        work(engine, backend, clock)
        clock.advance(hours=1)
    after = row(engine, doomed)
    assert (after.status, after.attempts, after.error_code) == (FAILED, 6, "20429")
    assert standin.creates() == 6


def test_nothing_is_sent_in_the_quiet_hours(
    engine: Engine, backend: TwilioBackend, standin: TwilioStandin, clock: Clock
) -> None:
    clock.at = dt.datetime(2026, 11, 25, 22, 30, tzinfo=SHANGHAI).astimezone(dt.UTC)
    waiting = message(engine)
    assert work(engine, backend, clock) == {}
    clock.at = dt.datetime(2026, 11, 26, 7, 59, tzinfo=SHANGHAI).astimezone(dt.UTC)
    assert work(engine, backend, clock) == {}
    assert row(engine, waiting).status == QUEUED and standin.creates() == 0
    clock.at = dt.datetime(2026, 11, 26, 8, 0, tzinfo=SHANGHAI).astimezone(dt.UTC)
    assert work(engine, backend, clock) == {"sent": 1}


def test_the_daily_cap_per_number_defers_the_rest_to_the_next_morning(
    engine: Engine, backend: TwilioBackend, standin: TwilioStandin, clock: Clock
) -> None:
    ids = [message(engine, to="+8613800000007") for _ in range(4)]
    other = message(engine, to="+8613800000008")
    assert work(engine, backend, clock) == {"sent": 4}
    assert [row(engine, i).status for i in ids] == [SENT, SENT, SENT, QUEUED]
    assert row(engine, other).status == SENT
    tomorrow = dt.datetime(2026, 11, 26, 8, 0, tzinfo=SHANGHAI).astimezone(dt.UTC)
    assert row(engine, ids[3]).next_attempt_at == tomorrow
    clock.at = tomorrow - dt.timedelta(minutes=1)
    assert work(engine, backend, clock) == {}
    clock.at = tomorrow
    assert work(engine, backend, clock) == {"sent": 1}
    assert standin.creates("+8613800000007") == 4


def test_receipts_and_refresh_only_move_forward(
    engine: Engine, backend: TwilioBackend, standin: TwilioStandin, clock: Clock
) -> None:
    ids = [message(engine, to=f"+861380000001{n}") for n in range(3)]
    work(engine, backend, clock)
    sids = [row(engine, i).provider_sid for i in ids]
    standin.set_status(sids[0], "delivered")
    standin.set_status(sids[1], "undelivered")  # sids[2] stays queued at Twilio
    assert refresh(engine, backend, clock()) == {
        "refresh:delivered": 1,
        "refresh:undelivered": 1,
        "refresh:sent": 1,
    }
    assert [row(engine, i).status for i in ids] == [DELIVERED, "undelivered", SENT]
    standin.set_status(sids[0], "sent")  # a late report for an earlier stage
    refresh(engine, backend, clock())
    assert row(engine, ids[0]).status == DELIVERED


def stuck(engine: Engine, clock: Clock, **overrides: Any) -> int:
    """A row some worker marked `sending` 20 minutes ago and never finished."""
    claimed = clock() - dt.timedelta(minutes=20)
    return message(engine, status=SENDING, claimed_at=claimed, **overrides)


def test_a_stuck_row_with_a_sid_gets_its_status_fetched(
    engine: Engine, backend: TwilioBackend, standin: TwilioStandin, clock: Clock
) -> None:
    result = backend.send("+8613800000021", "已办好", None)
    standin.set_status(result.sid, "delivered")
    stuck_id = stuck(engine, clock, to="+8613800000021", body="已办好", provider_sid=result.sid)
    assert reconcile(engine, backend, clock(), STUCK) == {"reconciled:adopted": 1}
    assert row(engine, stuck_id).status == DELIVERED


def test_a_stuck_row_the_provider_took_adopts_the_sid_and_is_not_resent(
    engine: Engine, backend: TwilioBackend, standin: TwilioStandin, clock: Clock
) -> None:
    body = BODY.format(code="4821")
    clock.advance(minutes=-20)
    result = backend.send("+8613800000022", body, None)  # the request left; then the crash
    clock.advance(minutes=20)
    stuck_id = stuck(engine, clock, to="+8613800000022", body=body)
    assert work(engine, backend, clock) == {"reconciled:adopted": 1}
    after = row(engine, stuck_id)
    assert (after.status, after.provider_sid) == (SENT, result.sid)
    assert standin.creates("+8613800000022", body) == 1


def test_a_stuck_row_the_provider_never_got_is_failed_for_an_operator_not_resent(
    engine: Engine, backend: TwilioBackend, standin: TwilioStandin, clock: Clock
) -> None:
    stuck_id = stuck(engine, clock, to="+8613800000023")
    recent = message(engine, status=SENDING, claimed_at=clock() - dt.timedelta(minutes=5))
    assert work(engine, backend, clock) == {"reconciled:interrupted": 1}
    after = row(engine, stuck_id)
    assert (after.status, after.error_code, after.reason) == (
        FAILED,
        INTERRUPTED,
        INTERRUPTED_REASON,
    )
    assert row(engine, recent).status == SENDING  # not stuck long enough: left alone
    assert standin.creates() == 0


class Crash(Exception):
    pass


class CrashingBackend:
    """Sends `survive` messages, then the process 'dies' with the next request on the wire."""

    def __init__(self, inner: TwilioBackend, survive: int) -> None:
        self.inner, self.left = inner, survive

    def send(self, to: str, body: str, callback_url: str | None) -> Any:
        result = self.inner.send(to, body, callback_url)
        if self.left == 0:
            raise Crash("killed after the request left")
        self.left -= 1
        return result

    def fetch(self, sid: str) -> str | None:
        return self.inner.fetch(sid)

    def find(self, to: str, body: str, since: dt.datetime) -> str | None:
        return self.inner.find(to, body, since)


def test_a_worker_killed_mid_batch_loses_nothing_and_resends_nothing(
    engine: Engine, backend: TwilioBackend, standin: TwilioStandin, clock: Clock
) -> None:
    ids = [message(engine, to=f"+86138000003{n:02d}") for n in range(10)]
    claimed = claim(engine, 5, clock(), "doomed")
    assert claimed == ids[:5]
    sender = Sender(engine, CrashingBackend(backend, survive=2), clock, random.Random(1))
    with pytest.raises(Crash):
        sender.send_claimed(claimed)
    # two recorded, the third left the process, the last two were never tried: queued again
    assert [row(engine, i).status for i in ids[:5]] == [SENT, SENT, SENDING, QUEUED, QUEUED]
    # a real kill skips even that: a whole claimed batch left `sending`, never sent
    killed = claim(engine, 3, clock(), "killed")
    assert {row(engine, i).status for i in killed} == {SENDING}
    # another worker right away: sends the rest once, leaves the `sending` rows alone
    assert work(engine, backend, clock) == {"sent": 4}
    assert row(engine, ids[2]).status == SENDING
    clock.advance(minutes=11)
    totals = work(engine, backend, clock)
    assert totals == {"reconciled:adopted": 1, "reconciled:interrupted": 3}
    assert row(engine, ids[2]).status == SENT
    assert all(count == 1 for count in standin.create_counts().values())
    assert standin.creates() == 2 + 1 + 4  # nothing resent without reconciliation


@pytest.mark.postgresql
@pytest.mark.parametrize("bare_engine", ["postgresql"], indirect=True)
def test_four_workers_drain_5000_messages_each_sent_exactly_once(
    engine: Engine, backend: TwilioBackend, standin: TwilioStandin, clock: Clock
) -> None:
    count = 5000
    rows = [
        {
            "idempotency_key": f"drain:{n}",
            "kind": "issued",
            "template": "issued.txt.j2",
            "to_number": f"+86138{n:08d}",
            "addressee": "self",
            "body": BODY.format(code=f"{n % 10000:04d}"),
            "segments": 1,
            "status": QUEUED,
            "not_before": MORNING,
            "created_at": MORNING,
            "updated_at": MORNING,
        }
        for n in range(count)
    ]
    with engine.begin() as conn:
        conn.execute(insert(Message), rows)
    stop = threading.Event()
    bucket = TokenBucket(0)
    results: list[dict[str, int]] = []

    def one(n: int) -> None:
        totals = run_worker(
            engine, backend, settings(), clock, True, stop, bucket=bucket, worker_id=f"w{n}"
        )
        results.append(dict(totals))

    threads = [threading.Thread(target=one, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    counts = standin.create_counts()
    assert len(counts) == count and set(counts.values()) == {1}
    assert sum(r.get("sent", 0) for r in results) == count
    assert len(results) == 4 and all(r.get("sent", 0) > 0 for r in results)  # all took part
    with engine.connect() as conn:
        statuses = set(conn.scalars(select(Message.status).distinct()))
        sids = conn.scalars(select(Message.provider_sid)).all()
    assert statuses == {SENT}
    assert len(set(sids)) == count and set(sids) == set(standin.messages)


def test_a_send_error_during_the_look_up_is_a_retry(
    engine: Engine, backend: TwilioBackend, standin: TwilioStandin, clock: Clock
) -> None:
    later = message(engine)
    with engine.begin() as conn:  # a retry: it looks first; the look-up itself fails
        conn.execute(update(Message).where(Message.id == later).values(attempts=1))
    standin.stop()
    assert work(engine, backend, clock) == {"retried": 1}
    after = row(engine, later)
    assert (after.status, after.attempts) == (QUEUED, 2)
    assert after.error_code in {"refused", "connection"}


@pytest.mark.postgresql
@pytest.mark.parametrize("bare_engine", ["postgresql"], indirect=True)
def test_the_rate_is_shared_by_every_worker_process(engine: Engine) -> None:
    """Two workers (two buckets, as two processes have) draw from one row: once the first has
    used the burst, the second waits too."""
    first, second = SharedBucket(engine, 0.5, burst=2), SharedBucket(engine, 0.5, burst=2)
    assert [first.take(), first.take()] == [0.0, 0.0]
    assert second.take() > 1.0  # about 2 s (one token every 2 s), less the moments passed
    assert isinstance(bucket_for(engine, 5.0, 4), SharedBucket)
    assert SharedBucket(engine, 0).take() == 0.0  # no limit


def test_twilio_error_texts_are_stored_without_the_number(
    engine: Engine, backend: TwilioBackend, clock: Clock
) -> None:
    import json

    from sqlalchemy.orm import Session

    from proactive.sms.outbox import list_messages

    malformed = message(engine, to="8613800138000")  # not E.164: Twilio quotes it back
    test_number = message(engine, to="+15005550001")
    assert work(engine, backend, clock) == {"failed": 2}
    stored = [row(engine, malformed).reason, row(engine, test_number).reason]
    assert stored == [
        "Unable to create record: The 'To' number 861******8000 is not a valid phone number.",
        "Unable to create record: The 'To' number +15*****0001 is not a valid phone number.",
    ]
    with Session(engine) as session:
        listed = json.dumps(list_messages(session, None, unmasked=False), ensure_ascii=False)
    assert "8613800138000" not in listed and "+15005550001" not in listed
