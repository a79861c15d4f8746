"""Small extracts for tests: valid rows by default, each overridable."""

from __future__ import annotations

import atexit
import csv
import datetime as dt
import functools
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session
from stdnum.cn import ric

from proactive import db
from proactive.certificates import keys
from proactive.certificates.file_store import DirectoryStore
from proactive.certificates.issuing import Issuer
from proactive.certificates.render import DEFAULT_FONT, Font, Renderer
from proactive.demo.synth import HOUSEHOLD_COLUMNS, PERMIT_COLUMNS, PERSON_COLUMNS
from proactive.models import Case, Task
from proactive.settings import ROOT


def cli_env(tmp_path: Path) -> dict[str, str]:
    """The environment of a CLI test: a SQLite file migrated to head (as `proactive db upgrade`
    leaves it after a deploy), keys and PDFs under tmp_path."""
    return {
        "PROACTIVE_DATABASE_URL": migrated_sqlite(tmp_path / "cli.db"),
        "PROACTIVE_KEY_DIR": str(tmp_path / "keys"),
        "PROACTIVE_CERTIFICATE_DIR": str(tmp_path / "pdf"),
    }


def migrated_sqlite(path: Path) -> str:
    """A SQLite file at `path` migrated to head, and its URL: a copy of one migrated per test
    process (commands refuse a database behind the code; only `proactive db upgrade` migrates)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(_migrated_template(), path)
    return f"sqlite:///{path}"


@functools.cache
def _migrated_template() -> Path:
    where = Path(tempfile.mkdtemp(prefix="proactive-head-"))
    atexit.register(shutil.rmtree, where, True)
    engine = db.make_engine(f"sqlite:///{where / 'head.db'}")
    db.upgrade(engine)
    engine.dispose()
    return where / "head.db"


def make_id(birth: str = "19661125", region: str = "330108", order: int = 123) -> str:
    """A valid 18-digit ID number; odd `order` is male."""
    body = f"{region}{birth}{order:03d}"
    return body + ric.calc_check_digit(body + "0")


def person(n: int = 1, **overrides: Any) -> dict[str, str]:
    row = {
        "id_number": make_id(order=(n * 2 + 1) % 1000),
        "name": "王芳",
        "sex": "男",
        "birth_date": "1966-11-25",
        "household_id": "HH1",
        "hukou_status": "active",
        "death_date": "",
        "mobile": "13800138000",
        "updated_at": "2026-11-01 10:00:00",
    }
    row.update(overrides)
    return row


def senior(n: int, birth: str, **overrides: Any) -> dict[str, str]:
    """A person with a valid ID for the birth date; sex from the order number."""
    fields = {
        "id_number": make_id(birth=birth.replace("-", ""), order=n * 2 + 1),
        "birth_date": birth,
        "sex": "男",
        **overrides,
    }
    return person(n, **fields)


def household(household_id: str = "HH1", **overrides: Any) -> dict[str, str]:
    row = {
        "household_id": household_id,
        "address": "浙江省杭州市滨江区长河街道长河路1号1幢1单元101室",
        "division_code": "330108002001",
        "lat": "30.19",
        "lon": "120.20",
    }
    row.update(overrides)
    return row


def permit(n: int = 1, **overrides: Any) -> dict[str, str]:
    row = {
        "id_number": make_id(region="412726", order=(n * 2) % 1000),
        "name": "李娜",
        "sex": "女",
        "birth_date": "1966-11-25",
        "address": "浙江省杭州市滨江区浦沿街道浦沿路2号",
        "division_code": "330108003001",
        "lat": "30.17",
        "lon": "120.15",
        "valid_from": "2025-01-01",
        "valid_to": "2027-12-31",
        "mobile": "",
        "updated_at": "2026-11-01 10:00:00",
    }
    row.update(overrides)
    return row


def write_csv(
    path: Path,
    rows: Sequence[dict[str, str]],
    columns: Sequence[str] | None = None,
    encoding: str = "utf-8",
    delimiter: str = ",",
) -> Path:
    names = list(columns or (rows[0].keys() if rows else []))
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.DictWriter(
            handle, fieldnames=names, delimiter=delimiter, extrasaction="ignore"
        )
        writer.writeheader()
        writer.writerows(rows)
    return path


def write_extract(
    directory: Path,
    persons: Sequence[dict[str, str]],
    households: Sequence[dict[str, str]] | None = None,
    permits: Sequence[dict[str, str]] | None = None,
    encoding: str = "utf-8",
) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    write_csv(directory / "persons.csv", persons, PERSON_COLUMNS, encoding)
    write_csv(
        directory / "households.csv",
        households if households is not None else [household()],
        HOUSEHOLD_COLUMNS,
        encoding,
    )
    if permits is not None:
        write_csv(directory / "residence_permits.csv", permits, PERMIT_COLUMNS, encoding)
    return directory


FONT = Font.load(DEFAULT_FONT)


def make_issuer(key_dir: Path, out: Path, renderer: Any = None, batch: int = 2) -> Issuer:
    """The real issuer (font, renderer, files under `out/pdf`); small batches by default so
    that tests cross batch boundaries."""
    return Issuer(
        district="330108",
        key=keys.signing_key(key_dir),
        renderer=renderer or Renderer(ROOT / "templates", FONT),
        glyphs=FONT,
        store=DirectoryStore(out / "pdf"),
        batch=batch,
    )


def site(site_id: str, kind: str, code: str, lat: float, lon: float, capacity: int = 10) -> dict:
    return {
        "site_id": site_id,
        "name": f"{site_id}服务站",
        "kind": kind,
        "division_code": code,
        "lat": str(lat),
        "lon": str(lon),
        "daily_capacity": str(capacity),
    }


def worker(worker_id: str, site_id: str, role: str = "worker", capacity: int = 8) -> dict:
    return {
        "worker_id": worker_id,
        "name": f"社工{worker_id}",
        "site_id": site_id,
        "mobile": "13900139000",
        "active": "true",
        "role": role,
        "daily_capacity": str(capacity),
    }


def senior_case(session: Session, id_number: str, at: dt.datetime, status: str) -> Case:
    """A senior-certificate case (eligible on 2026-11-25) in `status`, flushed for its id."""
    case = Case(
        id_number=id_number,
        program="senior_certificate",
        status=status,
        eligible_on=dt.date(2026, 11, 25),
        created_at=at,
        updated_at=at,
    )
    session.add(case)
    session.flush()
    return case


def scheduled_visit(
    session: Session, id_number: str, at: dt.datetime, day: dt.date, **task: Any
) -> Task:
    """A scheduled senior-certificate case with its planned delivery on `day` (due 15 days
    later), written straight into the tables; `task` overrides the visit's columns."""
    case = senior_case(session, id_number, at, "scheduled")
    fields: dict[str, Any] = {
        "attempt": 1,
        "kind": "delivery",
        "program": case.program,
        "status": "planned",
        "due_on": day + dt.timedelta(days=15),
        "created_at": at,
        "updated_at": at,
    } | task
    visit = Task(case_id=case.id, id_number=id_number, day=day, **fields)
    session.add(visit)
    session.flush()
    return visit


class ProgressRecorder:
    """A progress.Progress that keeps each stage's total and the units advanced."""

    def __init__(self) -> None:
        self.totals: dict[str, int | None] = {}
        self.done: dict[str, int] = {}

    def begin(self, stage: str, total: int | None = None) -> None:
        self.totals[stage] = total

    def advance(self, stage: str, done: int = 1) -> None:
        self.done[stage] = self.done.get(stage, 0) + done

    def end(self, stage: str, counts: Mapping[str, object]) -> None:
        pass
