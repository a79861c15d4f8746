"""Filling the SMS outbox, in the same transaction as the change that causes a message: a visit
planned queues its notice and the reminder for the afternoon before; a cancelled case or a
withdrawn visit withdraws what is still queued. The idempotency key (case, kind, attempt) makes
a re-run queue nothing twice. The outbox worker sends them later (sms_worker.py)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any, cast

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.orm import Session

from proactive.batching import chunks
from proactive.masking import mask_phone
from proactive.models import Message, OptOut, Site, SocialWorker, Task
from proactive.programs.catalog import Program
from proactive.registry.resident_reads import load_residents
from proactive.sms import message_states
from proactive.sms.wording import (
    afternoon_before,
    greeting,
    half_day,
    length,
    recipient,
    segments,
    sendable_from,
    visit_date,
)
from proactive.time import local_date, local_text

NO_PHONE = "无手机，请电话/上门联系"


@dataclass(frozen=True)
class Composer:
    """Templates and the rules of sending time, built by the composition root."""

    templates: Environment
    hotline: str
    quiet_hours: str

    @classmethod
    def from_directory(cls, directory: str, hotline: str, quiet_hours: str) -> Composer:
        environment = Environment(
            loader=FileSystemLoader(directory), undefined=StrictUndefined, autoescape=False
        )
        return cls(environment, hotline, quiet_hours)

    def render(self, template: str, context: Mapping[str, object]) -> str:
        return self.templates.get_template(template).render(context).strip()


def kind_of(template: str) -> str:
    """sms/senior_certificate/reminder.txt.j2 -> reminder."""
    return PurePosixPath(template).name.split(".")[0]


def queue_for_tasks(
    session: Session,
    tasks: Sequence[Task],
    programs: Mapping[str, Program],
    composer: Composer,
    now: dt.datetime,
) -> Counter[str]:
    """Queue each new visit's messages: the notice now (after the quiet hours) and the reminder
    the afternoon before, unless the visit is today (planned by a back-dated run). Without a
    phone, the task says to call or visit instead."""
    counts: Counter[str] = Counter()
    if not tasks:
        return counts
    residents = load_residents(session.connection(), [t.id_number for t in tasks])
    workers = {w.worker_id: w.name for w in session.scalars(select(SocialWorker))}
    phones = {s.site_id: s.phone for s in session.scalars(select(Site))}
    opted_out = set(session.scalars(select(OptOut.number)))
    wanted = {
        f"{t.case_id}:{kind_of(name)}:{t.attempt}"
        for t in tasks
        for name in programs[t.program].sms_templates
    }
    existing = {
        key
        for chunk in chunks(sorted(wanted))
        for key in session.scalars(
            select(Message.idempotency_key).where(Message.idempotency_key.in_(chunk))
        )
    }
    for task in tasks:
        resident = residents.get(task.id_number)
        to = recipient(resident) if resident else None
        if resident is None or to is None:
            task.note = "；".join(filter(None, (task.note, NO_PHONE)))
            counts["no_phone"] += 1
            continue
        addressee, subject = greeting(resident, to)
        context = {
            "addressee": addressee,
            "subject": subject,
            "worker_name": workers.get(task.worker_id, "社区社工"),
            "visit_date": visit_date(task.day),
            "half_day": half_day(task.window),
            "code": task.code,
            "site_phone": phones.get(task.site_id) or composer.hotline,
        }
        for template in programs[task.program].sms_templates:
            kind = kind_of(template)
            key = f"{task.case_id}:{kind}:{task.attempt}"
            reminder = kind == "reminder"
            if key in existing or (reminder and task.day <= local_date(now)):
                continue  # no "tomorrow" reminder for a visit today
            when = afternoon_before(task.day) if reminder else now
            body = composer.render(template, context)
            withdrawn = to.number in opted_out
            session.add(
                Message(
                    idempotency_key=key,
                    case_id=task.case_id,
                    task_id=task.id,
                    kind=kind,
                    template=template,
                    to_number=to.number,
                    addressee="self" if to.own else "family",
                    body=body,
                    segments=segments(body),
                    status=message_states.WITHDRAWN if withdrawn else message_states.QUEUED,
                    not_before=sendable_from(max(when, now), composer.quiet_hours),
                    reason="opted_out" if withdrawn else "",
                    created_at=now,
                    updated_at=now,
                )
            )
            existing.add(key)
            counts["withdrawn:opted_out" if withdrawn else f"queued:{kind}"] += 1
    return counts


def withdraw(session: Session, task_ids: Sequence[int], reason: str, now: dt.datetime) -> int:
    """Withdraw the still-queued messages of these visits."""
    withdrawn = 0
    for chunk in chunks(list(task_ids)):
        result = session.execute(
            update(Message)
            .where(Message.task_id.in_(chunk), Message.status == message_states.QUEUED)
            .values(status=message_states.WITHDRAWN, reason=reason, updated_at=now)
        )
        withdrawn += cast("CursorResult[Any]", result).rowcount
    return withdrawn


MESSAGE_COLUMNS = (
    "message_id",
    "case_id",
    "kind",
    "to",
    "addressee",
    "segments",
    "status",
    "not_before",
    "provider_sid",
    "error_code",
    "reason",
)


def listing(message: Message, unmasked: bool) -> dict[str, object]:
    return {
        "message_id": message.id,
        "case_id": message.case_id,
        "kind": message.kind,
        "to": message.to_number if unmasked else mask_phone(message.to_number),
        "addressee": message.addressee,
        "segments": message.segments,
        "status": message.status,
        "not_before": local_text(message.not_before),  # Asia/Shanghai, as every list
        "provider_sid": message.provider_sid,
        "error_code": message.error_code,
        "reason": message.reason,
    }


SAMPLE = {  # a typical message, for listing the templates to register with carriers
    "addressee": "王芳",
    "subject": "您",
    "worker_name": "李芳",
    "visit_date": "11月27日（周五）",
    "half_day": "上午",
    "code": "4821",
    "site_phone": "0571-87654321",
}


def catalog(programs: Mapping[str, Program], composer: Composer) -> list[dict[str, object]]:
    """Every SMS template with a sample rendering, its length in UTF-16 units and segments:
    the fixed list a district registers with the carriers."""
    found: list[dict[str, object]] = []
    for program in programs.values():
        for template in program.sms_templates:
            text = composer.render(template, SAMPLE)
            found.append(
                {
                    "program": program.id,
                    "kind": kind_of(template),
                    "template": template,
                    "length": length(text),
                    "segments": segments(text),
                    "sample": text,
                }
            )
    return found


def list_messages(
    session: Session, status: str | None, unmasked: bool, latest: int | None = None
) -> list[dict[str, object]]:
    """Messages (of a status), oldest first; or the `latest` ones, newest first."""
    query = select(Message).order_by(Message.id)
    if latest is not None:
        query = select(Message).order_by(Message.id.desc()).limit(latest)
    if status:
        query = query.where(Message.status == status)
    return [listing(m, unmasked) for m in session.scalars(query)]


def status_counts(session: Session) -> dict[str, int]:
    """Messages per status."""
    query = select(Message.status, func.count()).group_by(Message.status)
    return {status: count for status, count in session.execute(query)}
