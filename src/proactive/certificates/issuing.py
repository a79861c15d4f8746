"""Stage of the nightly run: every approved case of a certificate program gets exactly one
numbered, signed, rendered certificate, and moves to `issued`.

Numbers come from a locked per-program, per-year counter; the unique (case, edition) key and
the selection of approved cases only make a re-run issue nothing twice. A number is committed
with its case before rendering is retried, so a failed render keeps the case approved and
the next run renders the same number again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from proactive.certificates import numbering, signing
from proactive.certificates.file_store import FileStore
from proactive.certificates.keys import SigningKey
from proactive.certificates.render import CertificateView
from proactive.masking import mask_id
from proactive.models import Case, Certificate
from proactive.programs import case_states, casebook
from proactive.programs.catalog import Program
from proactive.progress import SILENT, Progress
from proactive.registry.resident import Resident
from proactive.registry.resident_reads import home_addresses, load_residents

log = logging.getLogger(__name__)


class Renderer(Protocol):
    def render(self, template: str, view: CertificateView) -> bytes: ...


class Glyphs(Protocol):
    def missing(self, text: str) -> list[str]: ...


@dataclass(frozen=True)
class Issuer:
    """What issuing needs from the outside, built by the composition root."""

    district: str
    key: SigningKey
    renderer: Renderer
    glyphs: Glyphs
    store: FileStore
    batch: int = 200


@dataclass(frozen=True)
class IssuingPass:
    """One issuing pass: on which day, by whom, at what moment."""

    issued_on: dt.date
    actor: str
    now: dt.datetime


def issue_certificates(
    engine: Engine,
    programs: Mapping[str, Program],
    issuer: Issuer,
    issue: IssuingPass,
    progress: Progress = SILENT,
) -> Counter[str]:
    """Issue every approved case of the certificate programs, a batch per transaction;
    `progress` hears of the cases waiting (stage `issue`) and of each batch done."""
    counts: Counter[str] = Counter()
    ids = sorted(p.id for p in programs.values() if p.delivery == "certificate")
    progress.begin("issue", _waiting(engine, ids))
    cursor = 0
    while ids:
        with Session(engine, expire_on_commit=False) as session, session.begin():
            cases = list(
                session.scalars(
                    select(Case)
                    .where(
                        Case.status == case_states.APPROVED,
                        Case.program.in_(ids),
                        Case.id > cursor,
                    )
                    .order_by(Case.id)
                    .limit(issuer.batch)
                    .with_for_update(skip_locked=True)
                )
            )
            if not cases:
                break
            cursor = cases[-1].id
            _issue_batch(session, cases, programs, issuer, issue, counts)
        progress.advance("issue", len(cases))
    return counts


def _waiting(engine: Engine, programs: Sequence[str]) -> int:
    """Approved cases of these programs: what an issuing pass has before it."""
    waiting = select(func.count()).where(
        Case.status == case_states.APPROVED, Case.program.in_(programs)
    )
    with engine.connect() as conn:
        return int(conn.execute(waiting).scalar_one())


def _issue_batch(
    session: Session,
    cases: Sequence[Case],
    programs: Mapping[str, Program],
    issuer: Issuer,
    issue: IssuingPass,
    counts: Counter[str],
) -> None:
    conn = session.connection()
    people = [c.id_number for c in cases]
    residents = load_residents(conn, people)
    addresses = home_addresses(conn, people)
    pending = numbering.pending_for(session, [c.id for c in cases])
    ready: list[tuple[Case, Resident]] = []
    for case in cases:
        resident = residents.get(case.id_number)
        if resident is None:
            counts["not_in_registry"] += 1
            continue
        missing = issuer.glyphs.missing(resident.name + addresses.get(case.id_number, ""))
        if missing:
            casebook.transition(
                session, case, case_states.NEEDS_REVIEW, issue.actor, _lacking(missing), issue.now
            )
            counts["missing_glyph"] += 1
            continue
        ready.append((case, resident))
    fresh = [case for case, _ in ready if case.id not in pending]
    pending.update(_number(session, fresh, programs, issuer.district, issue))
    for case, resident in ready:
        certificate = pending[case.id]
        program = programs[case.program]
        address = addresses.get(case.id_number, "")
        try:
            produce(certificate, program, resident, address, issuer)
        except Exception as error:  # a bad template or a full disk must not stop the night
            counts["render_failed"] += 1
            log.warning(
                "certificate.render_failed",
                extra={"case_id": case.id, "error": f"{type(error).__name__}: {error}"},
            )
            continue
        certificate.updated_at = issue.now
        casebook.transition(
            session,
            case,
            case_states.ISSUED,
            issue.actor,
            f"已制证 {certificate.certificate_no}",
            issue.now,
        )
        counts[f"issued:{program.id}"] += 1


def _lacking(missing: Sequence[str]) -> str:
    listed = "、".join(f"{c}（U+{ord(c):04X}）" for c in missing)
    return f"字库缺字：{listed}，请人工确认字形后制证 font lacks {len(missing)} character(s)"


def _number(
    session: Session,
    cases: Sequence[Case],
    programs: Mapping[str, Program],
    district: str,
    issue: IssuingPass,
) -> dict[int, Certificate]:
    """Give each case a pending certificate with the next numbers of its program's year."""
    made: dict[int, Certificate] = {}
    year = issue.issued_on.year
    editions = numbering.last_editions(session, [c.id for c in cases])
    for program_id in sorted({c.program for c in cases}):
        group = [c for c in cases if c.program == program_id]
        program = programs[program_id]
        serials = numbering.allocate_serials(session, program_id, year, len(group))
        for case, serial in zip(group, serials, strict=True):
            made[case.id] = numbering.numbered(
                case,
                program,
                district,
                issue.issued_on,
                serial,
                editions.get(case.id, 0) + 1,
                issue.now,
            )
    session.add_all(made.values())
    session.flush()
    return made


def produce(
    certificate: Certificate, program: Program, resident: Resident, address: str, issuer: Issuer
) -> None:
    """Sign, render and store a numbered certificate; it becomes active."""
    claims = signing.CertificateClaims(
        certificate_no=certificate.certificate_no,
        program=program.id,
        holder=resident.name,
        masked_id=mask_id(resident.id_number),
        issued_on=certificate.issued_on,
        issuer=issuer.district,
    )
    key = issuer.key
    moment = dt.datetime.combine(certificate.issued_on, dt.time(), dt.UTC)
    payload = signing.sign(claims, key.private_raw, key.public_raw, key.kid, moment)
    record = resident.records[0]
    view = CertificateView(
        certificate_no=certificate.certificate_no,
        title=program.name_zh,
        holder=resident.name,
        sex=record.sex,
        birth_date=record.birth_date,
        masked_id=claims.masked_id,
        address=address,
        issued_on=certificate.issued_on,
        issuing_office=certificate.issuing_office,
        payload=payload,
    )
    pdf = issuer.renderer.render(program.certificate_template or "", view)
    name = f"{program.id}/{certificate.year}/{certificate.certificate_no}.pdf"
    certificate.pdf_path = issuer.store.put(name, pdf)
    certificate.pdf_sha256 = hashlib.sha256(pdf).hexdigest()
    certificate.payload = payload
    certificate.kid = key.kid.hex()
    certificate.status = numbering.ACTIVE
