"""Ingest reads a file a few rows at a time: what a chunk boundary must not change (duplicates,
quarantine, line numbers, encoding detection, a bad file leaving the database unchanged)."""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from proactive.errors import ExtractFileError
from proactive.models import Household, Person, RowIssue
from proactive.registry import ingest as ingest_module
from proactive.registry.ingest import IngestOptions, IngestSummary, ingest
from proactive.registry.report import summary_text, write_report
from tests.factories import ProgressRecorder, household, person, write_extract
from tests.integration.registry.test_ingest import NOW, snapshot

WHOLE = 1_000  # rows a chunk: every file here in one


def load(engine: Engine, directory: Path, rows: int, **options: Any) -> IngestSummary:
    return ingest(engine, directory, lambda: NOW, IngestOptions(chunk_rows=rows, **options))


def stored(engine: Engine) -> dict[str, tuple[Any, ...]]:
    with engine.connect() as conn:
        rows = conn.execute(select(Person.id_number, Person.name, Person.mobile)).all()
    return {row[0]: tuple(row[1:]) for row in rows}


def problems(engine: Engine) -> list[tuple[int, str, str]]:
    with engine.connect() as conn:
        rows = conn.execute(select(RowIssue.line, RowIssue.reason_code, RowIssue.severity)).all()
    return sorted((line, code, severity) for line, code, severity in rows)


def persons_file(summary: IngestSummary) -> Any:
    return next(f for f in summary.files if f.file == "persons.csv")


def test_a_duplicate_key_split_across_chunks_is_resolved_as_in_one_chunk(
    engine: Engine, tmp_path: Path
) -> None:
    rows = [
        person(1, mobile="13800000001", updated_at="2026-11-01 10:00:00"),  # line 2: superseded
        person(2),
        person(3),
        person(4, mobile="13800000004", updated_at="2026-11-02 10:00:00"),  # line 5: conflict
        person(1, mobile="13800000011", updated_at="2026-11-03 10:00:00"),  # line 6: wins
        person(5),
        person(4, mobile="13800000044", updated_at="2026-11-02 10:00:00"),  # line 8: conflict
        person(2),  # line 9: an identical copy of line 3, merged
    ]
    directory = write_extract(tmp_path / "x", rows)
    summary = load(engine, directory, rows=2)
    assert problems(engine) == [
        (2, "superseded", "warning"),
        (5, "duplicate_conflict", "rejected"),
        (8, "duplicate_conflict", "rejected"),
        (9, "duplicate_row", "warning"),
    ]
    loaded = stored(engine)
    assert loaded[rows[0]["id_number"]][1] == "+8613800000011"
    assert rows[3]["id_number"] not in loaded
    assert len(loaded) == 4
    counts = persons_file(summary)
    assert (counts.rows, counts.inserted, counts.rejected) == (8, 4, 2)
    assert counts.reasons == {"superseded": 1, "duplicate_conflict": 2, "duplicate_row": 1}


@pytest.mark.parametrize("rows", [1, 2, 3, WHOLE])
def test_every_chunk_size_gives_the_same_result(
    bare_engine: Engine, tmp_path: Path, rows: int
) -> None:
    from proactive import db

    db.upgrade(bare_engine)
    people = [person(n, updated_at=f"2026-11-0{1 + n % 3} 10:00:00") for n in range(7)]
    people += [person(2, updated_at="2026-11-05 10:00:00"), person(6, mobile="13900000000")]
    people += [person(3, mobile="x", updated_at="2026-11-01 10:00:00"), person(8, name="")]
    load(bare_engine, write_extract(tmp_path / "x", people), rows)
    assert problems(bare_engine) == [
        (4, "superseded", "warning"),  # by line 9
        (5, "duplicate_conflict", "rejected"),  # with line 11: the same updated_at
        (8, "duplicate_conflict", "rejected"),  # with line 10
        (10, "duplicate_conflict", "rejected"),
        (11, "duplicate_conflict", "rejected"),
        (12, "missing_value", "rejected"),
    ]
    assert len(stored(bare_engine)) == 5


def test_a_quarantined_row_in_the_last_chunk_keeps_its_reason_and_line(
    engine: Engine, tmp_path: Path
) -> None:
    rows = [person(n) for n in range(1, 7)] + [person(7, birth_date="1966-13-01")]
    summary = load(engine, write_extract(tmp_path / "x", rows), rows=3)
    assert problems(engine) == [(8, "bad_date", "rejected")]
    assert persons_file(summary).inserted == 6


def _late(path: Path, bad: bytes) -> None:
    """The file with these bytes in place of `Wang Fang` on its 8th line."""
    lines = path.read_bytes().split(b"\n")
    lines[7] = lines[7].replace(b"Wang Fang", bad)
    path.write_bytes(b"\n".join(lines))


