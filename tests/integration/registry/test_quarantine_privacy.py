"""What the quarantine shows and writes: ID and phone numbers, names and addresses masked
(duplicates' internal keys included); `--unmasked` alone shows them in full."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from sqlalchemy import Engine, select

from proactive.models import RowIssue
from proactive.registry.ingest import ingest
from proactive.registry.quarantine import list_issues
from proactive.registry.report import write_report
from tests.factories import household, person, write_extract

ADDRESS = "浙江省杭州市滨江区长河街道长河路1785号双城国际4幢1单元1201室"


def clock() -> dt.datetime:
    return dt.datetime(2026, 11, 24, 18, 0, tzinfo=dt.UTC)


def test_quarantine_masks_keys_names_phones_and_addresses(engine: Engine, tmp_path: Path) -> None:
    twins = [person(1, name="欧阳娜娜"), person(1, name="欧阳朵朵")]  # a duplicate conflict
    bad_sex = person(2, name="司马相如", sex="X", mobile="13912345678")
    directory = write_extract(
        tmp_path / "x",
        [*twins, bad_sex],
        households=[household("HH1"), household("HH2", address=ADDRESS, division_code="x")],
    )
    summary = ingest(engine, directory, clock)
    report = write_report(summary, tmp_path / "reports", engine) / "quarantine.csv"
    secrets = [
        twins[0]["id_number"],
        bad_sex["id_number"],
        "欧阳娜娜",
        "欧阳朵朵",
        "司马相如",
        "13912345678",
        "1785",
    ]
    masked = json.dumps(list_issues(engine), ensure_ascii=False)
    written = report.read_text(encoding="utf-8-sig")
    for shown in (masked, written):
        assert "duplicate_conflict" in shown and "bad_sex" in shown
        leaks = [s for s in secrets if s in shown]
        assert leaks == []
        assert "欧***" in shown and "长河街道" in shown
    full = json.dumps(list_issues(engine, unmasked=True), ensure_ascii=False)
    assert all(s in full for s in secrets)


def test_duplicate_rows_keep_no_internal_columns(engine: Engine, tmp_path: Path) -> None:
    twins = [person(1, name="甲"), person(1, name="乙")]
    ingest(engine, write_extract(tmp_path / "x", twins), clock)
    with engine.connect() as conn:
        raws = conn.execute(select(RowIssue.raw)).scalars().all()
    assert raws and all(not any(k.startswith("_") for k in json.loads(r)) for r in raws)
