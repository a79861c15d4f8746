"""Stage of the nightly run: plan the visits — certificates to deliver, homes to visit — on the
15-minute circle, and keep each worker-day's walk in route order.

Runs after issuing, in one transaction. Exactly-once lives in the database: a case with a
planned task is not planned again (its status is `scheduled`), the unique (case, attempt) key
on tasks, and one route row per worker and day.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from proactive.batching import chunks
from proactive.certificates import numbering
from proactive.field.placement import (
    Board,
    Circle,
    Job,
    Placement,
    SiteInfo,
    WorkerInfo,
    plan,
    windows,
)
from proactive.field.routing import plan_route
from proactive.field.task_states import PLANNED, WITHDRAWN
from proactive.field.workdays import Calendar
from proactive.geo import Point, Walking
from proactive.models import Case, Certificate, Route, Site, SocialWorker, Task
from proactive.programs import case_states, casebook
from proactive.programs.catalog import Program
from proactive.programs.stage import Stage
from proactive.registry.resident_reads import Home, changed_people, homes, load_residents
from proactive.sms import outbox
from proactive.time import local_date


@dataclass(frozen=True)
class Dispatcher:
    """The rules of the circle, built by the composition root."""

    walking: Walking
    calendar: Calendar
    composer: outbox.Composer | None = None  # without it, no SMS is queued
    horizon_days: int = 730


@dataclass(frozen=True)
class Visit:
    """What a planned job is for, beside where and when."""

    case: Case
    program: Program
    certificate_no: str


def dispatch(
    session: Session, programs: Mapping[str, Program], stage: Stage, dispatcher: Dispatcher
) -> dict[str, Any]:
    counts: Counter[str] = Counter()
    # the day after the run's date; for a back-dated run, today: never a day already past
    first = max(stage.window.last + dt.timedelta(days=1), local_date(stage.now))
    touched = withdraw_cancelled(session, stage.now, counts)
    counts["renumbered"] += carry_numbers(session, stage.now)
    circle = Circle(load_sites(session), dispatcher.walking)
    visits: dict[tuple[int, int], Visit] = {}
    staff = Board(circle, load_workers(session), dispatcher.calendar, first, horizon_days=0)
    moved = _moved(session, staff, stage, touched)
    moved += _unstaffed(session, stage, touched, {c.id for c in moved})
    counts["redispatched"] += len(moved)
    jobs = jobs_for(session, moved, programs, first, visits, counts)
    jobs += _new_jobs(session, programs, first, visits, counts)
    placed, left = plan(jobs, circle, make_board(session, circle, dispatcher, first))
    tasks = create_tasks(session, placed, visits, stage.actor, stage.now)
    counts["requeued"] += requeue_unplanned(session, moved, tasks, programs, stage.actor, stage.now)
    touched |= {(t.worker_id, t.day) for t in tasks}
    reroute(session, touched, circle, dispatcher.walking, stage.now)
    notify(session, tasks, programs, dispatcher, stage.now, counts)
    counts["planned"] += len(tasks)
    counts["unplaced"] += len(left)
    counts["outside_circle"] += sum(t.outside_circle for t in tasks)
    counts["no_coordinates"] += sum(not t.located for t in tasks)
    counts["late"] += sum(t.day > t.due_on for t in tasks)
    report: dict[str, Any] = dict(counts)
    if tasks:
        report["last_day"] = max(t.day for t in tasks).isoformat()
    return report


def notify(
    session: Session,
    tasks: Sequence[Task],
    programs: Mapping[str, Program],
    dispatcher: Dispatcher,
    now: dt.datetime,
    counts: Counter[str],
) -> None:
    """Queue the residents' messages for new visits (after routing: they name the half-day)."""
    if dispatcher.composer is not None:
        counts.update(outbox.queue_for_tasks(session, tasks, programs, dispatcher.composer, now))


