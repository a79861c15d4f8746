"""Stages of the nightly run that find people and open, verify or cancel their cases.

Cost grows with events, not with the registry: birthdays come from a birth-date range on an
index, data changes from the `changed_run_id` index, open cases from the cases table.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import Connection, or_, select
from sqlalchemy.orm import Session

from proactive.models import Case, Household, Person, ResidencePermit, WindowCertificate
from proactive.programs import case_states, casebook
from proactive.programs.ages import births_reaching
from proactive.programs.catalog import Program
from proactive.programs.checks import has_residency, is_alive, verify
from proactive.programs.eligibility import assess
from proactive.registry.resident import Resident
from proactive.registry.resident_reads import load_residents
from proactive.registry.tables import chunks, refresh_statistics


@dataclass(frozen=True)
class Window:
    """What one run covers: birthdays from `first` to `last` (the run's date), and registry
    changes made by ingest runs after `since_ingest`."""

    first: dt.date
    last: dt.date
    since_ingest: int


@dataclass(frozen=True)
class Stage:
    """What every stage of a run works with."""

    programs: Mapping[str, Program]
    window: Window
    district: str
    run_id: int | None  # None in a dry run
    now: dt.datetime

    @property
    def actor(self) -> str:
        return f"run:{self.run_id}" if self.run_id else "run:dry"


def _years_ago(day: dt.date, years: int) -> dt.date:
    """A birth date no one born after is `years` old on `day` (a day to spare for 29 February)."""
    return births_reaching(years, day, day).high + dt.timedelta(days=1)


def candidates(conn: Connection, programs: Mapping[str, Program], window: Window) -> set[str]:
    """Everyone who may have become eligible in the window."""
    found: set[str] = set()
    youngest = _years_ago(window.last, min(p.age for p in programs.values()))
    for table in (Person, ResidencePermit):
        for program in programs.values():
            if window.first <= window.last:
                births = births_reaching(program.age, window.first, window.last)
                in_range = table.birth_date.between(births.low, births.high)
                query = select(table.id_number).where(
                    or_(in_range, table.birth_date.in_(births.leap_days))
                )
                found.update(conn.execute(query).scalars())
        found.update(
            conn.execute(
                select(table.id_number).where(
                    table.changed_run_id > window.since_ingest, table.birth_date <= youngest
                )
            ).scalars()
        )
    moved_households = select(Household.household_id).where(
        Household.changed_run_id > window.since_ingest
    )
    found.update(
        conn.execute(
            select(Person.id_number).where(
                Person.household_id.in_(moved_households), Person.birth_date <= youngest
            )
        ).scalars()
    )
    return found


def open_cases(session: Session, stage: Stage) -> Counter[str]:
    """Open a case for every newly eligible person and program, verify it, and approve it or
    send it to review."""
    counts: Counter[str] = Counter()
    conn = session.connection()
    ids = sorted(candidates(conn, stage.programs, stage.window))
    counts["candidates"] = len(ids)
    residents = load_residents(conn, ids)
    existing = casebook.existing_keys(session, ids)
    new: list[casebook.NewCase] = []
    for id_number in ids:
        resident = residents.get(id_number)
        if resident is None:
            continue
        for program in stage.programs.values():
            has_case = (id_number, program.id) in existing
            assessment = assess(resident, program, stage.window.last, stage.district, has_case)
            if not assessment.eligible:
                continue
            eligible_on = max(assessment.reaches_age_on, stage.window.first)
            verdict = verify(
                resident, program.checks, program.blocking, stage.window.last, stage.district
            )
            new.append(casebook.NewCase(id_number, program.id, eligible_on, verdict))
            counts[f"opened:{program.id}"] += 1
            counts["birthdays" if eligible_on == assessment.reaches_age_on else "catch_up"] += 1
    for case in casebook.open_cases(session, new, stage.run_id, stage.actor, stage.now):
        counts[case.status] += 1
    refresh_statistics(conn, "cases", len(new))
    return counts


def changed_people(conn: Connection, since_ingest: int) -> list[str]:
    """Everyone whose registry rows changed in ingest runs after `since_ingest`."""
    moved = select(Household.household_id).where(Household.changed_run_id > since_ingest)
    changed: set[str] = set()
    for query in (
        select(Person.id_number).where(Person.changed_run_id > since_ingest),
        select(ResidencePermit.id_number).where(ResidencePermit.changed_run_id > since_ingest),
        select(WindowCertificate.id_number).where(WindowCertificate.changed_run_id > since_ingest),
        select(Person.id_number).where(Person.household_id.in_(moved)),
    ):
        changed.update(conn.execute(query).scalars())
    return sorted(changed)


def cancel_on_news(session: Session, stage: Stage) -> Counter[str]:
    """Cancel the open cases of people the latest extracts show dead, moved out of the
    district, or already served at a window."""
    counts: Counter[str] = Counter()
    ordered = changed_people(session.connection(), stage.window.since_ingest)
    cases = [
        case
        for chunk in chunks(ordered)
        for case in session.scalars(
            select(Case).where(Case.id_number.in_(chunk), Case.status.in_(case_states.OPEN))
        )
    ]
    residents = load_residents(session.connection(), [c.id_number for c in cases])
    for case in cases:
        program = stage.programs.get(case.program)
        resident = residents.get(case.id_number)
        reason = (
            _cancel_reason(resident, program, stage.window.last, stage.district)
            if program
            else None
        )
        if reason:
            casebook.transition(
                session, case, case_states.CANCELLED, stage.actor, reason, stage.now
            )
            counts[f"cancelled:{reason.split('：')[0]}"] += 1
    return counts


def _cancel_reason(
    resident: Resident | None, program: Program, day: dt.date, district: str
) -> str | None:
    if resident is None:
        return "已从登记中移除：registry no longer holds the person"
    if not is_alive(resident):
        return "已死亡：deceased"
    if program.id in resident.window_programs:
        return "已在窗口领证：already issued at a service window"
    if not has_residency(resident, day, district, program.residency):
        return "已迁出本区：moved out of the district"
    return None
