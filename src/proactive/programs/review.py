"""Use case: a person decides on a case the checks could not approve."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from proactive.errors import ProactiveError
from proactive.models import Case
from proactive.programs import case_states, casebook
from proactive.time import Clock


class CaseNotFound(ProactiveError):
    """No such case"""


class NotInReview(ProactiveError):
    """The case is not waiting for review"""


def decide(engine: Engine, case_id: int, approve: bool, user: str, why: str, clock: Clock) -> str:
    """Approve or reject (cancel) a case in review; records who and why. Returns the status."""
    if not why.strip():
        raise ProactiveError("a reason is required")
    with Session(engine) as session, session.begin():
        case = session.get(Case, case_id, with_for_update=True)
        if case is None:
            raise CaseNotFound(str(case_id))
        if case.status != case_states.NEEDS_REVIEW:
            raise NotInReview(f"case {case_id} is {case.status}")
        target = case_states.APPROVED if approve else case_states.CANCELLED
        verb = "人工审核通过" if approve else "人工审核不通过"
        casebook.transition(session, case, target, f"user:{user}", f"{verb}：{why}", clock())
        return target