def withdraw_cancelled(
    session: Session, now: dt.datetime, counts: Counter[str], case_ids: Sequence[int] = ()
) -> set[tuple[str, dt.date]]:
    """Planned visits of cancelled cases (of these cases, when given) are withdrawn: a person
    who died gets no visit."""
    cancelled = select(Case.id).where(Case.status == case_states.CANCELLED)
    if case_ids:
        cancelled = cancelled.where(Case.id.in_(case_ids))
    touched: set[tuple[str, dt.date]] = set()
    withdrawn = list(
        session.scalars(select(Task).where(Task.status == PLANNED, Task.case_id.in_(cancelled)))
    )
    for task in withdrawn:
        finish(task, WITHDRAWN, "case_cancelled", now)
        touched.add((task.worker_id, task.day))
    if withdrawn:
        counts["withdrawn"] += len(withdrawn)
        counts["messages_withdrawn"] += outbox.withdraw(
            session, [t.id for t in withdrawn], "case_cancelled", now
        )
    return touched


def carry_numbers(session: Session, now: dt.datetime) -> int:
    """Planned deliveries carry their case's active certificate (a reissue replaced it)."""
    active = (
        select(Certificate.certificate_no)
        .where(Certificate.case_id == Task.case_id, Certificate.status == numbering.ACTIVE)
        .scalar_subquery()
    )
    stale = list(
        session.execute(
            select(Task, active).where(
                Task.status == PLANNED, Task.kind == "delivery", active != Task.certificate_no
            )
        )
    )
    for task, number in stale:
        task.certificate_no = number
        task.updated_at = now
    return len(stale)


def finish(task: Task, status: str, outcome: str, now: dt.datetime, note: str = "") -> None:
    task.status = status
    task.outcome = outcome
    task.note = note or task.note
    task.updated_at = now


def load_sites(session: Session) -> list[SiteInfo]:
    return [
        SiteInfo(s.site_id, s.name, s.kind, s.division_code, Point(s.lat, s.lon), s.daily_capacity)
        for s in session.scalars(select(Site).order_by(Site.site_id))
    ]


def load_workers(session: Session) -> list[WorkerInfo]:
    return [
        WorkerInfo(w.worker_id, w.site_id, w.role, w.daily_capacity)
        for w in session.scalars(select(SocialWorker).where(SocialWorker.active.is_(True)))
    ]


def make_board(session: Session, circle: Circle, dispatcher: Dispatcher, first: dt.date) -> Board:
    """Room from `first` on, less what earlier runs planned."""
    board = Board(
        circle, load_workers(session), dispatcher.calendar, first, dispatcher.horizon_days
    )
    rows = session.execute(
        select(Task.site_id, Task.worker_id, Task.day, func.count())
        .where(Task.status == PLANNED, Task.day >= first)
        .group_by(Task.site_id, Task.worker_id, Task.day)
    )
    for site_id, worker_id, day, count in rows:
        board.book(site_id, worker_id, day, count)
    return board


def _new_jobs(
    session: Session,
    programs: Mapping[str, Program],
    first: dt.date,
    visits: dict[tuple[int, int], Visit],
    counts: Counter[str],
) -> list[Job]:
    """Issued certificates to deliver and approved visits, not yet planned."""
    deliver = [p.id for p in programs.values() if p.delivery == "certificate"]
    visit = [p.id for p in programs.values() if p.delivery == "visit"]
    cases = list(
        session.scalars(
            select(Case)
            .where(
                or_(
                    and_(Case.program.in_(deliver), Case.status == case_states.ISSUED),
                    and_(Case.program.in_(visit), Case.status == case_states.APPROVED),
                )
            )
            .order_by(Case.id)
        )
    )
    return jobs_for(session, cases, programs, first, visits, counts)


def jobs_for(
    session: Session,
    cases: Sequence[Case],
    programs: Mapping[str, Program],
    earliest: dt.date,
    visits: dict[tuple[int, int], Visit],
    counts: Counter[str],
    keep_site: Mapping[int, str] | None = None,
) -> list[Job]:
    """A job per case, numbered after the case's last task."""
    ids = [c.id_number for c in cases]
    conn = session.connection()
    residents = load_residents(conn, ids)
    where = homes(conn, ids)
    last = last_attempts(session, [c.id for c in cases])
    numbers = active_certificates(session, [c.id for c in cases])
    jobs: list[Job] = []
    for case in cases:
        resident, home = residents.get(case.id_number), where.get(case.id_number)
        if resident is None or home is None:
            counts["no_home"] += 1
            continue
        attempt = last.get(case.id, 0) + 1
        program = programs[case.program]
        visits[(case.id, attempt)] = Visit(case, program, numbers.get(case.id, ""))
        jobs.append(_job(case, attempt, resident.birth_date, home, earliest, program, keep_site))
    return jobs