@pytest.mark.parametrize("encoding", [None, "utf-8"])
def test_a_bad_byte_in_a_late_chunk_leaves_the_database_unchanged(
    engine: Engine, tmp_path: Path, encoding: str | None
) -> None:
    people = [person(n, name="Wang Fang") for n in range(1, 10)]
    load(engine, write_extract(tmp_path / "a", people), rows=2)
    before = snapshot(engine)
    homes = [household(address="Changhe Road 1")]  # changed: written, then undone
    second = write_extract(tmp_path / "b", [{**p, "mobile": "13900000000"} for p in people], homes)
    _late(second / "persons.csv", b"\xff\xff")
    with pytest.raises(ExtractFileError) as caught:
        load(engine, second, rows=2, encoding=encoding)
    message = str(caught.value)
    assert "\n" not in message and "persons.csv" in message
    assert "bad byte at offset" in message
    if encoding:  # (detecting, the offset is where GB18030, the last one tried, failed)
        offset = (second / "persons.csv").read_bytes().index(b"\xff\xff")
        assert f"cannot be decoded as utf-8 (bad byte at offset {offset})" in message
    assert snapshot(engine) == before


def test_a_late_gb18030_character_makes_the_whole_file_gb18030(
    engine: Engine, tmp_path: Path
) -> None:
    """households.csv is ASCII (so UTF-8) up to its 8th line, whose address is GB18030."""
    homes = [household(f"HH{n}", address="Wang Fang") for n in range(1, 10)]
    directory = write_extract(
        tmp_path / "x", [person(1, household_id="HH7")], homes, encoding="gb18030"
    )
    _late(directory / "households.csv", "长河路".encode("gb18030"))
    summary = load(engine, directory, rows=2)
    households = next(f for f in summary.files if f.file == "households.csv")
    assert (households.encoding, households.inserted) == ("gb18030", 9)
    with engine.connect() as conn:
        addresses = conn.execute(select(Household.address).order_by(Household.household_id))
        assert addresses.scalars().all() == ["Wang Fang"] * 6 + ["长河路"] + ["Wang Fang"] * 2
    assert stored(engine)[person(1)["id_number"]][0] == "王芳"


def test_a_quoted_line_break_across_a_chunk_boundary_keeps_the_line_numbers(
    engine: Engine, tmp_path: Path
) -> None:
    homes = [household("HH1"), household("HH2", address="长河路\n2号"), household("HH3")]
    rows = [person(1), person(2, name="王\n芳"), person(3), person(4), person(5, sex="?")]
    summary = load(engine, write_extract(tmp_path / "x", rows, homes), rows=2)
    assert problems(engine) == [
        (3, "control_characters", "warning"),  # a line break in an address: kept, flagged
        (3, "control_characters", "warning"),  # and in a name
        (7, "bad_sex", "rejected"),  # line 7 because person 2 takes lines 3 and 4
    ]
    assert stored(engine)[rows[1]["id_number"]][0] == "王 芳"  # the break made a space
    assert persons_file(summary).inserted == 4
    assert next(f for f in summary.files if f.file == "households.csv").inserted == 3


def test_chunk_rows_can_come_from_the_test_environment() -> None:
    """The suite may run with PROACTIVE_TEST_INGEST_CHUNK_ROWS=3 (see tests/conftest.py)."""
    from proactive.registry import reader

    wanted = os.environ.get("PROACTIVE_TEST_INGEST_CHUNK_ROWS")
    assert (int(wanted) if wanted else 100_000) == reader.CHUNK_ROWS


def test_the_summary_holds_a_sample_of_issues_and_the_report_reads_them_all(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ingest_module, "ISSUE_SAMPLE", 2)
    rows = [person(n, sex="?") for n in range(1, 6)] + [person(6)]
    summary = load(engine, write_extract(tmp_path / "x", rows), rows=2)
    assert [issue.line for _, issue in summary.issues] == [2, 3]
    assert "5  rejected bad_sex" in summary_text(summary)
    report = write_report(summary, tmp_path / "reports", engine) / "quarantine.csv"
    with report.open(encoding="utf-8-sig", newline="") as handle:
        lines = [row["line"] for row in csv.DictReader(handle)]
    assert lines == ["2", "3", "4", "5", "6"]


def test_progress_counts_a_files_rows_chunk_by_chunk(engine: Engine, tmp_path: Path) -> None:
    watcher = ProgressRecorder()
    directory = write_extract(tmp_path / "x", [person(n) for n in range(1, 8)])
    ingest(engine, directory, lambda: NOW, IngestOptions(chunk_rows=2), watcher)
    assert watcher.totals["persons.csv"] == 7
    assert watcher.done["persons.csv"] == 7
    assert watcher.done["ingest"] == 2  # files
