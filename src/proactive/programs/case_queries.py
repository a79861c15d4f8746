"""Read-side use cases: cases, runs, one person's story. Masked unless asked."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from proactive.masking import mask_id
from proactive.models import Case, Run
from proactive.programs import casebook
from proactive.time import SHANGHAI

CASE_COLUMNS = ("case_id", "id_number", "program", "status", "eligible_on", "reason", "updated_at")
RUN_COLUMNS = (
    "run_id",
    "as_of",
    "covered_from",
    "status",
    "started_at",
    "finished_at",
    "stats",
    "error",
)


def local(moment: dt.datetime | None) -> str:
    return "" if moment is None else moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")


def case_record(case: Case, unmasked: bool) -> dict[str, Any]:
    return {
        "case_id": case.id,
        "id_number": case.id_number if unmasked else mask_id(case.id_number),
        "program": case.program,
        "status": case.status,
        "eligible_on": case.eligible_on.isoformat(),
        "reason": case.reason,
        "updated_at": local(case.updated_at),
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
                "at": local(e.at),
                "actor": e.actor,
                "from": e.from_status,
                "to": e.to_status,
                "reason": e.reason,
            }
            for e in casebook.events(session, case.id)
        ]
        return record


def list_runs(engine: Engine) -> list[dict[str, Any]]:
    with Session(engine) as session:
        return [
            {
                "run_id": r.id,
                "as_of": r.as_of.isoformat(),
                "covered_from": r.covered_from.isoformat(),
                "status": r.status,
                "started_at": local(r.started_at),
                "finished_at": local(r.finished_at),
                "stats": r.stats,
                "error": r.error,
            }
            for r in session.scalars(select(Run).order_by(Run.id))
        ]
