"""The field app's side of visits: a worker's day with the walk between stops, one visit when
the person may see it, the resident's number revealed on request (audited).

Every read asks the role rules (accounts.roles) with the signed-in person: a visit someone may
not see is reported as missing, exactly like one that does not exist."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from proactive.accounts import audit
from proactive.accounts.roles import Actor, may_see
from proactive.field.task_lines import TaskLine
from proactive.field.task_lists import lines
from proactive.field.task_states import WITHDRAWN
from proactive.geo import Point, Walking
from proactive.masking import mask_phone
from proactive.models import Route, Site, SocialWorker, Task
from proactive.programs.catalog import Program
from proactive.registry.resident_reads import homes, load_residents
from proactive.sms.wording import recipient


@dataclass(frozen=True)
class Stop:
    line: TaskLine
    point: Point | None
    walk_minutes: float | None  # from the stop before (the site for the first); None: unknown


@dataclass(frozen=True)
class Day:
    """A worker's visits on one day, in route order, and where she starts from."""

    day: dt.date
    worker_id: str
    worker_name: str
    site_name: str
    site_point: Point | None
    stops: tuple[Stop, ...]
    route_minutes: float


def worker_day(
    session: Session,
    programs: Mapping[str, Program],
    walking: Walking,
    worker_id: str,
    day: dt.date,
) -> Day:
    tasks = list(
        session.scalars(
            select(Task)
            .where(Task.worker_id == worker_id, Task.day == day, Task.status != WITHDRAWN)
            .order_by(Task.stop, Task.id)
        )
    )
    worker = session.get(SocialWorker, worker_id)
    site = session.get(Site, worker.site_id) if worker else None
    site_point = Point(site.lat, site.lon) if site else None
    where = homes(session.connection(), [t.id_number for t in tasks])
    points = [where[t.id_number].point if t.id_number in where else None for t in tasks]
    route = session.scalars(
        select(Route).where(Route.worker_id == worker_id, Route.day == day)
    ).first()
    return Day(
        day=day,
        worker_id=worker_id,
        worker_name=worker.name if worker else worker_id,
        site_name=site.name if site else "",
        site_point=site_point,
        stops=tuple(
            Stop(line, point, walk)
            for line, point, walk in zip(
                lines(session, tasks, programs, unmasked=False, where=where),
                points,
                walks(walking, site_point, points),
                strict=True,
            )
        ),
        route_minutes=route.minutes if route else 0.0,
    )


def walks(
    walking: Walking, start: Point | None, points: Sequence[Point | None]
) -> list[float | None]:
    """Walking minutes to each point from the one before it (the first from `start`)."""
    found: list[float | None] = []
    before = start
    for point in points:
        found.append(walking.minutes(before, point) if before and point else None)
        before = point
    return found


def visible_task(session: Session, actor: Actor, task_id: int) -> Task | None:
    """The task, if this person may see it; None as if it did not exist otherwise."""
    task = session.get(Task, task_id)
    if task is None or not may_see(actor, task.worker_id, task.site_id):
        return None
    return task


def task_line(session: Session, task: Task, programs: Mapping[str, Program]) -> TaskLine:
    (line,) = lines(session, [task], programs, unmasked=False)
    return line


def reveal_phone(session: Session, actor: Actor, task: Task, now: dt.datetime) -> str:
    """The number to call about a visit in full ("" when there is none); the audit log keeps who
    asked, when and for which visit."""
    resident = load_residents(session.connection(), [task.id_number]).get(task.id_number)
    to = recipient(resident) if resident is not None else None
    number = to.number if to else ""
    audit.record(
        session, actor, "reveal_phone", f"task:{task.id}", now, mask_phone(number) if number else ""
    )
    return number
