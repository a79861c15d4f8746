"""The district desk: reissue or revoke a certificate by hand (the staff pages of the field
app, `proactive certificates reissue`, one number or many), with what follows for the visits.

A reissue's planned delivery takes the new number along. A revocation of a certificate whose
case is still open cancels the case (the reason in its history), voids its certificates and
withdraws its planned visit and queued messages, re-routing that worker's day; a certificate
already delivered is only voided, its closed case stays as it was."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from proactive.certificates import issued, numbering
from proactive.certificates.issuing import Issuer
from proactive.certificates.reasons import ReissueReason
from proactive.errors import ProactiveError
from proactive.field import plan_visits
from proactive.field.placement import Circle
from proactive.geo import Walking
from proactive.models import Case, Certificate
from proactive.programs import case_states, casebook
from proactive.programs.catalog import Program
from proactive.progress import SILENT, Progress
from proactive.time import Clock

REVOKED_BY_STAFF = "revoked_by_staff"  # the certificate's revoked_reason
STAGE = "reissue"  # the progress stage of a bulk reissue


class CannotRevoke(ProactiveError):
    """The certificate cannot be revoked"""


def reissue(
    engine: Engine,
    programs: Mapping[str, Program],
    certificate_no: str,
    reason: ReissueReason,
    issuer: Issuer,
    issued_on: dt.date,
    user: str,
    now: dt.datetime,
) -> Certificate:
    """Replace a certificate (issued.reissue); its planned delivery carries the new number."""
    new = issued.reissue(engine, programs, certificate_no, reason, issuer, issued_on, user, now)
    with Session(engine) as session, session.begin():
        plan_visits.carry_numbers(session, now)
    return new


@dataclass(frozen=True)
class Reissued:
    """One number of a bulk reissue: its replacement, or why there is none."""

    certificate_no: str
    new: Certificate | None
    error: str = ""


def reissue_many(
    engine: Engine,
    programs: Mapping[str, Program],
    numbers: Sequence[str],
    reason: ReissueReason,
    issuer: Issuer,
    issued_on: dt.date,
    user: str,
    clock: Clock,
    progress: Progress = SILENT,
) -> list[Reissued]:
    """Reissue each number in turn, each in its own transactions: a number that cannot be
    reissued (unknown, already revoked) is reported and the others go on. `progress` hears
    the stage `reissue` with its total and each number done."""
    done: list[Reissued] = []
    progress.begin(STAGE, total=len(numbers))
    for number in numbers:
        try:
            new = reissue(engine, programs, number, reason, issuer, issued_on, user, clock())
            done.append(Reissued(number, new))
        except ProactiveError as error:
            done.append(Reissued(number, None, str(error)))
        progress.advance(STAGE)
    failed = sum(1 for r in done if r.new is None)
    progress.end(STAGE, {"reissued": len(done) - failed, "failed": failed})
    return done


def revoke(
    session: Session, certificate_no: str, why: str, user: str, walking: Walking, now: dt.datetime
) -> str:
    """Void a live certificate by hand; the case's status afterwards."""
    certificate = numbering.by_number(session, certificate_no, lock=True)
    if certificate is None:
        raise issued.CertificateNotFound(certificate_no)
    if certificate.status not in numbering.LIVE:
        raise CannotRevoke(f"{certificate_no} is {certificate.status}")
    case = session.get_one(Case, certificate.case_id, with_for_update=True)
    if case.status not in case_states.OPEN:
        numbering.revoke(session, certificate, REVOKED_BY_STAFF, now)
        return case.status
    reason = f"人工作废证书 {certificate_no}：{why} revoked by staff"
    casebook.transition(session, case, case_states.CANCELLED, f"user:{user}", reason, now)
    numbering.revoke_live(session, case.id, REVOKED_BY_STAFF, now)
    touched = plan_visits.withdraw_cancelled(session, now, Counter(), [case.id])
    circle = Circle(plan_visits.load_sites(session), walking)
    plan_visits.reroute(session, touched, circle, walking, now)
    return case.status
