"""Cases in the database: open, move through the state machine, audit every move."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from proactive.batching import chunks
from proactive.models import Case, CaseEvent
from proactive.programs import case_states
from proactive.programs.checks import Verdict


@dataclass(frozen=True)
class NewCase:
    id_number: str
    program: str
    eligible_on: dt.date
    verdict: Verdict


def open_cases(
    session: Session, new: Sequence[NewCase], run_id: int | None, actor: str, now: dt.datetime
) -> list[Case]:
    """Open verified cases in bulk: detected, then approved or sent to review, both audited."""
    cases: list[Case] = []
    for item in new:
        status, reason = _after_verification(item.verdict)
        case_states.check_transition(None, case_states.DETECTED)
        case_states.check_transition(case_states.DETECTED, status)
        cases.append(
            Case(
                id_number=item.id_number,
                program=item.program,
                status=status,
                eligible_on=item.eligible_on,
                reason=reason,
                checks=_checks_json(item.verdict),
                run_id=run_id,
                created_at=now,
                updated_at=now,
            )
        )
    session.add_all(cases)
    session.flush()
    session.add_all(
        event
        for case in cases
        for event in (
            CaseEvent(
                case_id=case.id,
                at=now,
                actor=actor,
                from_status=None,
                to_status=case_states.DETECTED,
                reason="系统自动发现 detected",
            ),
            CaseEvent(
                case_id=case.id,
                at=now,
                actor=actor,
                from_status=case_states.DETECTED,
                to_status=case.status,
                reason=case.reason,
            ),
        )
    )
    session.flush()
    return cases


def _after_verification(verdict: Verdict) -> tuple[str, str]:
    if verdict.approved:
        notes = verdict.reason()
        return case_states.APPROVED, "核验通过，自动批准" + (f"（提示：{notes}）" if notes else "")
    return case_states.NEEDS_REVIEW, "核验未通过：" + verdict.reason()


def _checks_json(verdict: Verdict) -> str:
    return json.dumps(
        [{"check": name, "passed": o.passed, "detail": o.detail} for name, o in verdict.results],
        ensure_ascii=False,
    )


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


def existing_keys(session: Session, id_numbers: Sequence[str]) -> set[tuple[str, str]]:
    keys: set[tuple[str, str]] = set()
    for chunk in chunks(id_numbers):
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
