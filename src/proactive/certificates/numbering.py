"""Certificates in the database: serial numbers, pending and active certificates, revocation."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from proactive.certificates import signing
from proactive.masking import mask_id
from proactive.models import Case, Certificate, CertificateCounter
from proactive.programs.catalog import Program

PENDING = "pending"  # numbered; the PDF is not rendered yet
ACTIVE = "active"
REVOKED = "revoked"
LIVE = (ACTIVE, PENDING)  # what revocation voids


def allocate_serials(session: Session, program: str, year: int, count: int) -> list[int]:
    """The next `count` serials of a program's year. The counter row stays locked until the
    transaction ends, so concurrent issuers queue for it and never share a number; a rolled
    back transaction gives its numbers back (no gaps)."""
    dialect = session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    session.execute(
        module.insert(CertificateCounter)
        .values(program=program, year=year, last_serial=0)
        .on_conflict_do_nothing()
    )
    last = session.execute(
        update(CertificateCounter)
        .where(CertificateCounter.program == program, CertificateCounter.year == year)
        .values(last_serial=CertificateCounter.last_serial + count)
        .returning(CertificateCounter.last_serial)
    ).scalar_one()
    return list(range(last - count + 1, last + 1))


def pending_for(session: Session, case_ids: Sequence[int]) -> dict[int, Certificate]:
    """Certificates numbered in an earlier attempt whose PDF is still to be rendered."""
    if not case_ids:
        return {}
    rows = session.scalars(
        select(Certificate).where(Certificate.case_id.in_(case_ids), Certificate.status == PENDING)
    )
    return {c.case_id: c for c in rows}


def by_number(session: Session, certificate_no: str, lock: bool = False) -> Certificate | None:
    query = select(Certificate).where(Certificate.certificate_no == certificate_no)
    return session.scalars(query.with_for_update() if lock else query).first()


def last_editions(session: Session, case_ids: Sequence[int]) -> dict[int, int]:
    """The latest edition of each case's certificate (cases without one are absent)."""
    if not case_ids:
        return {}
    rows = session.execute(
        select(Certificate.case_id, func.max(Certificate.edition))
        .where(Certificate.case_id.in_(case_ids))
        .group_by(Certificate.case_id)
    )
    return {case_id: edition for case_id, edition in rows}


def numbered(
    case: Case,
    program: Program,
    district: str,
    issued_on: dt.date,
    serial: int,
    edition: int,
    now: dt.datetime,
    replaces_id: int | None = None,
) -> Certificate:
    """A pending certificate under its number; rendering makes it active."""
    return Certificate(
        certificate_no=program.certificate_no(district, issued_on.year, serial),
        case_id=case.id,
        edition=edition,
        id_number=case.id_number,
        program=program.id,
        year=issued_on.year,
        serial=serial,
        issued_on=issued_on,
        issuing_office=program.issuing_office,
        status=PENDING,
        replaces_id=replaces_id,
        created_at=now,
        updated_at=now,
    )


def revoke_live(session: Session, case_id: int, reason: str, now: dt.datetime) -> int:
    """Void a case's active or pending certificates."""
    voided = 0
    for certificate in session.scalars(
        select(Certificate).where(Certificate.case_id == case_id, Certificate.status.in_(LIVE))
    ):
        revoke(session, certificate, reason, now)
        voided += 1
    return voided


def revoke(session: Session, certificate: Certificate, reason: str, now: dt.datetime) -> None:
    certificate.status = REVOKED
    certificate.revoked_reason = reason
    certificate.revoked_at = now
    certificate.updated_at = now


def standing(session: Session, claims: signing.CertificateClaims) -> str:
    """What the register says of a genuine payload: valid only if its number exists, is active
    and was issued to the payload's holder for the payload's program."""
    row = by_number(session, claims.certificate_no)
    if row is None:
        return signing.UNKNOWN_NUMBER
    if row.status == REVOKED:
        return signing.REVOKED
    if row.status != ACTIVE:
        return signing.NOT_ISSUED
    if mask_id(row.id_number) != claims.masked_id or row.program != claims.program:
        return signing.WRONG_HOLDER
    return signing.VALID
