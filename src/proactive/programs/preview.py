"""Use case: what a program's rule matches on a day, before anything is opened."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from proactive.masking import mask_id
from proactive.programs import casebook, detect
from proactive.programs.catalog import Program
from proactive.programs.eligibility import assess
from proactive.programs.stage import Window
from proactive.registry.resident_reads import load_residents

NO_INGEST = 2**31 - 1  # no ingest run is later: nobody counts as changed (a PostgreSQL integer)


@dataclass(frozen=True)
class Preview:
    program: str
    day: dt.date
    reaching_age: int  # people whose birthday makes them reach the age that day
    matched: int  # of those, how many the rule would open a case for
    sample: list[dict[str, str]]


def preview(
    engine: Engine, program: Program, day: dt.date, district: str, size: int = 5
) -> Preview:
    window = Window(day, day, since_ingest=NO_INGEST)
    with Session(engine) as session:
        ids = sorted(detect.candidates(session.connection(), {program.id: program}, window))
        residents = load_residents(session.connection(), ids)
        existing = casebook.existing_keys(session, ids)
    reaching = [
        r
        for r in residents.values()
        if assess(r, program, day, district, False).reaches_age_on == day
    ]
    matched = [
        r
        for r in reaching
        if assess(r, program, day, district, (r.id_number, program.id) in existing).eligible
    ]
    sample = [
        {
            "id_number": mask_id(r.id_number),
            "name": r.name[:1] + "*" * (len(r.name) - 1),
            "birth_date": r.birth_date.isoformat(),
        }
        for r in matched[:size]
    ]
    return Preview(program.id, day, len(reaching), len(matched), sample)
