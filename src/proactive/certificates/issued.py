"""Use cases on issued certificates: list, search, verify (against the database too), reissue."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, Engine, select
from sqlalchemy.orm import Session

from proactive.certificates import numbering, reading, signing
from proactive.certificates.issuing import Issuer, Produced, activate, drafts_for, produce
from proactive.certificates.reasons import REASONS_ZH, ReissueReason
from proactive.errors import ProactiveError
from proactive.masking import mask_id
from proactive.models import Case, Certificate
from proactive.programs import case_states, casebook
from proactive.programs.catalog import Program
from proactive.programs.checks import is_alive

COLUMNS = ("certificate_no", "id_number", "program", "issued_on", "status", "pdf_path")
SEARCH_LIMIT = 50
FULL_ID = re.compile(r"\d{17}[\dX]")
# A masked ID number as the lists show it (330108********1234), or its two ends apart.
MASKED_ID = re.compile(r"(\d{6})(?:[*＊]+|\s+|…|\.\.\.)(\d{3}[\dX])")


class CertificateNotFound(ProactiveError):
    """No such certificate"""


class CannotReissue(ProactiveError):
    """The certificate cannot be reissued"""


def list_certificates(
    engine: Engine, program: str | None, status: str | None, unmasked: bool
) -> list[dict[str, Any]]:
    query = select(Certificate).order_by(Certificate.id)
    if program:
        query = query.where(Certificate.program == program)
    if status:
        query = query.where(Certificate.status == status)
    with Session(engine) as session:
        return [
            {
                "certificate_no": c.certificate_no,
                "id_number": c.id_number if unmasked else mask_id(c.id_number),
                "program": c.program,
                "issued_on": c.issued_on.isoformat(),
                "status": c.status,
                "pdf_path": c.pdf_path,
            }
            for c in session.scalars(query)
        ]


@dataclasses.dataclass(frozen=True)
class Found:
    """A certificate as the staff pages list it: the holder's ID number masked."""

    id: int
    certificate_no: str
    masked_id: str
    program: str
    issued_on: dt.date
    status: str
    revoked_reason: str
    case_id: int
    payload: str


def search_filter(text: str) -> ColumnElement[bool] | None:
    """What a search box means (pure): a whole ID number, a masked one (first 6 and last 4
    digits), or a piece of a certificate number (4 characters at least); None for too little."""
    query = text.strip().upper()
    if FULL_ID.fullmatch(query):
        return Certificate.id_number == query
    masked = MASKED_ID.fullmatch(query)
    if masked:
        head, tail = masked.groups()
        return Certificate.id_number.like(f"{head}________{tail}")
    if len(query) >= 4:
        return Certificate.certificate_no.contains(query, autoescape=True)
    return None


def search(session: Session, text: str, limit: int = SEARCH_LIMIT) -> list[Found]:
    """Certificates by number or by their holder's ID number, newest first."""
    where = search_filter(text)
    if where is None:
        return []
    query = select(Certificate).where(where).order_by(Certificate.id.desc()).limit(limit)
    return [found(c) for c in session.scalars(query)]


def one(session: Session, certificate_id: int) -> tuple[Found, Found | None] | None:
    """A certificate and the one that replaced it, if any."""
    row = session.get(Certificate, certificate_id)
    if row is None:
        return None
    after = session.scalars(select(Certificate).where(Certificate.replaces_id == row.id)).first()
    return found(row), None if after is None else found(after)


def found(c: Certificate) -> Found:
    return Found(
        c.id,
        c.certificate_no,
        mask_id(c.id_number),
        c.program,
        c.issued_on,
        c.status,
        c.revoked_reason,
        c.case_id,
        c.payload,
    )


def payload_of(source: str) -> str:
    """Read from the QR code of a certificate file if `source` names one (whatever its
    extension; "" if it cannot be read), else the QR text itself."""
    path = Path(source)
    if len(source) < 4096 and path.is_file():
        return reading.payload_of_file(path) or ""
    return source


def verify(
    source: str, public_keys: Mapping[bytes, bytes], engine: Engine | None
) -> signing.Verification:
    """Offline with the public keys alone; with the database, the number must also exist, be
    active and belong to the payload's holder."""
    return verify_payload(payload_of(source), public_keys, engine)


def verify_payload(
    payload: str, public_keys: Mapping[bytes, bytes], engine: Engine | None
) -> signing.Verification:
    """The QR text itself (never a path: what the public page uses)."""
    if engine is None:
        return signing.verify(payload, public_keys)
    with Session(engine) as session:
        return signing.verify(payload, public_keys, lambda c: numbering.standing(session, c))


def payload_of_upload(data: bytes) -> str:
    """The QR text of an uploaded certificate PDF or photo; "" when none can be read;
    reading.OverLimit (its message in Chinese) when the file breaks one of reading's limits."""
    return reading.read_upload(data) or ""


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
    """Revoke a certificate and number, sign and render its replacement in one transaction
    (if the new one cannot be made, the old one stays valid); then move the new PDF into place
    as the new row becomes active. A crash in between leaves the new number pending, and the
    next run's issuing finishes it."""
    with Session(engine, expire_on_commit=False) as session, session.begin():
        new, produced = _replace(
            session, programs, certificate_no, reason, issuer, issued_on, user, now
        )
    try:
        with Session(engine, expire_on_commit=False) as session, session.begin():
            activate(session, new.id, produced, f"user:{user}", now)
    finally:
        produced.file.discard()  # a no-op once published
    with Session(engine, expire_on_commit=False) as session:
        return session.get_one(Certificate, new.id)


def _replace(
    session: Session,
    programs: Mapping[str, Program],
    certificate_no: str,
    reason: ReissueReason,
    issuer: Issuer,
    issued_on: dt.date,
    user: str,
    now: dt.datetime,
) -> tuple[Certificate, Produced]:
    old = numbering.by_number(session, certificate_no, lock=True)
    if old is None:
        raise CertificateNotFound(certificate_no)
    if old.status != numbering.ACTIVE:
        raise CannotReissue(f"{certificate_no} is {old.status}")
    case = session.get(Case, old.case_id, with_for_update=True)
    program = programs.get(old.program)
    if case is None or program is None or case.status == case_states.CANCELLED:
        raise CannotReissue(f"{certificate_no}: its case or program is gone")
    (draft,) = drafts_for(session, [old], programs) or (None,)
    if draft is None or not is_alive(draft.resident):
        raise CannotReissue(f"{certificate_no}: the holder is not a living resident")
    missing = issuer.glyphs.missing(draft.resident.name + draft.address)
    if missing:
        raise CannotReissue(f"the font lacks {' '.join(missing)}; print by hand")
    numbering.revoke(session, old, reason, now)
    (serial,) = numbering.allocate_serials(session, program.id, issued_on.year, 1)
    new = numbering.numbered(
        case,
        program,
        issuer.district,
        issued_on,
        serial,
        numbering.last_editions(session, [case.id])[case.id] + 1,
        now,
        replaces_id=old.id,
    )
    session.add(new)
    session.flush()
    produced = produce(dataclasses.replace(draft, certificate=new), issuer, now)
    target = case.status if case.status == case_states.SCHEDULED else case_states.ISSUED
    why = (
        f"补发（{REASONS_ZH[reason]}）：新证 {new.certificate_no}，"
        f"原证 {certificate_no} 作废 reissued ({reason})"
    )
    casebook.transition(session, case, target, f"user:{user}", why, now)
    return new, produced
