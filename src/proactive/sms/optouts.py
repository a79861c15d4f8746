"""Use cases: numbers that asked for no more messages.

A number is kept in E.164. Opting out withdraws the number's messages still queued (reason
`opted_out`), except the confirmation of the opt-out itself; adding a number twice changes
nothing. Twilio cannot take replies from mainland-China numbers, so the hotline and the sites
opt residents out through the CLI as well as by SMS (see web.py).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any, cast

import phonenumbers
from sqlalchemy import CursorResult, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from proactive.errors import ProactiveError
from proactive.models import Message, OptOut
from proactive.sms import message_states, wording

SOURCES = ("sms", "hotline", "site", "provider")
OPTED_OUT = "opted_out"  # the reason on the messages withdrawn
CONFIRM_KIND = "optout_confirm"  # the one message an opted-out number still gets
CONFIRM_BODY = "【滨江区民政】您已退订本平台短信，如需恢复请致电或到社区服务站办理。"


class BadNumber(ProactiveError):
    """Not a valid phone number"""


class BadSource(ProactiveError):
    """Unknown opt-out source (sms, hotline, site or provider)"""


@dataclass(frozen=True)
class Entry:
    number: str  # E.164
    source: str
    note: str
    created_at: dt.datetime


@dataclass(frozen=True)
class Added:
    number: str  # E.164
    new: bool  # False when the number had already opted out
    withdrawn: int  # queued messages withdrawn


def normalise(number: str) -> str:
    """A phone number as E.164; numbers without a country code are taken as Chinese."""
    try:
        parsed = phonenumbers.parse(number.strip(), "CN")
    except phonenumbers.NumberParseException:
        raise BadNumber(repr(number)) from None
    if not phonenumbers.is_valid_number(parsed):
        raise BadNumber(repr(number))
    return str(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))


def add(session: Session, number: str, source: str, note: str, now: dt.datetime) -> Added:
    """Opt a number out and withdraw what is still queued for it; a second call only withdraws
    what was queued since (the first source and note stay)."""
    if source not in SOURCES:
        raise BadSource(repr(source))
    e164 = normalise(number)
    new = _insert(session, OptOut(number=e164, source=source, note=note, created_at=now))
    return Added(e164, new, _withdraw_queued(session, e164, now))


def remove(session: Session, number: str) -> bool:
    """Let a number receive messages again; False when it had not opted out."""
    result = session.execute(delete(OptOut).where(OptOut.number == normalise(number)))
    return bool(cast("CursorResult[Any]", result).rowcount)


def list_all(session: Session) -> list[Entry]:
    rows = session.scalars(select(OptOut).order_by(OptOut.created_at, OptOut.number))
    return [Entry(r.number, r.source, r.note, r.created_at) for r in rows]


def opt_out_by_sms(session: Session, number: str, now: dt.datetime) -> Added:
    """A reply asking to opt out: opt the number out and queue one confirmation. The
    confirmation's key names the opt-out (a digest of the number, and the time), so Twilio's
    retries of the reply queue nothing more, while opting out again after a removal is
    confirmed again."""
    added = add(session, number, "sms", "短信退订", now)
    entry = session.get(OptOut, added.number)
    assert entry is not None  # just added, or there already
    since = entry.created_at.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    digest = hashlib.sha256(added.number.encode()).hexdigest()[:16]  # keys are no place for it
    _insert(session, confirmation(added.number, f"{CONFIRM_KIND}:{digest}:{since}", now))
    return added


def confirmation(number: str, key: str, now: dt.datetime) -> Message:
    return Message(
        idempotency_key=key,
        kind=CONFIRM_KIND,
        template=CONFIRM_KIND,
        to_number=number,
        addressee="self",
        body=CONFIRM_BODY,
        segments=wording.segments(CONFIRM_BODY),
        status=message_states.QUEUED,
        not_before=now,
        created_at=now,
        updated_at=now,
    )


def _withdraw_queued(session: Session, number: str, now: dt.datetime) -> int:
    result = session.execute(
        update(Message)
        .where(
            Message.to_number == number,
            Message.status == message_states.QUEUED,
            Message.kind != CONFIRM_KIND,
        )
        .values(status=message_states.WITHDRAWN, reason=OPTED_OUT, updated_at=now)
    )
    return cast("CursorResult[Any]", result).rowcount


def _insert(session: Session, row: OptOut | Message) -> bool:
    """Insert unless the key is taken (a concurrent twin included); True if inserted."""
    dialect = session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    table = type(row).__table__
    values = {c.key: getattr(row, c.key) for c in table.columns if getattr(row, c.key) is not None}
    key = next(iter(table.primary_key))
    insert = module.insert(table).values(values).on_conflict_do_nothing().returning(key)
    return session.execute(insert).first() is not None  # rowcount is -1 on psycopg
