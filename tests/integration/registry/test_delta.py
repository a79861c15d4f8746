"""Delta extracts (`proactive ingest DIR --delta`, or a DELTA file in DIR): only changed rows,
every file optional; a row absent from a delta is unchanged. A delta is compared only with the
stored rows of its own keys, and a full extract may follow deltas (or precede them) safely."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, select
from typer.testing import CliRunner

from proactive.cli.main import app
from proactive.errors import ExtractMissingError
from proactive.models import Household, IngestRun, Person
from proactive.registry import tables
from proactive.registry.ingest import DELTA_MARKER, IngestOptions, ingest
from tests.factories import cli_env, household, person, write_csv, write_extract

DELTA = IngestOptions(delta=True)
runner = CliRunner()
NOW = dt.datetime(2026, 11, 26, 2, 0, tzinfo=dt.UTC)
PEOPLE = [person(n, household_id=f"HH{n % 3}") for n in range(1, 11)]
HOMES = [household(f"HH{n}") for n in range(3)]


def clock() -> dt.datetime:
    return NOW


def registry(engine: Engine) -> dict[str, tuple[str | None, str]]:
    """Each person's mobile and hukou status, by ID number."""
    with engine.connect() as conn:
        rows = conn.execute(select(Person.id_number, Person.mobile, Person.hukou_status))
        return {i: (m, s) for i, m, s in rows}


def delta_of(tmp_path: Path, name: str, rows: list[dict[str, str]]) -> Path:
    """A directory with persons.csv alone."""
    directory = tmp_path / name
    directory.mkdir()
    write_csv(directory / "persons.csv", rows, columns=list(PEOPLE[0]))
    return directory


@pytest.fixture
def loaded(engine: Engine, tmp_path: Path) -> Engine:
    ingest(engine, write_extract(tmp_path / "full", PEOPLE, households=HOMES), clock)
    return engine


def test_a_delta_writes_its_rows_and_leaves_every_other_row_as_it_was(
    loaded: Engine, tmp_path: Path
) -> None:
    before = registry(loaded)
    moved = person(2, household_id="HH2", mobile="13900139000", updated_at="2026-11-20 09:00")
    died = person(
        3,
        household_id="HH0",
        hukou_status="deceased",
        death_date="2026-11-19",
        updated_at="2026-11-20 09:00",
    )
    newcomer = person(11, household_id="HH1")
    summary = ingest(loaded, delta_of(tmp_path, "d1", [moved, died, newcomer]), clock, DELTA)
    (persons,) = summary.files
    assert (persons.inserted, persons.updated, persons.unchanged) == (1, 2, 0)
    assert summary.as_dict()["kind"] == "delta"
    after = registry(loaded)
    assert len(after) == 11
    assert after[moved["id_number"]][0] == "+8613900139000"
    assert after[died["id_number"]][1] == "deceased"
    untouched = set(before) - {moved["id_number"], died["id_number"]}
    assert {k: after[k] for k in untouched} == {k: before[k] for k in untouched}
    with loaded.connect() as conn:  # households.csv was absent: nothing changed there
        assert conn.execute(select(Household.household_id)).scalars().all() == ["HH0", "HH1", "HH2"]


def test_a_delta_never_reads_the_whole_table(
    loaded: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def whole_table(*_: object) -> None:
        raise AssertionError("a delta read every stored hash")

    monkeypatch.setattr(tables, "known_hashes", whole_table)
    changed = person(4, household_id="HH1", mobile="13700137000", updated_at="2026-11-21 08:00")
    summary = ingest(
        loaded, delta_of(tmp_path, "d", [changed, person(5, household_id="HH2")]), clock, DELTA
    )
    assert (summary.files[0].updated, summary.files[0].unchanged) == (1, 1)


def test_without_delta_a_directory_missing_persons_is_refused_and_with_it_loaded(
    loaded: Engine, tmp_path: Path
) -> None:
    directory = tmp_path / "homes"
    directory.mkdir()
    write_csv(directory / "households.csv", [household("HH9")])
    with pytest.raises(ExtractMissingError, match=r"persons\.csv"):
        ingest(loaded, directory, clock)
    (directory / DELTA_MARKER).write_text("")  # the platform marks its delta extracts
    summary = ingest(loaded, directory, clock)
    assert summary.delta and summary.files[0].inserted == 1


def test_an_empty_delta_is_refused(loaded: Engine, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(ExtractMissingError, match="no extract file"):
        ingest(loaded, tmp_path / "empty", clock, DELTA)


def test_a_full_extract_after_deltas_finds_nothing_new_and_an_older_one_changes_nothing(
    loaded: Engine, tmp_path: Path
) -> None:
    changed = person(6, household_id="HH0", mobile="13600136000", updated_at="2026-11-22 08:00")
    ingest(loaded, delta_of(tmp_path, "d", [changed]), clock, DELTA)
    after_delta = registry(loaded)
    current = [changed if p["id_number"] == changed["id_number"] else p for p in PEOPLE]
    full = ingest(loaded, write_extract(tmp_path / "full2", current, households=HOMES), clock)
    assert (full.files[0].inserted, full.files[0].updated) == (0, 0)
    assert registry(loaded) == after_delta
    older = ingest(loaded, write_extract(tmp_path / "full0", PEOPLE, households=HOMES), clock)
    assert older.files[0].updated == 0  # the stale row is reported, never written
    assert "stale_row" in {issue.reason.code for _, issue in older.issues}
    assert registry(loaded) == after_delta


def test_a_bad_row_in_a_delta_is_quarantined_like_any_other(loaded: Engine, tmp_path: Path) -> None:
    bad = person(12, household_id="HH0", birth_date="1966-13-40")
    summary = ingest(loaded, delta_of(tmp_path, "d", [bad]), clock, DELTA)
    assert [(issue.line, issue.reason.code) for _, issue in summary.issues] == [(2, "bad_date")]
    assert bad["id_number"] not in registry(loaded)


def test_ingest_and_the_night_take_a_delta_from_the_command_line(tmp_path: Path) -> None:
    env = cli_env(tmp_path)
    full = write_extract(tmp_path / "full", PEOPLE, households=HOMES)
    for command in (["keys", "init"], ["ingest", str(full)]):
        assert runner.invoke(app, command, env=env).exit_code == 0
    moved = person(2, household_id="HH2", mobile="13900139000", updated_at="2026-11-20 09:00")
    loaded = runner.invoke(
        app, ["ingest", str(delta_of(tmp_path, "d1", [moved])), "--delta"], env=env
    )
    assert loaded.exit_code == 0 and "ingest run 2 (delta):" in loaded.output
    died = person(
        3,
        household_id="HH0",
        hukou_status="deceased",
        death_date="2026-11-19",
        updated_at="2026-11-20 09:00",
    )
    delta = delta_of(tmp_path, "d2", [died])
    night = runner.invoke(app, ["run", "--extract", str(delta), "--delta"], env=env)
    assert night.exit_code == 0, night.output
    engine = create_engine(env["PROACTIVE_DATABASE_URL"])
    assert registry(engine)[died["id_number"]] == ("+8613800138000", "deceased")
    with engine.connect() as conn:
        kinds = [json.loads(s)["kind"] for s in conn.execute(select(IngestRun.summary)).scalars()]
    engine.dispose()
    assert kinds == ["full", "delta", "delta"]