def _job(
    case: Case,
    attempt: int,
    birth_date: dt.date,
    home: Home,
    earliest: dt.date,
    program: Program,
    keep_site: Mapping[int, str] | None,
) -> Job:
    return Job(
        case_id=case.id,
        attempt=attempt,
        birth_date=birth_date,
        home=home.point,
        division_code=home.division_code,
        earliest=earliest,
        visitor=program.visitor,
        keep_site=(keep_site or {}).get(case.id),
        person=case.id_number,
    )


def last_attempts(session: Session, case_ids: Sequence[int]) -> dict[int, int]:
    found: dict[int, int] = {}
    for chunk in chunks(list(case_ids)):
        rows = session.execute(
            select(Task.case_id, func.max(Task.attempt))
            .where(Task.case_id.in_(chunk))
            .group_by(Task.case_id)
        )
        found.update({case_id: attempt for case_id, attempt in rows})
    return found


def active_certificates(session: Session, case_ids: Sequence[int]) -> dict[int, str]:
    found: dict[int, str] = {}
    for chunk in chunks(list(case_ids)):
        rows = session.execute(
            select(Certificate.case_id, Certificate.certificate_no).where(
                Certificate.case_id.in_(chunk), Certificate.status == numbering.ACTIVE
            )
        )
        found.update({case_id: number for case_id, number in rows})
    return found


def _moved(
    session: Session, staff: Board, stage: Stage, touched: set[tuple[str, dt.date]]
) -> list[Case]:
    """Planned visits of people whose home the latest extracts place with other staff:
    withdrawn (their cases are planned again from the new home). Any other change of a
    resident (a new mobile number, a corrected name) leaves the visit as it is."""
    changed = changed_people(session.connection(), stage.window.since_ingest)
    tasks = [
        t
        for chunk in chunks(changed)
        for t in session.scalars(
            select(Task).where(Task.id_number.in_(chunk), Task.status == PLANNED)
        )
    ]
    where = homes(session.connection(), [t.id_number for t in tasks])
    moved: list[Case] = []
    for task in tasks:
        home = where.get(task.id_number)
        choice = staff.circle.choose(home.point, home.division_code) if home else None
        if choice is None or staff.serves(task.site_id, choice.site_id):
            continue
        finish(task, WITHDRAWN, "moved", stage.now, f"迁往 {choice.site_id}")
        outbox.withdraw(session, [task.id], "moved", stage.now)
        touched.add((task.worker_id, task.day))
        case = session.get(Case, task.case_id)
        if case is not None:
            moved.append(case)
    return moved


def _unstaffed(
    session: Session, stage: Stage, touched: set[tuple[str, dt.date]], taken: set[int]
) -> list[Case]:
    """Planned visits whose worker is no longer active at their site (set inactive, or moved to
    another site, by the latest social_workers.csv): withdrawn with their queued messages, and
    their cases planned again with the staff there is, within capacity."""
    staffed = (
        select(SocialWorker.worker_id)
        .where(SocialWorker.worker_id == Task.worker_id, SocialWorker.site_id == Task.site_id)
        .where(SocialWorker.active.is_(True))
    )
    cases: list[Case] = []
    for task in session.scalars(
        select(Task).where(Task.status == PLANNED, ~staffed.exists()).order_by(Task.day, Task.id)
    ):
        if task.case_id in taken:
            continue
        finish(task, WITHDRAWN, "worker_inactive", stage.now, f"社工 {task.worker_id} 已停用")
        outbox.withdraw(session, [task.id], "worker_inactive", stage.now)
        touched.add((task.worker_id, task.day))
        case = session.get(Case, task.case_id)
        if case is not None:
            taken.add(case.id)
            cases.append(case)
    return cases


def requeue_unplanned(
    session: Session,
    cases: Sequence[Case],
    tasks: Sequence[Task],
    programs: Mapping[str, Program],
    actor: str,
    now: dt.datetime,
) -> int:
    """Cases whose visit was withdrawn and for which no new one could be planned go back to
    the dispatch queue (`issued` to deliver, `approved` to visit): the next run tries again."""
    planned = {t.case_id for t in tasks}
    waiting = [c for c in cases if c.id not in planned and c.status == case_states.SCHEDULED]
    for case in waiting:
        target = (
            case_states.ISSUED
            if programs[case.program].delivery == "certificate"
            else case_states.APPROVED
        )
        why = "暂无可派人员或日期，等待下次派单 no visit could be planned; queued for the next run"
        casebook.transition(session, case, target, actor, why, now)
    return len(waiting)


