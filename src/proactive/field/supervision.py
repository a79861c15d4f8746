"""Read side for site supervisors and district staff: today's progress per worker, overdue
visits, visits that need a person's attention, reports that could not be applied."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from proactive.field.reports import LOCK_NOTE, conflicts
from proactive.field.task_states import DONE, FAILED, PLANNED, WITHDRAWN
from proactive.models import OutcomeReport, Site, SocialWorker, Task

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
    conflicts: tuple[OutcomeReport, ...]
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
