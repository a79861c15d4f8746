"""End to end on SQLite: a fuzzed persons.csv (random CSV-shaped text or noise) is loaded,
quarantined row by row, or refused in one line with the database unchanged."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select, text

from proactive import db
from proactive.errors import ProactiveError
from proactive.models import IngestRun, Person, RowIssue
from proactive.registry.extract_format import PERSONS
from proactive.registry.ingest import ingest
from tests.factories import household, write_csv
from tests.unit.registry.test_fuzz import FUZZ, NOW, csv_text, random_bytes

E2E = FUZZ.__class__(FUZZ, max_examples=max(FUZZ.max_examples // 8, 8))


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated, empty SQLite database, copied for each example."""
    path = tmp_path_factory.mktemp("fuzz") / "template.db"
    engine = db.make_engine(f"sqlite:///{path}")
    db.upgrade(engine)
    engine.dispose()
    return path


@E2E
@given(data=st.one_of(csv_text(PERSONS), random_bytes(PERSONS)))
def test_a_fuzzed_persons_file_is_loaded_quarantined_or_refused(
    template: Path, tmp_path_factory: pytest.TempPathFactory, data: bytes
) -> None:
    work = tmp_path_factory.mktemp("example")
    shutil.copy(template, work / "test.db")
    (work / "x").mkdir()
    (work / "x" / "persons.csv").write_bytes(data)
    write_csv(work / "x" / "households.csv", [household("HH1")])
    engine = db.make_engine(f"sqlite:///{work / 'test.db'}")
    try:
        summary = ingest(engine, work / "x", lambda: NOW)
    except ProactiveError as error:
        assert "\n" not in str(error)
        with engine.connect() as conn:  # refused whole: nothing written
            assert conn.execute(select(func.count()).select_from(IngestRun)).scalar() == 0
        return
    finally:
        engine.dispose()
    engine = db.make_engine(f"sqlite:///{work / 'test.db'}")
    with engine.connect() as conn:
        stored = conn.execute(select(func.count()).select_from(Person)).scalar()
        problems = conn.execute(select(func.count()).select_from(RowIssue)).scalar()
        nul = conn.execute(text("select count(*) from persons where instr(name, char(0)) > 0"))
        assert nul.scalar() == 0
    engine.dispose()
    persons = next(f for f in summary.files if f.file == "persons.csv")
    assert stored == persons.inserted
    assert problems == len(summary.issues)
    assert (
        persons.inserted
        + persons.rejected
        + persons.reasons.get("superseded", 0)
        + (persons.reasons.get("duplicate_row", 0))
        >= persons.rows
    )
    shutil.rmtree(work)
