"""Cases in the database: open, move through the state machine, audit every move."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from proactive import case_states
from proactive.checks import Verdict
from proactive.models import Case, CaseEvent


def open_case(
    session: Session,
    id_number: str,
    program: str,
    eligible_on: dt.date,
    run_id: int | None,
    actor: str,
    now: dt.datetime,
) -> Case:
    case = Case(
        id_number=id_number,
        program=program,
        status=case_states.DETECTED,
        eligible_on=eligible_on,
        reason="",
        checks="[]",
        run_id=run_id,
        created_at=now,
        updated_at=now,
    )
    session.add(case)
    session.flush()
    session.add(
        CaseEvent(
            case_id=case.id,
            at=now,
            actor=actor,
            from_status=None,
            to_status=case_states.DETECTED,
            reason="系统自动发现 detected",
        )
    )
    return case


def transition(
    session: Session, case: Case, target: str, actor: str, reason: str, now: dt.datetime
) -> None:
    case_states.check_transition(case.status, target)
    session.add(
        CaseEvent(
            case_id=case.id,
            at=now,
            actor=actor,
            from_status=case.status,
            to_status=target,
            reason=reason,
        )
    )
    case.status = target
    case.reason = reason
    case.updated_at = now


def record_verdict(
    session: Session, case: Case, verdict: Verdict, actor: str, now: dt.datetime
) -> None:
    case.checks = json.dumps(
        [{"check": name, "passed": o.passed, "detail": o.detail} for name, o in verdict.results],
        ensure_ascii=False,
    )
    if verdict.approved:
        warnings = verdict.reason()
        transition(
            session,
            case,
            case_states.APPROVED,
            actor,
            "核验通过，自动批准" + (f"（提示：{warnings}）" if warnings else ""),
            now,
        )
    else:
        transition(
            session, case, case_states.NEEDS_REVIEW, actor, "核验未通过：" + verdict.reason(), now
        )


def existing_keys(session: Session, id_numbers: Sequence[str]) -> set[tuple[str, str]]:
    keys: set[tuple[str, str]] = set()
    for start in range(0, len(id_numbers), 900):
        chunk = id_numbers[start : start + 900]
        rows = session.execute(
            select(Case.id_number, Case.program).where(Case.id_number.in_(chunk))
        )
        keys.update((id_number, program) for id_number, program in rows)
    return keys


def events(session: Session, case_id: int) -> list[CaseEvent]:
    return list(
        session.scalars(
            select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id)
        )
    )
