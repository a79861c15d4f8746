"""Stage of the nightly run: every approved case of a certificate program gets exactly one
numbered, signed, rendered certificate, and moves to `issued`.

Numbers come from a locked per-program, per-year counter; the unique (case, edition) key and
the selection of approved cases only make a re-run issue nothing twice. A batch's numbers are
committed first, as `pending` certificates; each PDF is then rendered outside any
transaction, staged under a temporary name, and moved into place in the transaction that
marks its row active. A crash or a failed render keeps the case approved with its pending
number, which the next run renders again: no signed PDF ever exists for a number the
database does not hold, and numbers stay gap-free.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, cast

from sqlalchemy import CursorResult, Engine, func, select, update
from sqlalchemy.orm import Session

from proactive.certificates import numbering, signing
from proactive.certificates.file_store import FileStore, StagedFile
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
SEX_ZH = {"M": "男", "F": "女"}  # the registry's codes, as printed on the card


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


@dataclass(frozen=True)
class Draft:
    """A pending certificate with what its rendering needs."""

    certificate: Certificate
    program: Program
    resident: Resident
    address: str


@dataclass(frozen=True)
class Produced:
    """A signed, rendered certificate, its PDF staged beside its final name."""

    payload: str
    sha256: str
    kid: str
    file: StagedFile


def issue_certificates(
    engine: Engine,
    programs: Mapping[str, Program],
    issuer: Issuer,
    issue: IssuingPass,
    progress: Progress = SILENT,
) -> Counter[str]:
    """Number a batch of approved cases and commit the numbers (pending), then render each
    PDF and mark it active with its case `issued`, file and row together (see `activate`).
    Pending certificates an interrupted run or reissue left are finished too. `progress`
    hears of the cases waiting (stage `issue`) and of each batch done."""
    counts: Counter[str] = Counter()
    counts["temporary_files_removed"] += issuer.store.remove_temporary()
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
            drafts = _number_batch(session, cases, programs, issuer, issue, counts)
        for draft in drafts:
            _finish(engine, draft, issuer, issue, counts)
        progress.advance("issue", len(cases))
    for draft in _left_pending(engine, programs):
        _finish(engine, draft, issuer, issue, counts)
    return +counts


def _waiting(engine: Engine, programs: Sequence[str]) -> int:
    """Approved cases of these programs: what an issuing pass has before it."""
    waiting = select(func.count()).where(
        Case.status == case_states.APPROVED, Case.program.in_(programs)
    )
    with engine.connect() as conn:
        return int(conn.execute(waiting).scalar_one())


def _number_batch(
    session: Session,
    cases: Sequence[Case],
    programs: Mapping[str, Program],
    issuer: Issuer,
    issue: IssuingPass,
    counts: Counter[str],
) -> list[Draft]:
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
    return [
        Draft(pending[case.id], programs[case.program], resident, addresses.get(case.id_number, ""))
        for case, resident in ready
    ]


def _left_pending(engine: Engine, programs: Mapping[str, Program]) -> list[Draft]:
    """Pending certificates of cases no longer approved: reissues interrupted after their
    number was committed."""
    with Session(engine, expire_on_commit=False) as session:
        left = list(
            session.scalars(
                select(Certificate)
                .join(Case, Case.id == Certificate.case_id)
                .where(
                    Certificate.status == numbering.PENDING,
                    Case.status != case_states.APPROVED,
                    Certificate.program.in_(list(programs)),
                )
                .order_by(Certificate.id)
            )
        )
        return drafts_for(session, left, programs)


def drafts_for(
    session: Session, certificates: Sequence[Certificate], programs: Mapping[str, Program]
) -> list[Draft]:
    people = [c.id_number for c in certificates]
    residents = load_residents(session.connection(), people)
    addresses = home_addresses(session.connection(), people)
    return [
        Draft(c, programs[c.program], residents[c.id_number], addresses.get(c.id_number, ""))
        for c in certificates
        if c.id_number in residents
    ]


def _finish(
    engine: Engine, draft: Draft, issuer: Issuer, issue: IssuingPass, counts: Counter[str]
) -> None:
    try:
        produced = produce(draft, issuer, issue.now)
    except Exception as error:  # a bad template or a full disk must not stop the night
        counts["render_failed"] += 1
        log.warning(
            "certificate.render_failed",
            extra={
                "case_id": draft.certificate.case_id,
                "error": f"{type(error).__name__}: {error}",
            },
        )
        return
    try:
        with Session(engine, expire_on_commit=False) as session, session.begin():
            if activate(session, draft.certificate.id, produced, issue.actor, issue.now):
                counts[f"issued:{draft.program.id}"] += 1
    finally:  # a failed activation leaves no temporary file behind (a no-op once published)
        produced.file.discard()


def activate(
    session: Session, certificate_id: int, produced: Produced, actor: str, now: dt.datetime
) -> bool:
    """Mark a pending certificate active and move its PDF into place, in the caller's
    transaction; its case, if approved, becomes `issued` (a planned delivery takes the new
    number from `plan_visits.carry_numbers`). False, and the staged file removed, when another
    issuer was first."""
    changed = session.execute(
        update(Certificate)
        .where(Certificate.id == certificate_id, Certificate.status == numbering.PENDING)
        .values(
            status=numbering.ACTIVE,
            payload=produced.payload,
            pdf_sha256=produced.sha256,
            kid=produced.kid,
            pdf_path=str(produced.file.target),
            updated_at=now,
        )
    )
    if cast("CursorResult[Any]", changed).rowcount != 1:
        produced.file.discard()
        return False
    certificate = session.get_one(Certificate, certificate_id, populate_existing=True)
    case = session.get_one(Case, certificate.case_id, with_for_update=True)
    if case.status == case_states.APPROVED:
        why = f"已制证 {certificate.certificate_no}"
        casebook.transition(session, case, case_states.ISSUED, actor, why, now)
    session.flush()
    produced.file.publish()
    return True


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


def produce(draft: Draft, issuer: Issuer, signed_at: dt.datetime) -> Produced:
    """Sign and render a numbered certificate and stage its PDF (nothing in the database)."""
    certificate, resident = draft.certificate, draft.resident
    claims = signing.CertificateClaims(
        certificate_no=certificate.certificate_no,
        program=draft.program.id,
        holder=resident.name,
        masked_id=mask_id(resident.id_number),
        issued_on=certificate.issued_on,
        issuer=issuer.district,
    )
    key = issuer.key
    payload = signing.sign(claims, key.private_raw, key.public_raw, key.kid, signed_at)
    record = resident.records[0]
    view = CertificateView(
        certificate_no=certificate.certificate_no,
        title=draft.program.name_zh,
        holder=resident.name,
        sex=SEX_ZH.get(record.sex, record.sex),
        birth_date=record.birth_date,
        masked_id=claims.masked_id,
        address=draft.address,
        issued_on=certificate.issued_on,
        issuing_office=certificate.issuing_office,
        payload=payload,
    )
    pdf = issuer.renderer.render(draft.program.certificate_template or "", view)
    name = f"{draft.program.id}/{certificate.year}/{certificate.certificate_no}.pdf"
    staged = issuer.store.stage(name, pdf)
    return Produced(payload, hashlib.sha256(pdf).hexdigest(), key.kid.hex(), staged)
