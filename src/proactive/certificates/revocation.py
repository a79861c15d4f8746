"""Stage of the nightly run: void the certificates the news makes invalid — the holder died,
or the case was cancelled before the certificate reached the holder."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import select
from sqlalchemy.orm import Session

from proactive.batching import chunks
from proactive.certificates import numbering
from proactive.models import Case, Certificate, Person
from proactive.programs import case_states
from proactive.programs.stage import Stage
from proactive.registry.resident_reads import changed_people

DECEASED = "deceased"
CASE_CANCELLED = "case_cancelled"


def revoke_on_news(session: Session, stage: Stage) -> Counter[str]:
    counts: Counter[str] = Counter()
    changed = changed_people(session.connection(), stage.window.since_ingest)
    for chunk in chunks(changed):
        dead = select(Person.id_number).where(
            Person.id_number.in_(chunk), Person.hukou_status == "deceased"
        )
        for certificate in session.scalars(
            select(Certificate).where(
                Certificate.id_number.in_(dead), Certificate.status.in_(numbering.LIVE)
            )
        ):
            numbering.revoke(session, certificate, DECEASED, stage.now)
            counts[f"revoked:{DECEASED}"] += 1
    cancelled = select(Case.id).where(Case.status == case_states.CANCELLED)
    for certificate in session.scalars(
        select(Certificate).where(
            Certificate.case_id.in_(cancelled), Certificate.status.in_(numbering.LIVE)
        )
    ):
        numbering.revoke(session, certificate, CASE_CANCELLED, stage.now)
        counts[f"revoked:{CASE_CANCELLED}"] += 1
    return counts
