"""Stage of the nightly run: cancel the open cases the news ends — the person died, moved
out of the district, left the registry, or was already served at a window."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from sqlalchemy import select
from sqlalchemy.orm import Session

from proactive.batching import chunks
from proactive.models import Case
from proactive.programs import case_states, casebook
from proactive.programs.catalog import Program
from proactive.programs.checks import has_residency, is_alive
from proactive.programs.stage import Stage
from proactive.registry.resident import Resident
from proactive.registry.resident_reads import changed_people, load_residents


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
