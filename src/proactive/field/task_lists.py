"""Read side of dispatch: the day's tasks as records (table, CSV, JSON) and as printable
sheets, one per worker and day, in route order. Masked unless asked."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from proactive.field.task_lines import TaskLine, TaskSheet
from proactive.field.task_states import WITHDRAWN
from proactive.masking import mask_id, mask_phone
from proactive.models import Route, Site, SocialWorker, Task
from proactive.programs.catalog import Program
from proactive.registry.resident import Resident
from proactive.registry.resident_reads import Home, homes, load_residents
from proactive.sms.wording import recipient

COLUMNS = (
    "task_id",
    "id_number",
    "program",
    "site_id",
    "worker_id",
    "date",
    "stop",
    "window",
    "status",
    "outside_circle",
    "travel_minutes",
    "resident",
    "address",
    "phone",
    "certificate_no",
    "attempt",
)

TABLE_COLUMNS = (  # what fits a terminal; CSV and JSON have every column
    "task_id",
    "worker_id",
    "date",
    "stop",
    "window",
    "resident",
    "id_number",
    "phone",
    "certificate_no",
    "status",
)


def find(session: Session, worker: str | None, site: str | None, day: dt.date | None) -> list[Task]:
    query = select(Task).where(Task.status != WITHDRAWN)
    if worker:
        query = query.where(Task.worker_id == worker)
    if site:
        query = query.where(Task.site_id == site)
    if day:
        query = query.where(Task.day == day)
    return list(session.scalars(query.order_by(Task.day, Task.worker_id, Task.stop, Task.id)))


def lines(
    session: Session,
    tasks: Sequence[Task],
    programs: Mapping[str, Program],
    unmasked: bool,
    where: Mapping[str, Home] | None = None,
) -> list[TaskLine]:
    """The visits as lines of a list; `where` the residents' homes, when already read."""
    ids = [t.id_number for t in tasks]
    residents = load_residents(session.connection(), ids)
    if where is None:
        where = homes(session.connection(), ids)
    return [
        _line(t, residents.get(t.id_number), where.get(t.id_number), programs, unmasked)
        for t in tasks
    ]


def _line(
    task: Task,
    resident: Resident | None,
    home: Home | None,
    programs: Mapping[str, Program],
    unmasked: bool,
) -> TaskLine:
    to = recipient(resident) if resident is not None else None
    phone = to.number if to else ""
    return TaskLine(
        task_id=task.id,
        stop=task.stop,
        window=task.window,
        resident=resident.name if resident else "",
        id_number=task.id_number if unmasked else mask_id(task.id_number),
        address=home.address if home else "",
        phone=phone if unmasked or not phone else mask_phone(phone),
        program=task.program,
        task=_what(programs.get(task.program)),
        deliver=task.certificate_no,
        status=task.status,
        outside_circle=task.outside_circle,
        travel_minutes=task.travel_minutes,
        attempt=task.attempt,
    )


def _what(program: Program | None) -> str:
    if program is None:
        return "上门"
    if program.delivery == "certificate":
        return f"送{program.name_zh}上门"
    return f"{program.name_zh}上门走访"


def records(
    engine: Engine,
    programs: Mapping[str, Program],
    worker: str | None,
    site: str | None,
    day: dt.date | None,
    unmasked: bool,
) -> list[dict[str, Any]]:
    with Session(engine) as session:
        tasks = find(session, worker, site, day)
        return [
            {
                "task_id": t.id,
                "id_number": line.id_number,
                "program": t.program,
                "site_id": t.site_id,
                "worker_id": t.worker_id,
                "date": t.day.isoformat(),
                "stop": t.stop,
                "window": t.window,
                "status": t.status,
                "outside_circle": t.outside_circle,
                "travel_minutes": t.travel_minutes,
                "resident": line.resident,
                "address": line.address,
                "phone": line.phone,
                "certificate_no": t.certificate_no,
                "attempt": t.attempt,
            }
            for t, line in zip(tasks, lines(session, tasks, programs, unmasked), strict=True)
        ]


def sheets(
    engine: Engine,
    programs: Mapping[str, Program],
    worker: str | None,
    site: str | None,
    day: dt.date | None,
    unmasked: bool,
) -> list[TaskSheet]:
    """One sheet per worker and day, stops in route order."""
    with Session(engine) as session:
        tasks = find(session, worker, site, day)
        all_lines = lines(session, tasks, programs, unmasked)
        keys = sorted({(t.worker_id, t.day) for t in tasks}, key=lambda k: (k[1], k[0]))
        workers = {w.worker_id: w for w in session.scalars(select(SocialWorker))}
        sites = {s.site_id: s.name for s in session.scalars(select(Site))}
        routes = {(r.worker_id, r.day): r for r in session.scalars(select(Route))}
        found: list[TaskSheet] = []
        for worker_id, when in keys:
            mine = [
                line
                for t, line in zip(tasks, all_lines, strict=True)
                if (t.worker_id, t.day) == (worker_id, when)
            ]
            route = routes.get((worker_id, when))
            person = workers.get(worker_id)
            site_id = person.site_id if person else ""
            found.append(
                TaskSheet(
                    day=when,
                    worker_id=worker_id,
                    worker_name=person.name if person else worker_id,
                    site_id=site_id,
                    site_name=sites.get(site_id, site_id),
                    lines=tuple(sorted(mine, key=lambda line: line.stop)),
                    route_metres=route.metres if route else 0.0,
                    route_minutes=route.minutes if route else 0.0,
                )
            )
        return found