def create_tasks(
    session: Session,
    placed: Iterable[Placement],
    visits: Mapping[tuple[int, int], Visit],
    actor: str,
    now: dt.datetime,
) -> list[Task]:
    tasks: list[Task] = []
    for p in placed:
        visit = visits[(p.job.case_id, p.job.attempt)]
        case, program = visit.case, visit.program
        task = Task(
            case_id=case.id,
            attempt=p.job.attempt,
            kind="delivery" if program.delivery == "certificate" else "visit",
            id_number=case.id_number,
            program=program.id,
            certificate_no=visit.certificate_no,
            site_id=p.site_id,
            worker_id=p.worker_id,
            day=p.day,
            status=PLANNED,
            outside_circle=p.choice.outside_circle,
            located=p.choice.located,
            assigned_by=p.staffed_by if p.staffed_by != "worker" else p.choice.assigned_by,
            travel_minutes=round(p.choice.minutes, 1),
            due_on=case.eligible_on + dt.timedelta(days=program.sla_days),
            code=f"{secrets.randbelow(10_000):04d}",
            created_at=now,
            updated_at=now,
        )
        tasks.append(task)
        why = f"已派单：{p.day:%Y-%m-%d} 由 {p.worker_id}（{p.site_id}）上门"
        casebook.transition(session, case, case_states.SCHEDULED, actor, why, now)
    session.add_all(tasks)
    session.flush()
    return tasks


def reroute(
    session: Session,
    touched: Iterable[tuple[str, dt.date]],
    circle: Circle,
    walking: Walking,
    now: dt.datetime,
) -> None:
    """Order each touched worker-day's planned stops into the shortest walk from the site and
    back; number them, give each its hour, and keep one route row per worker and day."""
    wanted = set(touched)
    if not wanted:
        return
    days = sorted({day for _, day in wanted})
    workers = sorted({worker for worker, _ in wanted})
    by_key: dict[tuple[str, dt.date], list[Task]] = {key: [] for key in wanted}
    for task in session.scalars(
        select(Task)
        .where(Task.status == PLANNED, Task.day.in_(days), Task.worker_id.in_(workers))
        .order_by(Task.id)
    ):
        if (task.worker_id, task.day) in by_key:
            by_key[(task.worker_id, task.day)].append(task)
    where = homes(session.connection(), [t.id_number for ts in by_key.values() for t in ts])
    routes = {
        (r.worker_id, r.day): r
        for r in session.scalars(
            select(Route).where(Route.day.in_(days), Route.worker_id.in_(workers))
        )
    }
    for (worker_id, day), tasks in sorted(by_key.items()):
        route = routes.get((worker_id, day))
        if not tasks:
            if route is not None:
                session.delete(route)
            continue
        site = circle.sites[tasks[0].site_id]
        metres, minutes = _order(tasks, site.point, where, walking)
        if route is None:
            route = Route(worker_id=worker_id, day=day, site_id=site.site_id)
            session.add(route)
        route.stops, route.metres, route.minutes = len(tasks), metres, minutes
        route.updated_at = now


def _order(
    tasks: Sequence[Task], depot: Point, where: Mapping[str, Home], walking: Walking
) -> tuple[float, float]:
    located = [(t, p) for t in tasks if (p := _point(where, t.id_number)) is not None]
    route = plan_route(depot, [p for _, p in located], walking)
    ordered = [located[i] for i in route.order]
    legs = [
        walking.minutes(a, b)
        for a, b in zip([depot] + [p for _, p in ordered], [p for _, p in ordered], strict=False)
    ]
    for stop, ((task, _), hour) in enumerate(zip(ordered, windows(legs), strict=True), start=1):
        task.stop, task.window = stop, hour
    for stop, task in enumerate(
        (t for t in tasks if _point(where, t.id_number) is None), start=len(ordered) + 1
    ):
        task.stop, task.window = stop, "电话预约"
    return round(route.metres, 1), round(route.minutes, 1)


def _point(where: Mapping[str, Home], id_number: str) -> Point | None:
    home = where.get(id_number)
    return home.point if home else None
