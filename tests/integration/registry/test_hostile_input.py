"""The worst rows and files of the year, on SQLite and PostgreSQL: every row is loaded,
quarantined with a reason and its line, or the file is refused with one line and the database
left as it was. Never a traceback, never a failed night for one bad row."""

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select, text, update
from typer.testing import CliRunner

from proactive import db
from proactive.cli.main import app
from proactive.errors import ExtractFileError
from proactive.models import Household, Person, Site, SocialWorker
from proactive.registry.ingest import IngestSummary
from tests.factories import (
    cli_env,
    household,
    make_id,
    person,
    site,
    worker,
    write_csv,
    write_extract,
)
from tests.integration.registry.test_ingest import file_summary, issues, load, persons, snapshot

runner = CliRunner()
FULL_WIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")


def reasons_by_line(engine: Engine, severity: str | None = None) -> list[tuple[int, str, str]]:
    return [(i.line, i.column, i.reason_code) for i in issues(engine, severity)]


def dies(n: int, on: str = "2026-11-20", updated_at: str = "2026-11-21 09:00:00") -> dict:
    return person(n, hukou_status="deceased", death_date=on, updated_at=updated_at)


# -- updated_at in the future -----------------------------------------------------------------


def test_a_future_row_is_quarantined_and_a_later_death_still_applies(
    engine: Engine, tmp_path: Path
) -> None:
    load(engine, write_extract(tmp_path / "a", [person(1)]))
    load(engine, write_extract(tmp_path / "b", [person(1, name="错", updated_at="2100-01-01")]))
    assert persons(engine)[person(1)["id_number"]].name == "王芳"
    assert reasons_by_line(engine, "rejected") == [(2, "updated_at", "future_update")]
    third = load(engine, write_extract(tmp_path / "c", [dies(1)]))
    assert persons(engine)[person(1)["id_number"]].hukou_status == "deceased"
    assert file_summary(third).updated == 1


def test_updated_at_up_to_a_day_ahead_is_accepted(engine: Engine, tmp_path: Path) -> None:
    # the ingest runs at 02:00 on 25 November in Shanghai: tolerance until 02:00 on the 26th
    rows = [
        person(1, updated_at="2026-11-26 01:59:59"),
        person(2, updated_at="2026-11-26T02:00:01"),
        person(3, updated_at="２０２６-１２-０１"),
    ]
    load(engine, write_extract(tmp_path / "a", rows))
    assert list(persons(engine)) == [rows[0]["id_number"]]
    assert reasons_by_line(engine) == [
        (3, "updated_at", "future_update"),
        (4, "updated_at", "future_update"),
    ]


def test_a_future_duplicate_never_supersedes_the_real_row(engine: Engine, tmp_path: Path) -> None:
    rows = [person(1, name="错", updated_at="2100-01-01 00:00:00"), dies(1)]
    load(engine, write_extract(tmp_path / "a", rows))
    assert persons(engine)[person(1)["id_number"]].hukou_status == "deceased"
    assert reasons_by_line(engine) == [(2, "updated_at", "future_update")]


def test_a_future_timestamp_stored_earlier_does_not_make_real_updates_stale(
    engine: Engine, tmp_path: Path
) -> None:
    """A database loaded before the rule existed: its 2100 row must not hide a death."""
    load(engine, write_extract(tmp_path / "a", [person(1)]))
    with engine.begin() as conn:
        conn.execute(update(Person).values(source_updated_at=dt.datetime(2100, 1, 1)))
    second = load(engine, write_extract(tmp_path / "b", [dies(1)]))
    stored = persons(engine)[person(1)["id_number"]]
    assert (stored.hukou_status, stored.source_updated_at) == (
        "deceased",
        dt.datetime(2026, 11, 21, 9, 0),
    )
    assert "stale_row" not in file_summary(second).reasons


# -- impossible dates -------------------------------------------------------------------------


