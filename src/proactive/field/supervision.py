"""Read side for site supervisors and district staff: today's progress per worker, overdue
visits, visits that need a person's attention, reports that could not be applied."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from proactive.accounts import audit
from proactive.accounts.roles import Actor, may_supervise
from proactive.errors import ProactiveError
from proactive.field.outcomes import TaskNotFound
from proactive.field.placement import Circle
from proactive.field.plan_visits import Dispatcher, load_sites, reroute
from proactive.field.reports import LOCK_NOTE, Conflict, conflicts
from proactive.field.task_states import DONE, FAILED, PLANNED, WITHDRAWN
from proactive.models import Site, SocialWorker, Task

ATTENTION = ("三次未遇", "地址有误", LOCK_NOTE)


@dataclass(frozen=True)
class WorkerProgress:
    worker_id: str
    name: str
    planned: int
    done: int
    failed: int

    @property
    def total(self) -> int:
        return self.planned + self.done + self.failed


@dataclass(frozen=True)
class Board:
    site_id: str
    site_name: str
    day: dt.date
    workers: tuple[WorkerProgress, ...]
    overdue: tuple[Task, ...]  # planned for an earlier day, still not visited
    attention: tuple[Task, ...]  # sent to the supervisor, or locked by wrong codes
    failed_today: tuple[Task, ...]
    conflicts: tuple[Conflict, ...]
    last_day: dt.date | None  # the backlog's last planned day


def site_board(session: Session, site_id: str, today: dt.date) -> Board:
    site = session.get(Site, site_id)
    staff = session.scalars(
        select(SocialWorker).where(SocialWorker.site_id == site_id).order_by(SocialWorker.worker_id)
    )
    counts: Counter[tuple[str, str]] = Counter()
    for worker_id, status, n in session.execute(
        select(Task.worker_id, Task.status, func.count())
        .where(Task.site_id == site_id, Task.day == today, Task.status != WITHDRAWN)
        .group_by(Task.worker_id, Task.status)
    ):
        counts[worker_id, status] = n
    planned = select(Task).where(Task.site_id == site_id, Task.status == PLANNED)
    attention = planned.where(or_(*(Task.note.contains(words) for words in ATTENTION)))
    return Board(
        site_id=site_id,
        site_name=site.name if site else site_id,
        day=today,
        workers=tuple(
            WorkerProgress(
                w.worker_id,
                w.name,
                counts[w.worker_id, PLANNED],
                counts[w.worker_id, DONE],
                counts[w.worker_id, FAILED],
            )
            for w in staff
        ),
        overdue=tuple(
            session.scalars(planned.where(Task.day < today).order_by(Task.day).limit(200))
        ),
        attention=tuple(session.scalars(attention.order_by(Task.day).limit(200))),
        failed_today=tuple(
            session.scalars(
                select(Task)
                .where(Task.site_id == site_id, Task.status == FAILED, Task.day == today)
                .order_by(Task.worker_id, Task.stop)
            )
        ),
        conflicts=tuple(conflicts(session, site_id)),
        last_day=session.scalar(
            select(func.max(Task.day)).where(Task.site_id == site_id, Task.status == PLANNED)
        ),
    )


@dataclass(frozen=True)
class SiteSummary:
    site_id: str
    name: str
    planned_today: int
    done_today: int
    overdue: int


def district_summary(session: Session, today: dt.date) -> list[SiteSummary]:
    rows = Counter[tuple[str, str]]()
    for site_id, status, n in session.execute(
        select(Task.site_id, Task.status, func.count())
        .where(Task.day == today)
        .group_by(Task.site_id, Task.status)
    ):
        rows[site_id, status] = n
    late: dict[str, int] = {
        site_id: n
        for site_id, n in session.execute(
            select(Task.site_id, func.count())
            .where(Task.status == PLANNED, Task.day < today)
            .group_by(Task.site_id)
        )
    }
    return [
        SiteSummary(
            s.site_id,
            s.name,
            rows[s.site_id, PLANNED] + rows[s.site_id, DONE] + rows[s.site_id, FAILED],
            rows[s.site_id, DONE],
            late.get(s.site_id, 0),
        )
        for s in session.scalars(select(Site).order_by(Site.site_id))
    ]


class Unassignable(ProactiveError):
    """The visit cannot be moved there"""


def reassign(
    session: Session,
    actor: Actor,
    task_id: int,
    worker_id: str,
    day: dt.date,
    dispatcher: Dispatcher,
    now: dt.datetime,
    today: dt.date,
) -> Task:
    """A supervisor moves a planned visit of her site to another worker of the site or another
    working day, within that worker's daily capacity; both walks are re-ordered."""
    task = session.get(Task, task_id, with_for_update=True)
    if task is None or not may_supervise(actor, task.site_id):
        raise TaskNotFound(str(task_id))
    if task.status != PLANNED:
        raise Unassignable(f"task {task_id} is {task.status}")
    worker = session.get(SocialWorker, worker_id)
    if worker is None or not worker.active or worker.site_id != task.site_id:
        raise Unassignable(f"{worker_id} is not an active worker of site {task.site_id}")
    if day < today or not dispatcher.calendar.is_workday(day):
        raise Unassignable(f"{day} is not a working day from today on")
    if (worker_id, day) == (task.worker_id, task.day):
        return task
    booked = session.scalar(
        select(func.count()).where(
            Task.worker_id == worker_id, Task.day == day, Task.status == PLANNED
        )
    )
    if (booked or 0) >= worker.daily_capacity:
        raise Unassignable(
            f"{worker_id} has {booked} visits on {day} (capacity {worker.daily_capacity})"
        )
    before = (task.worker_id, task.day)
    task.worker_id, task.day, task.updated_at = worker_id, day, now
    circle = Circle(load_sites(session), dispatcher.walking)
    reroute(session, {before, (worker_id, day)}, circle, dispatcher.walking, now)
    detail = f"{before[0]} {before[1]} -> {worker_id} {day}"
    audit.record(session, actor, "reassign", f"task:{task.id}", now, detail)
    return task


def team(session: Session, site_id: str) -> list[SocialWorker]:
    return list(
        session.scalars(
            select(SocialWorker)
            .where(SocialWorker.site_id == site_id, SocialWorker.active.is_(True))
            .order_by(SocialWorker.worker_id)
        )
    )
