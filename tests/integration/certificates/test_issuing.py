"""Issuing certificates on real databases: numbered once, rendered, signed, revoked, reissued."""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import itertools
import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cbor2
import pytest
from sqlalchemy import Engine, MetaData, select

from proactive.certificates import issued as certificates
from proactive.certificates import issuing, keys, signing
from proactive.certificates.file_store import DirectoryStore
from proactive.certificates.issuing import Issuer, IssuingPass, issue_certificates
from proactive.certificates.reasons import ReissueReason
from proactive.certificates.render import CertificateView
from proactive.masking import mask_id
from proactive.models import Case, CaseEvent, Certificate, CertificateCounter
from proactive.nightly import invariants, lock
from proactive.nightly.run import RunOptions, RunReport, run_nightly
from proactive.programs.catalog import load_catalog
from proactive.registry.ingest import ingest
from proactive.settings import ROOT
from tests.factories import FONT, household, make_issuer, senior, write_extract

PROGRAMS = load_catalog(ROOT / "jobs")
SENIOR = {"senior_certificate": PROGRAMS["senior_certificate"]}
DISTRICT = "330108"
DAY = dt.date(2026, 11, 25)
ticks = itertools.count()


def clock() -> dt.datetime:
    return dt.datetime(2026, 11, 25, tzinfo=dt.UTC) + dt.timedelta(seconds=next(ticks))


class BrokenRenderer:
    def render(self, template: str, view: CertificateView) -> bytes:
        raise OSError("printer spool full")


def load(engine: Engine, directory: Path, rows: list[dict[str, str]]) -> None:
    write_extract(directory, rows, households=[household("HH1")])
    ingest(engine, directory, clock)


def run(engine: Engine, day: dt.date, issuer: Issuer | None) -> RunReport:
    return run_nightly(engine, SENIOR, RunOptions(as_of=day), clock, DISTRICT, issuer)


def issued(engine: Engine) -> list[Certificate]:
    with engine.connect() as conn:
        return list(conn.execute(select(Certificate).order_by(Certificate.id)).all())  # type: ignore[arg-type]


def seniors(count: int) -> list[dict[str, str]]:
    return [senior(n, "1966-11-25") for n in range(1, count + 1)]


def test_every_approved_case_gets_one_numbered_certificate_once(
    engine: Engine, issuer: Issuer, tmp_path: Path
) -> None:
    load(engine, tmp_path / "x", seniors(3))
    report = run(engine, DAY, issuer)
    assert report.stages["issue"]["issued:senior_certificate"] == 3
    run(engine, DAY, issuer)
    run(engine, DAY + dt.timedelta(days=1), issuer)
    rows = issued(engine)
    assert [r.certificate_no for r in rows] == [f"330108-2026-LN-{n:06d}" for n in (1, 2, 3)]
    assert {r.status for r in rows} == {"active"}
    for row in rows:
        pdf = Path(row.pdf_path).read_bytes()
        assert pdf.startswith(b"%PDF") and row.pdf_sha256
        assert signing.verify(row.payload, keys.public_keys(tmp_path / "keys")).valid
    with engine.connect() as conn:
        assert set(conn.execute(select(Case.status)).scalars()) == {"issued"}
        assert conn.execute(select(CertificateCounter.last_serial)).scalar_one() == 3