def test_impossible_birth_and_death_dates_are_quarantined(engine: Engine, tmp_path: Path) -> None:
    rows = [
        person(1, id_number=make_id("00010101", order=3), birth_date="0001-01-01"),
        person(2, id_number=make_id("18991231", order=5), birth_date="1899-12-31"),
        person(3, id_number=make_id("21000101", order=7), birth_date="2100-01-01"),
        dies(4, on="1950-01-01"),  # born 1966
        dies(5, on="2100-01-01"),
        person(6, id_number=make_id("19000101", order=9), birth_date="1900-01-01"),
        dies(7, on="2026-11-25"),  # died today: plausible
    ]
    load(engine, write_extract(tmp_path / "a", rows))
    assert sorted(persons(engine)) == sorted([rows[5]["id_number"], rows[6]["id_number"]])
    assert reasons_by_line(engine, "rejected") == [
        (2, "birth_date", "birth_date_range"),
        (3, "birth_date", "birth_date_range"),
        (4, "birth_date", "birth_date_range"),
        (5, "death_date", "death_before_birth"),
        (6, "death_date", "future_death"),
    ]


# -- lengths and control characters -----------------------------------------------------------


def test_a_100000_character_name_is_quarantined_and_its_issue_clipped(
    engine: Engine, tmp_path: Path
) -> None:
    longest = "阿" * 50
    rows = [person(1, name="王" * 100_000), person(2, name=longest)]
    homes = [household("HH1"), household("HH2", address="路" * 201)]
    load(engine, write_extract(tmp_path / "a", rows, households=homes))
    assert [p.name for p in persons(engine).values()] == [longest]
    assert reasons_by_line(engine, "rejected") == [
        (2, "name", "too_long"),
        (3, "address", "too_long"),
    ]
    (rejected, _) = issues(engine, "rejected")
    assert len(json.loads(rejected.raw)["name"]) < 300


@pytest.mark.parametrize("value", ["王\x00芳", "王\x07芳\x1b", " 王芳\x00"])
def test_nul_and_control_characters_are_removed_with_a_warning(
    engine: Engine, tmp_path: Path, value: str
) -> None:
    number = person(1)["id_number"]
    rows = [person(1, name=value, id_number=number[:9] + "\x00" + number[9:])]
    load(engine, write_extract(tmp_path / "a", rows))
    assert [(p.id_number, p.name) for p in persons(engine).values()] == [(number, "王芳")]
    assert reasons_by_line(engine) == [
        (2, "id_number", "control_characters"),
        (2, "name", "control_characters"),
    ]


def test_nul_in_a_rejected_row_reaches_no_database_column(engine: Engine, tmp_path: Path) -> None:
    rows = [person(1, id_number="3301\x00", name="\x00" * 10), person(2)]
    load(engine, write_extract(tmp_path / "a", rows))
    (rejected,) = issues(engine, "rejected")
    assert "\x00" not in rejected.record_key and "\x00" not in rejected.raw
    assert json.loads(rejected.raw)["name"] == "\x00" * 10  # escaped in JSON, kept as evidence


# -- full-width digits ------------------------------------------------------------------------


def sites_and_workers(directory: Path, capacity: str, site_id: str, worker_site: str) -> Path:
    community = site(site_id, "community", "３３０１０８００２００１", 30.19, 120.2)
    write_csv(directory / "sites.csv", [{**community, "daily_capacity": capacity}])
    write_csv(directory / "social_workers.csv", [worker("Ｗ１", worker_site)])
    return directory


def test_full_width_digits_are_folded_in_every_code_column(engine: Engine, tmp_path: Path) -> None:
    number = person(1)["id_number"]
    rows = [person(1, id_number=number.translate(FULL_WIDTH), household_id="ＨＨ１")]
    homes = [household("HH1", division_code="３３０１０８００２００１")]
    directory = write_extract(tmp_path / "a", rows, households=homes)
    summary = load(engine, sites_and_workers(directory, "２０", "Ｃ１", "C1"))
    assert summary.rejected == 0
    with engine.connect() as conn:
        assert conn.execute(select(Person.id_number, Person.household_id)).all() == [
            (number, "HH1")
        ]
        assert conn.execute(select(Household.division_code)).scalar_one() == "330108002001"
        assert conn.execute(select(Site.site_id, Site.daily_capacity)).one() == ("C1", 20)
        assert conn.execute(select(SocialWorker.worker_id, SocialWorker.site_id)).one() == (
            "W1",
            "C1",
        )


