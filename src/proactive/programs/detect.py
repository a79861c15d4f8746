"""Stage of the nightly run that finds people and opens and verifies their cases.

Cost grows with events, not with the registry: birthdays come from a birth-date range on an
index, data changes from the `changed_run_id` index, open cases from the cases table.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Mapping, Sequence

from sqlalchemy import Connection, or_, select
from sqlalchemy.orm import Session

from proactive.batching import chunks
from proactive.models import Household, Person, ResidencePermit
from proactive.programs import casebook
from proactive.programs.ages import births_reaching
from proactive.programs.catalog import Program
from proactive.programs.checks import verify
from proactive.programs.eligibility import assess
from proactive.programs.stage import Stage, Window
from proactive.progress import SILENT, Progress
from proactive.registry.resident_reads import load_residents
from proactive.registry.tables import refresh_statistics

BATCH = 5_000  # candidates assessed and opened per transaction (a first run's backfill)


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


def open_cases(
    session: Session,
    stage: Stage,
    checkpoint: Callable[[], None] = lambda: None,
    progress: Progress = SILENT,
) -> Counter[str]:
    """Open a case for every newly eligible person and program, verify it, and approve it or
    send it to review: `BATCH` candidates at a time, `checkpoint` (the run's commit) after
    each. On a first run over people already eligible (the backfill: hundreds of thousands)
    a killed run keeps the batches it committed, and the next run, finding their cases, opens
    only the rest. `progress` hears of the candidates (stage `detect`) and of each batch."""
    counts: Counter[str] = Counter()
    ids = sorted(candidates(session.connection(), stage.programs, stage.window))
    counts["candidates"] = len(ids)
    progress.begin("detect", len(ids))
    opened = 0
    for batch in chunks(ids, BATCH):
        new = _assess(session, stage, batch, counts)
        for case in casebook.open_cases(session, new, stage.run_id, stage.actor, stage.now):
            counts[case.status] += 1
        opened += len(new)
        checkpoint()
        progress.advance("detect", len(batch))
    refresh_statistics(session.connection(), "cases", opened)
    return counts


def _assess(
    session: Session, stage: Stage, ids: Sequence[str], counts: Counter[str]
) -> list[casebook.NewCase]:
    """The cases to open for these candidates, verified; `counts` hears of each."""
    residents = load_residents(session.connection(), ids)
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
    return new
