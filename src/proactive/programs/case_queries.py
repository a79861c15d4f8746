"""Read-side use cases: cases, one person's story. Masked unless asked."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from proactive.masking import mask_id
from proactive.models import Case
from proactive.programs import casebook
from proactive.time import local_text

CASE_COLUMNS = ("case_id", "id_number", "program", "status", "eligible_on", "reason", "updated_at")


def case_record(case: Case, unmasked: bool) -> dict[str, Any]:
    return {
        "case_id": case.id,
        "id_number": case.id_number if unmasked else mask_id(case.id_number),
        "program": case.program,
        "status": case.status,
        "eligible_on": case.eligible_on.isoformat(),
        "reason": case.reason,
        "updated_at": local_text(case.updated_at),
    }


def list_cases(
    engine: Engine, status: str | None, program: str | None, unmasked: bool
) -> list[dict[str, Any]]:
    query = select(Case).order_by(Case.id)
    if status:
        query = query.where(Case.status == status)
    if program:
        query = query.where(Case.program == program)
    with Session(engine) as session:
        return [case_record(c, unmasked) for c in session.scalars(query)]


def case_detail(engine: Engine, case_id: int, unmasked: bool) -> dict[str, Any] | None:
    with Session(engine) as session:
        case = session.get(Case, case_id)
        if case is None:
            return None
        record = case_record(case, unmasked)
        record["checks"] = json.loads(case.checks)
        record["events"] = [
            {
                "at": local_text(e.at),
                "actor": e.actor,
                "from": e.from_status,
                "to": e.to_status,
                "reason": e.reason,
            }
            for e in casebook.events(session, case.id)
        ]
        return record


def case_counts(engine: Engine) -> dict[str, dict[str, int]]:
    """Cases per program and status."""
    counts: dict[str, dict[str, int]] = {}
    query = select(Case.program, Case.status, func.count()).group_by(Case.program, Case.status)
    with Session(engine) as session:
        for program, status, count in session.execute(query):
            counts.setdefault(program, {})[status] = count
    return counts