def test_digits_of_another_script_in_daily_capacity_are_a_reason_not_a_crash(
    engine: Engine, tmp_path: Path
) -> None:
    directory = write_extract(tmp_path / "a", [person(1)])
    load(engine, sites_and_workers(directory, "٢٠", "C1", "C1"))
    assert ("sites.csv", 2, "daily_capacity", "bad_integer") in [
        (i.file, i.line, i.column, i.reason_code) for i in issues(engine, "rejected")
    ]


# -- whole files ------------------------------------------------------------------------------


def test_a_5_mb_field_is_quarantined_and_the_rest_loads(engine: Engine, tmp_path: Path) -> None:
    rows = [person(1), person(2, name="x" * 5_000_000), person(3)]
    summary = load(engine, write_extract(tmp_path / "a", rows))
    assert len(persons(engine)) == 2
    assert reasons_by_line(engine) == [(3, "name", "too_long")]
    assert file_summary(summary).rejected == 1


def test_cr_only_line_endings_load_like_any_other(engine: Engine, tmp_path: Path) -> None:
    directory = write_extract(tmp_path / "a", [person(1), person(2, sex="X"), person(3)])
    path = directory / "persons.csv"
    path.write_bytes(path.read_bytes().replace(b"\r\n", b"\r"))
    load(engine, directory)
    assert len(persons(engine)) == 2
    assert reasons_by_line(engine) == [(3, "sex", "bad_sex")]


def add_columns(directory: Path, header: str, values: str) -> Path:
    path = directory / "persons.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join([lines[0] + header, *(line + values for line in lines[1:])]) + "\n")
    return directory


def test_a_column_named_twice_refuses_the_file(engine: Engine, tmp_path: Path) -> None:
    load(engine, write_extract(tmp_path / "a", [person(1)]))
    before = snapshot(engine)
    directory = write_extract(tmp_path / "b", [person(1, name="改"), person(2)])
    with pytest.raises(ExtractFileError) as caught:
        load(engine, add_columns(directory, ",name", ",x"))
    assert str(caught.value).endswith("persons.csv: column named twice in the header: name")
    assert snapshot(engine) == before


def test_an_ignored_column_named_twice_is_harmless(engine: Engine, tmp_path: Path) -> None:
    directory = write_extract(tmp_path / "a", [person(1)])
    load(engine, add_columns(directory, ",备注,备注", ",a,b"))
    assert list(persons(engine)) == [person(1)["id_number"]]


def test_the_report_of_a_hostile_file_holds_no_nul(engine: Engine, tmp_path: Path) -> None:
    rows = [person(1, name="\x00"), person(2, sex="\x00")]
    summary: IngestSummary = load(engine, write_extract(tmp_path / "a", rows))
    with engine.connect() as conn:
        texts = conn.execute(text("select record_key, raw from row_issues")).all()
    assert summary.rejected == 2
    assert all("\x00" not in str(value) for row in texts for value in row)


@pytest.mark.parametrize(
    ("breaker", "problem"),
    [
        (lambda d: add_columns(d, ",name", ",x"), "column named twice in the header: name"),
        (lambda d: (d / "persons.csv").write_bytes(b"id_number,\xff\xfe\n"), "cannot be decoded"),
    ],
)
def test_the_command_refuses_the_file_in_one_line_with_exit_2(
    tmp_path: Path, breaker: Any, problem: str
) -> None:
    env = cli_env(tmp_path)
    first = write_extract(tmp_path / "a", [person(1)])
    loaded = runner.invoke(app, ["ingest", str(first), "--report-dir", str(tmp_path)], env=env)
    assert loaded.exit_code == 0, loaded.output
    before = snapshot(db.make_engine(env["PROACTIVE_DATABASE_URL"]))
    directory = write_extract(tmp_path / "b", [person(2)])
    breaker(directory)
    result = runner.invoke(app, ["ingest", str(directory)], env=env)
    assert result.exit_code == 2
    (line,) = [line for line in result.output.splitlines() if line.strip()]
    assert line.startswith("error: The extract file cannot be read: persons.csv: ")
    assert problem in line
    assert snapshot(db.make_engine(env["PROACTIVE_DATABASE_URL"])) == before
