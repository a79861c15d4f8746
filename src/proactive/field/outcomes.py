"""Use cases: a social worker reports how a visit went.

Done (with the resident's confirmation code) closes the case. Not at home plans the next
working day, at most three tries, then the site supervisor; a wrong address goes to the
supervisor straight away. Refused, moved away and deceased end the case and void its
certificate.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import secrets
import unicodedata
from collections import Counter
from collections.abc import Mapping

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from proactive.certificates import numbering
from proactive.errors import ProactiveError
from proactive.field.placement import Circle, plan
from proactive.field.plan_visits import (
    Dispatcher,
    Visit,
    create_tasks,
    finish,
    jobs_for,
    load_sites,
    make_board,
    notify,
    requeue_unplanned,
    reroute,
)
from proactive.field.task_states import DONE, FAILED, PLANNED, FailReason
from proactive.field.workdays import first_workday
from proactive.models import Case, Task
from proactive.programs import case_states, casebook
from proactive.programs.catalog import Program
from proactive.sms import outbox

MAX_TRIES = 3  # visits to a home nobody answers before the supervisor takes over


ENDING = {
    FailReason.refused: "居民拒收/拒绝上门：refused",
    FailReason.moved: "上门发现已迁出：moved away",
    FailReason.deceased: "上门获知已故：deceased",
}


class TaskNotFound(ProactiveError):
    """No such task"""


class NotPlanned(ProactiveError):
    """The task is not waiting for a visit"""


class WrongCode(ProactiveError):
    """The confirmation code does not match the one sent to the resident"""


def done(session: Session, task_id: int, code: str, user: str, now: dt.datetime) -> Task:
    task = _planned(session, task_id)
    if not secrets.compare_digest(normalised(code), normalised(task.code)):
        raise WrongCode(f"task {task_id}")
    finish(task, DONE, "delivered", now)
    outbox.withdraw(session, [task.id], "visit_done", now)  # the reminder, if still queued
    case = _case(session, task)
    what = "证书已送达" if task.kind == "delivery" else "已上门"
    actor = f"user:{user}"
    casebook.transition(session, case, case_states.DELIVERED, actor, f"{what}，确认码核对无误", now)
    casebook.transition(session, case, case_states.CLOSED, actor, "办结", now)
    return task


def failed(
    session: Session,
    programs: Mapping[str, Program],
    task_id: int,
    reason: FailReason,
    user: str,
    now: dt.datetime,
    today: dt.date,
    dispatcher: Dispatcher,
) -> Task | None:
    """Record a failed visit; returns the next task when one is planned."""
    task = _planned(session, task_id)
    finish(task, FAILED, reason.value, now)
    outbox.withdraw(session, [task.id], "visit_failed", now)
    case = _case(session, task)
    actor = f"user:{user}"
    circle = Circle(load_sites(session), dispatcher.walking)
    touched = {(task.worker_id, task.day)}
    if reason in ENDING:
        casebook.transition(session, case, case_states.CANCELLED, actor, ENDING[reason], now)
        void = "deceased" if reason is FailReason.deceased else "case_cancelled"
        numbering.revoke_live(session, case.id, void, now)
        reroute(session, touched, circle, dispatcher.walking, now)
        return None
    tries = session.scalar(
        select(func.count()).where(
            Task.case_id == case.id, Task.status == FAILED, Task.outcome == "not_home"
        )
    )
    to_supervisor = reason is FailReason.wrong_address or (tries or 0) >= MAX_TRIES
    earliest = first_workday(dispatcher.calendar, max(task.day, today) + dt.timedelta(days=1))
    visits: dict[tuple[int, int], Visit] = {}
    jobs = jobs_for(session, [case], programs, earliest, visits, Counter(), {case.id: task.site_id})
    if to_supervisor:
        jobs = [dataclasses.replace(j, visitor="supervisor") for j in jobs]
    placed, _ = plan(jobs, circle, make_board(session, circle, dispatcher, earliest))
    (follow_up,) = create_tasks(session, placed, visits, actor, now) or (None,)
    if follow_up is not None:
        touched.add((follow_up.worker_id, follow_up.day))
        if to_supervisor:
            follow_up.note = (
                "三次未遇，转站点负责人"
                if reason is FailReason.not_home
                else "地址有误，请负责人电话核实"
            )
    else:
        requeue_unplanned(session, [case], [], programs, actor, now)
    reroute(session, touched, circle, dispatcher.walking, now)
    if follow_up is not None:
        notify(session, [follow_up], programs, dispatcher, now, Counter())
    return follow_up


def normalised(code: str) -> bytes:
    """A code as typed, compared by what it says: NFKC turns full-width digits (１２３４)
    into ASCII ones; spaces around it are dropped."""
    return unicodedata.normalize("NFKC", code).strip().encode("utf-8")


def _planned(session: Session, task_id: int) -> Task:
    task = session.get(Task, task_id, with_for_update=True)
    if task is None:
        raise TaskNotFound(str(task_id))
    if task.status != PLANNED:
        raise NotPlanned(f"task {task_id} is {task.status}")
    return task


def _case(session: Session, task: Task) -> Case:
    case = session.get(Case, task.case_id, with_for_update=True)
    if case is None:  # the foreign key makes this impossible
        raise TaskNotFound(f"case of task {task.id}")
    return case


def add_note(task: Task, note: str, now: dt.datetime) -> bool:
    """Append a note once (Twilio's retries add nothing); True if it was new."""
    if note in task.note:
        return False
    task.note = f"{task.note}；{note}" if task.note else note
    task.updated_at = now
    return True
