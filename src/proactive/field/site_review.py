"""The review queue by site: the cases the checks could not approve, each with the site its
visit would go to (the dispatcher's choice from the home: placement.Circle), its failing checks
and reason. A site supervisor sees and decides her site's cases, district staff all of them."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from proactive.accounts.roles import Actor, Role, may_supervise
from proactive.field.placement import Circle
from proactive.field.plan_visits import load_sites
from proactive.geo import Walking
from proactive.masking import mask_id
from proactive.models import Case
from proactive.programs import case_states
from proactive.registry.resident_reads import homes


@dataclass(frozen=True)
class Waiting:
    case_id: int
    id_number: str  # never shown: for `explain`
    masked_id: str
    program: str
    eligible_on: dt.date
    reason: str
    failed: tuple[tuple[str, str], ...]  # (check, detail) of the checks that did not pass
    site_id: str  # "" when no site can be found


def failed_checks(checks: str) -> tuple[tuple[str, str], ...]:
    """The failing checks of a case's stored results (pure)."""
    found = json.loads(checks or "[]")
    return tuple((c["check"], c["detail"]) for c in found if not c["passed"])


def sites_of(session: Session, id_numbers: Sequence[str], walking: Walking) -> dict[str, str]:
    """The site whose staff would visit each person ("" for none)."""
    circle = Circle(load_sites(session), walking)
    where = homes(session.connection(), id_numbers)
    chosen: dict[str, str] = {}
    for id_number in id_numbers:
        home = where.get(id_number)
        choice = circle.choose(home.point, home.division_code) if home else None
        chosen[id_number] = choice.site_id if choice else ""
    return chosen


def queue(
    session: Session, actor: Actor, walking: Walking, case_id: int | None = None
) -> list[Waiting]:
    """The cases in review this person may decide (only this one, when given), oldest first."""
    query = select(Case).where(Case.status == case_states.NEEDS_REVIEW).order_by(Case.id)
    if case_id is not None:
        query = query.where(Case.id == case_id)
    cases = list(session.scalars(query))
    sites = sites_of(session, [c.id_number for c in cases], walking)
    return [
        Waiting(
            c.id,
            c.id_number,
            mask_id(c.id_number),
            c.program,
            c.eligible_on,
            c.reason,
            failed_checks(c.checks),
            sites[c.id_number],
        )
        for c in cases
        if may_decide(actor, sites[c.id_number])
    ]


def one(session: Session, actor: Actor, case_id: int, walking: Walking) -> Waiting | None:
    """A case in review, if this person may decide it; None as if it did not exist."""
    return next(iter(queue(session, actor, walking, case_id)), None)


def may_decide(actor: Actor, site_id: str) -> bool:
    """District staff decide any case; a supervisor those of her site."""
    return actor.role is Role.admin or (bool(site_id) and may_supervise(actor, site_id))