def test_a_failed_render_keeps_the_case_approved_and_the_retry_reuses_its_number(
    engine: Engine, key_dir: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    load(engine, tmp_path / "x", seniors(1))
    broken = make_issuer(key_dir, tmp_path, BrokenRenderer())
    with caplog.at_level(logging.WARNING):
        report = run(engine, DAY, broken)
    assert report.stages["issue"]["render_failed"] == 1
    assert "certificate.render_failed" in caplog.text
    (pending,) = issued(engine)
    assert (pending.status, pending.pdf_path) == ("pending", "")
    with engine.connect() as conn:
        assert conn.execute(select(Case.status)).scalar_one() == "approved"
    run(engine, DAY + dt.timedelta(days=1), make_issuer(key_dir, tmp_path))
    (done,) = issued(engine)
    assert (done.id, done.certificate_no, done.status) == (
        pending.id,
        "330108-2026-LN-000001",
        "active",
    )


def _uncovered() -> str:
    for code in itertools.chain(range(0x2A700, 0x2B73F), range(0x30000, 0x3134F)):
        if FONT.missing(chr(code)):
            return chr(code)
    raise AssertionError("the font covers everything we tried")


def test_a_character_the_font_lacks_sends_the_case_to_review_naming_it(
    engine: Engine, issuer: Issuer, tmp_path: Path
) -> None:
    rare = _uncovered()
    load(engine, tmp_path / "x", [senior(1, "1966-11-25", name=f"王{rare}")])
    report = run(engine, DAY, issuer)
    assert report.stages["issue"]["missing_glyph"] == 1
    assert issued(engine) == []
    with engine.connect() as conn:
        status, reason = conn.execute(select(Case.status, Case.reason)).one()
    assert status == "needs_review"
    assert rare in reason and f"U+{ord(rare):04X}" in reason


def test_rare_but_covered_names_are_printed_as_text(
    engine: Engine, issuer: Issuer, tmp_path: Path
) -> None:
    from pypdf import PdfReader

    load(engine, tmp_path / "x", [senior(1, "1966-11-25", name="𠮷㛃")])
    run(engine, DAY, issuer)
    (row,) = issued(engine)
    text = PdfReader(row.pdf_path).pages[0].extract_text()
    assert "𠮷㛃" in text and row.certificate_no in text
    assert "男" in text  # the registry's M, printed as the card says it


def test_the_qr_carries_the_moment_it_was_signed(
    engine: Engine, issuer: Issuer, tmp_path: Path
) -> None:
    load(engine, tmp_path / "x", seniors(1))
    run(engine, DAY, issuer)
    (row,) = issued(engine)
    claims = cbor2.loads(signing._decode(row.payload).payload)
    midnight = dt.datetime.combine(DAY, dt.time(), dt.UTC)
    assert claims[signing.ISSUED_AT] == int(row.created_at.timestamp()) > midnight.timestamp()


@pytest.mark.postgresql
@pytest.mark.parametrize("bare_engine", ["postgresql"], indirect=True)
def test_concurrent_issuers_never_share_or_skip_a_number(
    engine: Engine, key_dir: Path, tmp_path: Path
) -> None:
    load(engine, tmp_path / "x", seniors(24))
    run(engine, DAY, None)  # cases approved, nothing issued yet
    workers = [make_issuer(key_dir, tmp_path) for _ in range(4)]
    barrier = threading.Barrier(len(workers))
    errors: list[BaseException] = []

    def work(issuer: Issuer) -> None:
        try:
            barrier.wait()
            issue_certificates(engine, SENIOR, issuer, IssuingPass(DAY, "test", clock()))
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    rows = issued(engine)
    assert sorted(r.serial for r in rows) == list(range(1, 25))
    assert len({r.case_id for r in rows}) == 24


def test_verify_genuine_revoked_and_reissued(
    engine: Engine, issuer: Issuer, key_dir: Path, tmp_path: Path
) -> None:
    load(engine, tmp_path / "x", seniors(1))
    run(engine, DAY, issuer)
    (old,) = issued(engine)
    public = keys.public_keys(key_dir)
    assert certificates.verify(old.pdf_path, public, engine).code == "valid"
    new = certificates.reissue(
        engine,
        SENIOR,
        old.certificate_no,
        ReissueReason.lost,
        issuer,
        DAY,
        "李芳",
        clock(),
    )
    assert new.certificate_no == "330108-2026-LN-000002" and new.status == "active"
    assert certificates.verify(old.pdf_path, public, engine).code == "revoked"
    assert certificates.verify(old.payload, public, None).code == "valid"  # offline: signature
    assert certificates.verify(new.pdf_path, public, engine).code == "valid"
    with engine.connect() as conn:
        revoked = conn.execute(select(Certificate).where(Certificate.id == old.id)).one()
        (event,) = conn.execute(
            select(CaseEvent.reason, CaseEvent.actor).where(CaseEvent.reason.like("补发%"))
        ).all()
    assert (revoked.status, revoked.revoked_reason) == ("revoked", "lost")
    assert event.actor == "user:李芳" and old.certificate_no in event.reason
    with pytest.raises(certificates.CannotReissue):
        certificates.reissue(
            engine,
            SENIOR,
            old.certificate_no,
            ReissueReason.lost,
            issuer,
            DAY,
            "x",
            clock(),
        )


def test_a_failed_reissue_leaves_the_old_certificate_valid(
    engine: Engine, issuer: Issuer, key_dir: Path, tmp_path: Path
) -> None:
    load(engine, tmp_path / "x", seniors(1))
    run(engine, DAY, issuer)
    (old,) = issued(engine)
    broken = make_issuer(key_dir, tmp_path, BrokenRenderer())
    with pytest.raises(OSError):
        certificates.reissue(
            engine,
            SENIOR,
            old.certificate_no,
            ReissueReason.damaged,
            broken,
            DAY,
            "x",
            clock(),
        )
    assert [(r.certificate_no, r.status) for r in issued(engine)] == [
        (old.certificate_no, "active")
    ]


def test_death_revokes_the_certificate(engine: Engine, issuer: Issuer, tmp_path: Path) -> None:
    row = senior(1, "1966-11-25")
    load(engine, tmp_path / "x", [row])
    run(engine, DAY, issuer)
    load(
        engine,
        tmp_path / "y",
        [
            {
                **row,
                "hukou_status": "deceased",
                "death_date": "2026-11-25",  # the ingest's clock: 25 November
                "updated_at": "2026-11-25 09:00:00",
            }
        ],
    )
    report = run(engine, DAY + dt.timedelta(days=2), issuer)
    assert report.stages["revoke"]["revoked:deceased"] == 1
    (cert,) = issued(engine)
    assert (cert.status, cert.revoked_reason) == ("revoked", "deceased")


def test_the_private_key_is_not_in_the_database_the_logs_or_the_pdfs(
    engine: Engine, issuer: Issuer, key_dir: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    load(engine, tmp_path / "x", seniors(2))
    with caplog.at_level(logging.DEBUG):
        run(engine, DAY, issuer)
    secret = keys.signing_key(key_dir).private_raw
    pem = (key_dir / keys.PRIVATE_FILE).read_text()
    needles = [
        secret.hex(),
        base64.b64encode(secret).decode(),
        pem.splitlines()[1],  # the PEM body
    ]
    metadata = MetaData()
    metadata.reflect(engine)
    with engine.connect() as conn:
        dump = "\n".join(
            repr(row) for table in metadata.sorted_tables for row in conn.execute(table.select())
        )
    assert "330108-2026-LN-000001" in dump  # the dump did read the certificates
    for needle in needles:
        assert needle not in dump and needle not in caplog.text
    for row in issued(engine):
        pdf = Path(row.pdf_path).read_bytes()
        assert secret not in pdf and all(n.encode() not in pdf for n in needles)


def _forged_by_the_district(key_dir: Path, number: str, masked_id: str) -> str:
    """A payload the district's key signed but the register never recorded (as an orphan
    PDF of a rolled-back number would carry)."""
    key = keys.signing_key(key_dir)
    claims = signing.CertificateClaims(
        number, "senior_certificate", "王芳", masked_id, DAY, DISTRICT
    )
    return signing.sign(claims, key.private_raw, key.public_raw, key.kid, clock())


def test_online_verification_needs_the_number_active_and_the_holders(
    engine: Engine, issuer: Issuer, key_dir: Path, tmp_path: Path
) -> None:
    load(engine, tmp_path / "x", seniors(1))
    run(engine, DAY, issuer)
    (row,) = issued(engine)
    public = keys.public_keys(key_dir)
    own = _forged_by_the_district(key_dir, row.certificate_no, mask_id(row.id_number))
    assert certificates.verify(own, public, engine).code == "valid"
    unknown = _forged_by_the_district(key_dir, "330108-2026-LN-000099", mask_id(row.id_number))
    assert certificates.verify(unknown, public, engine).code == "unknown_number"
    assert certificates.verify(unknown, public, None).code == "valid"  # offline cannot tell
    other = _forged_by_the_district(key_dir, row.certificate_no, "330108********0000")
    assert certificates.verify(other, public, engine).code == "wrong_holder"


class Crash(BaseException):
    """Stands for kill -9: nothing after it runs, not even `except Exception`."""


@pytest.mark.parametrize("moment", ["before_activation", "after_the_file_moved"])
def test_a_crash_while_issuing_leaves_no_orphan_and_the_rerun_keeps_the_numbers(
    engine: Engine,
    issuer: Issuer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    moment: str,
) -> None:
    load(engine, tmp_path / "x", seniors(5))
    real = issuing.activate
    calls = itertools.count()

    def crashing(*args: Any, **kwargs: Any) -> bool:
        if next(calls) == 2:  # the third certificate: two are active already
            if moment == "after_the_file_moved":
                real(*args, **kwargs)  # file in place, its transaction never commits
            raise Crash
        return real(*args, **kwargs)

    monkeypatch.setattr(issuing, "activate", crashing)
    with pytest.raises(Crash):
        run(engine, DAY, issuer)
    with engine.connect() as conn:  # what a crash leaves: no PDF without its row
        assert [
            v
            for v in invariants.check_all(conn, DirectoryStore(tmp_path / "pdf"))
            if v.check != "files"
        ] == []
        numbers = conn.execute(select(Certificate.certificate_no, Certificate.status)).all()
    assert sorted(s for _, s in numbers) == ["active", "active", "pending", "pending"]
    monkeypatch.setattr(issuing, "activate", real)
    monkeypatch.setattr(lock, "held", _no_lock)  # the crashed run's lock is not the subject
    run(engine, DAY, issuer)
    rows = issued(engine)
    assert [r.certificate_no for r in rows] == [f"330108-2026-LN-{n:06d}" for n in range(1, 6)]
    assert {r.status for r in rows} == {"active"}
    assert sorted(p.name for p in (tmp_path / "pdf").rglob("*") if p.is_file()) == sorted(
        f"{r.certificate_no}.pdf" for r in rows
    )


@contextlib.contextmanager
def _no_lock(*_args: Any, **_kwargs: Any) -> Iterator[None]:
    yield
