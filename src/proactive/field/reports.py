"""Use case: a worker reports how a visit went from the field app, exactly once per key.

The browser makes a key for every outcome when it is recorded (online or offline) and sends it
with the report; a resend of the same key (the answer was lost, a double tap, the offline queue
replayed) finds the stored report and answers the same receipt without applying anything
again. Permissions are checked when the report arrives, not when the list was downloaded: a
visit reassigned meanwhile is a conflict, kept for the supervisor with both sides, never
dropped and never applied blindly. Five wrong confirmation codes lock the delivery until the
site supervisor has looked at it."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from proactive.accounts import audit
from proactive.accounts.roles import Actor
from proactive.errors import ProactiveError
from proactive.field import outcomes
from proactive.field.plan_visits import Dispatcher
from proactive.field.task_states import PLANNED, FailReason
from proactive.field.visits import visible_task
from proactive.models import OutcomeReport, Task, User
from proactive.programs.catalog import Program

log = logging.getLogger(__name__)

DELIVERED = "delivered"
OUTCOME_ZH = {
    DELIVERED: "已送达",
    FailReason.not_home.value: "不在家",
    FailReason.refused.value: "拒收",
    FailReason.moved.value: "已迁出",
    FailReason.deceased.value: "已故",
    FailReason.wrong_address.value: "地址有误",
}
MAX_WRONG_CODES = 5
LOCK_NOTE = "确认码连续错误5次，已锁定，请站点负责人核实"


class Result(StrEnum):
    applied = "applied"
    wrong_code = "wrong_code"
    locked = "locked"
    conflict = "conflict"


@dataclass(frozen=True)
class Report:
    key: str  # made by the browser, one per recorded outcome
    task_id: int
    outcome: str  # delivered or a FailReason
    code: str
    note: str
    recorded_at: dt.datetime  # when the worker recorded it, on the phone


@dataclass(frozen=True)
class Receipt:
    key: str
    task_id: int
    result: Result
    message: str  # Chinese, for the worker
    repeated: bool  # True when this key had been received before


class BadReport(ProactiveError):
    """The report cannot be read"""


def submit(
    session: Session,
    actor: Actor,
    report: Report,
    programs: Mapping[str, Program],
    dispatcher: Dispatcher,
    now: dt.datetime,
    today: dt.date,
) -> Receipt:
    if report.outcome not in OUTCOME_ZH or not 8 <= len(report.key) <= 64:
        raise BadReport(f"outcome {report.outcome!r}, key of {len(report.key)} characters")
    stored = session.get(OutcomeReport, report.key)
    if stored is not None:
        if stored.user_id != actor.user_id:  # another person's key: never theirs to replay
            raise BadReport("key already used")
        return _receipt(stored, repeated=True)
    result, message = _apply(session, actor, report, programs, dispatcher, now, today)
    row = OutcomeReport(
        key=report.key,
        user_id=actor.user_id,
        task_id=report.task_id,
        outcome=report.outcome,
        note=report.note[:500],
        recorded_at=min(report.recorded_at, now),
        received_at=now,
        result=result.value,
        message=message,
    )
    session.add(row)
    detail = f"{report.outcome} {result.value}"
    audit.record(session, actor, "outcome", f"task:{report.task_id}", now, detail)
    session.flush()
    return _receipt(row, repeated=False)


def _apply(
    session: Session,
    actor: Actor,
    report: Report,
    programs: Mapping[str, Program],
    dispatcher: Dispatcher,
    now: dt.datetime,
    today: dt.date,
) -> tuple[Result, str]:
    task = visible_task(session, actor, report.task_id)
    if task is None:
        return Result.conflict, "该任务已改派或撤回，记录已转站点负责人处理"
    if task.status != PLANNED:
        return Result.conflict, f"该任务已是“{task.outcome or task.status}”，记录已转站点负责人处理"
    if report.outcome == DELIVERED:
        return _deliver(session, actor, task, report, now)
    follow = outcomes.failed(
        session, programs, task.id, FailReason(report.outcome), actor.name, now, today, dispatcher
    )
    _note(task, report.note, now)
    later = f"，已安排 {follow.day:%m月%d日} 再访" if follow is not None else ""
    return Result.applied, f"已记录：{OUTCOME_ZH[report.outcome]}{later}"


def _deliver(
    session: Session, actor: Actor, task: Task, report: Report, now: dt.datetime
) -> tuple[Result, str]:
    wrong = wrong_codes(session, task.id)
    if wrong >= MAX_WRONG_CODES:
        return Result.locked, "该任务因确认码多次错误已锁定，请联系站点负责人"
    try:
        outcomes.done(session, task.id, report.code, actor.name, now)
    except outcomes.WrongCode:
        left = MAX_WRONG_CODES - wrong - 1
        if left > 0:
            return Result.wrong_code, f"确认码不正确，请核对居民收到的短信（还可再试 {left} 次）"
        outcomes.add_note(task, LOCK_NOTE, now)
        audit.record(session, actor, "task_locked", f"task:{task.id}", now, "wrong codes")
        log.warning("field.task_locked", extra={"task_id": task.id, "site_id": task.site_id})
        return Result.locked, "确认码连续错误 5 次，任务已锁定，已通知站点负责人"
    _note(task, report.note, now)
    return Result.applied, "已记录：已送达，案件办结"


def _note(task: Task, note: str, now: dt.datetime) -> None:
    if note.strip():
        outcomes.add_note(task, f"社工备注：{note.strip()[:200]}", now)


def wrong_codes(session: Session, task_id: int) -> int:
    """Deliveries refused for their code: wrong ones, and the attempts refused once locked."""
    query = select(func.count()).where(
        OutcomeReport.task_id == task_id,
        OutcomeReport.result.in_((Result.wrong_code.value, Result.locked.value)),
    )
    return session.scalar(query) or 0


@dataclass(frozen=True)
class Conflict:
    """Both sides of a report that could not be applied: what the worker sent, who she is,
    and the visit as it stands now (None if the task she sent does not exist)."""

    report: OutcomeReport
    reporter: str  # her account's name, and her worker ID
    task: Task | None


def conflicts(session: Session, site_id: str | None) -> list[Conflict]:
    """Reports that could not be applied because the visit had changed, newest first; of a
    site's visits, or (`site_id` None) of all."""
    query = (
        select(OutcomeReport, User.name, User.worker_id, Task)
        .join(User, User.id == OutcomeReport.user_id)
        .outerjoin(Task, Task.id == OutcomeReport.task_id)
        .where(OutcomeReport.result == Result.conflict.value)
    )
    if site_id is not None:
        query = query.where(Task.site_id == site_id)
    rows = session.execute(query.order_by(OutcomeReport.received_at.desc()).limit(100))
    return [
        Conflict(report, f"{name}（{worker_id}）" if worker_id else name, task)
        for report, name, worker_id, task in rows
    ]


def _receipt(row: OutcomeReport, repeated: bool) -> Receipt:
    return Receipt(row.key, row.task_id, Result(row.result), row.message, repeated)
