import datetime as dt
import os
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select, text

from proactive.errors import ExtractFileError, ExtractMissingError
from proactive.models import Base, Household, Person, ResidencePermit, RowIssue
from proactive.registry import reasons
from proactive.registry.ingest import IngestOptions, IngestSummary, ingest
from proactive.registry.report import summary_text
from tests.factories import household, make_id, permit, person, write_csv, write_extract

NOW = dt.datetime(2026, 11, 24, 18, 0, tzinfo=dt.UTC)


def clock() -> dt.datetime:
    return NOW


def load(engine: Engine, directory: Path, **options: Any) -> IngestSummary:
    return ingest(engine, directory, clock, IngestOptions(**options))


def snapshot(engine: Engine, registry_only: bool = False) -> dict[str, list[tuple[Any, ...]]]:
    skip = {"alembic_version"} | ({"ingest_runs", "row_issues"} if registry_only else set())
    with engine.connect() as conn:
        return {
            name: sorted(map(tuple, conn.execute(table.select()).all()), key=repr)
            for name, table in Base.metadata.tables.items()
            if name not in skip
        }


def persons(engine: Engine) -> dict[str, Person]:
    with engine.connect() as conn:
        return {p.id_number: p for p in conn.execute(select(Person)).all()}  # type: ignore[misc]


def issues(engine: Engine, severity: str | None = None) -> list[Any]:
    query = select(RowIssue).order_by(RowIssue.line)
    if severity:
        query = query.where(RowIssue.severity == severity)
    with engine.connect() as conn:
        return list(conn.execute(query).all())


def file_summary(summary: IngestSummary, file: str = "persons.csv") -> Any:
    return next(f for f in summary.files if f.file == file)


# -- row rules --------------------------------------------------------------------------------


def test_good_rows_are_normalised_and_loaded(engine: Engine, tmp_path: Path) -> None:
    legacy = "330108661125123"  # 15 digits: 1966-11-25, order 123 (odd: male)
    rows = [
        person(1, name="𠮷野㛃", mobile="138-0013-8000"),
        person(2, id_number=legacy, birth_date="1966-11-25", sex="男"),
    ]
    summary = load(engine, write_extract(tmp_path / "x", rows))
    loaded = persons(engine)
    assert file_summary(summary).inserted == 2
    first = loaded[rows[0]["id_number"]]
    assert first.name == "𠮷野㛃"
    assert first.mobile == "+8613800138000"
    assert first.birth_date == dt.date(1966, 11, 25)
    assert first.review_flags == ""
    assert make_id(birth="19661125", order=123) in loaded


def test_id_disagreeing_with_birth_date_or_sex_is_kept_and_flagged(
    engine: Engine, tmp_path: Path
) -> None:
    rows = [person(1, birth_date="1966-11-24"), person(2, sex="女")]
    summary = load(engine, write_extract(tmp_path / "x", rows))
    loaded = persons(engine)
    assert loaded[rows[0]["id_number"]].review_flags == "id_birth_mismatch"
    assert loaded[rows[0]["id_number"]].birth_date == dt.date(1966, 11, 24)  # not silently fixed
    assert loaded[rows[1]["id_number"]].review_flags == "id_sex_mismatch"
    assert file_summary(summary).warnings == 2
    assert [i.reason_code for i in issues(engine, "warning")] == [
        "id_birth_mismatch",
        "id_sex_mismatch",
    ]


def test_invalid_mobile_is_dropped_with_a_warning_and_row_kept(
    engine: Engine, tmp_path: Path
) -> None:
    row = person(1, mobile="12345")
    load(engine, write_extract(tmp_path / "x", [row]))
    assert persons(engine)[row["id_number"]].mobile is None
    (warning,) = issues(engine, "warning")
    assert (warning.column, warning.reason_code, warning.line) == ("mobile", "bad_mobile", 2)


def test_bad_rows_are_quarantined_with_file_line_column_and_reasons(
    engine: Engine, tmp_path: Path
) -> None:
    good = person(1)
    bad_checksum = person(2)
    bad_checksum["id_number"] = bad_checksum["id_number"][:17] + (
        "0" if bad_checksum["id_number"][17] != "0" else "1"
    )
    rows = [
        good,
        bad_checksum,
        person(3, birth_date="1966/11/25"),
        person(4, name=""),
        person(5, hukou_status="gone"),
    ]
    summary = load(engine, write_extract(tmp_path / "x", rows))
    assert list(persons(engine)) == [good["id_number"]]
    rejected = issues(engine, "rejected")
    assert [(r.file, r.line, r.column, r.reason_code) for r in rejected] == [
        ("persons.csv", 3, "id_number", "id_checksum"),
        ("persons.csv", 4, "birth_date", "bad_date"),
        ("persons.csv", 5, "name", "missing_value"),
        ("persons.csv", 6, "hukou_status", "bad_enum"),
    ]
    assert rejected[0].reason_zh == reasons.ID_CHECKSUM.zh
    assert rejected[0].reason_en == reasons.ID_CHECKSUM.en
    assert '"birth_date": "1966/11/25"' in rejected[1].raw
    assert file_summary(summary).rejected == 4


def test_duplicate_id_later_updated_at_wins(engine: Engine, tmp_path: Path) -> None:
    old = person(1, name="旧名", updated_at="2026-10-01 08:00:00")
    new = person(1, name="新名", updated_at="2026-10-02 08:00:00")
    load(engine, write_extract(tmp_path / "x", [new, old]))
    assert persons(engine)[old["id_number"]].name == "新名"
    assert [i.reason_code for i in issues(engine)] == ["superseded"]


def test_duplicate_id_with_same_updated_at_is_a_conflict(engine: Engine, tmp_path: Path) -> None:
    rows = [person(1, name="甲"), person(1, name="乙"), person(2)]
    load(engine, write_extract(tmp_path / "x", rows))
    assert list(persons(engine)) == [rows[2]["id_number"]]
    assert [(i.line, i.reason_code) for i in issues(engine, "rejected")] == [
        (2, "duplicate_conflict"),
        (3, "duplicate_conflict"),
    ]


def test_identical_duplicate_rows_load_once(engine: Engine, tmp_path: Path) -> None:
    load(engine, write_extract(tmp_path / "x", [person(1), person(1)]))
    assert len(persons(engine)) == 1
    assert [i.reason_code for i in issues(engine)] == ["duplicate_row"]


def test_legacy_and_modern_forms_of_one_id_are_duplicates(engine: Engine, tmp_path: Path) -> None:
    modern = person(1, id_number=make_id(order=123), updated_at="2026-10-02 08:00:00")
    legacy = person(1, id_number="330108661125123", updated_at="2026-10-01 08:00:00")
    load(engine, write_extract(tmp_path / "x", [legacy, modern]))
    assert list(persons(engine)) == [modern["id_number"]]


def test_residence_permit_period_and_worker_site_are_checked(
    engine: Engine, tmp_path: Path
) -> None:
    directory = write_extract(
        tmp_path / "x",
        [person(1)],
        permits=[permit(1), permit(2, valid_from="2026-01-01", valid_to="2025-01-01")],
    )
    write_csv(
        directory / "sites.csv",
        [
            {
                "site_id": "C1",
                "name": "站",
                "kind": "community",
                "division_code": "330108002001",
                "lat": "30.19",
                "lon": "120.2",
                "daily_capacity": "20",
            }
        ],
    )
    write_csv(
        directory / "social_workers.csv",
        [
            {
                "worker_id": "W1",
                "name": "李芳",
                "site_id": "C1",
                "mobile": "13800138000",
                "active": "是",
            },
            {"worker_id": "W2", "name": "张伟", "site_id": "NOPE", "mobile": "", "active": "true"},
        ],
    )
    load(engine, directory)
    with engine.connect() as conn:
        assert conn.execute(text("select worker_id, role from social_workers")).all() == [
            ("W1", "worker")
        ]
        assert conn.execute(select(ResidencePermit.id_number)).scalars().all() == [
            permit(1)["id_number"]
        ]
    assert sorted(i.reason_code for i in issues(engine, "rejected")) == [
        "bad_period",
        "unknown_site",
    ]


def test_unknown_household_is_flagged(engine: Engine, tmp_path: Path) -> None:
    row = person(1, household_id="HH404")
    load(engine, write_extract(tmp_path / "x", [row]))
    assert persons(engine)[row["id_number"]].review_flags == "unknown_household"


# -- file-level failures --------------------------------------------------------------------


def _break_missing_column(directory: Path) -> None:
    write_csv(directory / "persons.csv", [person(9)], ["id_number", "name", "sex"])


def _break_bytes(directory: Path) -> None:
    path = directory / "persons.csv"
    path.write_bytes(path.read_bytes() + b"\xff\xfe\x80\x81,bad\n")


def _break_empty(directory: Path) -> None:
    (directory / "persons.csv").write_bytes(b"")


def _break_delimiter(directory: Path) -> None:
    write_csv(directory / "persons.csv", [person(9)], delimiter=";")


def _break_header_only(directory: Path) -> None:
    write_csv(directory / "persons.csv", [], list(person(9)))


def _break_later_file(directory: Path) -> None:
    write_csv(directory / "residence_permits.csv", [permit(1)], ["id_number", "name"])


@pytest.mark.parametrize(
    ("breaker", "file", "problem"),
    [
        (_break_missing_column, "persons.csv", "missing required column(s): birth_date"),
        (_break_bytes, "persons.csv", "cannot be decoded as UTF-8 or GB18030"),
        (_break_empty, "persons.csv", "file is empty"),
        (_break_delimiter, "persons.csv", "wrong delimiter: found ';'"),
        (_break_header_only, "persons.csv", "has a header but no rows"),
        (_break_later_file, "residence_permits.csv", "missing required column(s): sex"),
    ],
)
def test_unreadable_file_fails_and_leaves_database_as_it_was(
    engine: Engine, tmp_path: Path, breaker: Any, file: str, problem: str
) -> None:
    load(engine, write_extract(tmp_path / "first", [person(1), person(2)]))
    before = snapshot(engine)
    directory = write_extract(tmp_path / "second", [person(1, name="改名"), person(3)])
    breaker(directory)
    with pytest.raises(ExtractFileError) as caught:
        load(engine, directory)
    assert caught.value.file == file
    assert problem in str(caught.value)
    assert "\n" not in str(caught.value)
    assert snapshot(engine) == before


def test_missing_persons_file_is_refused(engine: Engine, tmp_path: Path) -> None:
    (tmp_path / "x").mkdir()
    with pytest.raises(ExtractMissingError, match=r"persons\.csv"):
        load(engine, tmp_path / "x")


def test_row_with_too_many_fields_is_quarantined_and_others_load(
    engine: Engine, tmp_path: Path
) -> None:
    directory = write_extract(tmp_path / "x", [person(1), person(2)])
    with (directory / "persons.csv").open("a", encoding="utf-8") as handle:
        handle.write(",".join(person(3).values()) + ",extra\n")
    summary = load(engine, directory)
    assert len(persons(engine)) == 2
    assert [(i.line, i.reason_code) for i in issues(engine, "rejected")] == [(4, "bad_field_count")]
    assert file_summary(summary).rows == 3


# -- re-loads ---------------------------------------------------------------------------------


def test_same_extract_twice_changes_nothing(engine: Engine, tmp_path: Path) -> None:
    directory = write_extract(
        tmp_path / "x",
        [person(n) for n in range(1, 30)] + [person(40, mobile="1")],
        households=[household("HH1"), household("HH2")],
    )
    load(engine, directory)
    before = snapshot(engine, registry_only=True)
    second = load(engine, directory)
    assert snapshot(engine, registry_only=True) == before
    assert file_summary(second).inserted == file_summary(second).updated == 0
    assert file_summary(second).unchanged == 30
    assert file_summary(second, "households.csv").unchanged == 2


def test_changed_rows_alone_are_written_and_recorded(engine: Engine, tmp_path: Path) -> None:
    rows = [person(n) for n in range(1, 101)]
    first = load(engine, write_extract(tmp_path / "a", rows))
    rows[7] = {
        **rows[7],
        "hukou_status": "deceased",
        "death_date": "2026-11-20",
        "updated_at": "2026-11-21 09:00:00",
    }
    rows.append(person(200))
    before = persons(engine)
    second = load(engine, write_extract(tmp_path / "b", rows))
    after = persons(engine)
    assert (file_summary(second).inserted, file_summary(second).updated) == (1, 1)
    assert file_summary(second).unchanged == 99
    changed = after[rows[7]["id_number"]]
    assert (changed.changed_run_id, changed.changed_fields) == (
        second.run_id,
        "hukou_status,death_date,source_updated_at",
    )
    assert after[rows[-1]["id_number"]].changed_fields == "*"
    untouched = [k for k in before if k != rows[7]["id_number"]]
    assert all(after[k] == before[k] for k in untouched)
    assert all(after[k].changed_run_id == first.run_id for k in untouched)


def test_older_row_does_not_overwrite_newer_data(engine: Engine, tmp_path: Path) -> None:
    load(
        engine,
        write_extract(tmp_path / "a", [person(1, name="新", updated_at="2026-11-10 00:00:00")]),
    )
    second = load(
        engine,
        write_extract(tmp_path / "b", [person(1, name="旧", updated_at="2026-11-01 00:00:00")]),
    )
    assert persons(engine)[person(1)["id_number"]].name == "新"
    assert [i.reason_code for i in issues(engine)] == ["stale_row"]
    assert file_summary(second).updated == 0


# -- encodings ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("encoding", "given", "reported"),
    [
        ("gb18030", None, "gb18030"),
        ("gbk", None, "gb18030"),
        ("utf-8-sig", None, "utf-8"),
        ("utf-8", None, "utf-8"),
        ("gb18030", "gb18030", "gb18030"),
    ],
)
def test_encodings(
    engine: Engine, tmp_path: Path, encoding: str, given: str | None, reported: str
) -> None:
    name = "𠮷㛃" if encoding != "gbk" else "王芳"
    directory = write_extract(tmp_path / "x", [person(1, name=name)], encoding=encoding)
    summary = load(engine, directory, encoding=given)
    assert persons(engine)[person(1)["id_number"]].name == name
    assert file_summary(summary).encoding == reported


def test_wrong_explicit_encoding_is_a_file_error(engine: Engine, tmp_path: Path) -> None:
    directory = write_extract(tmp_path / "x", [person(1, name="王芳")], encoding="gb18030")
    with pytest.raises(ExtractFileError, match="cannot be decoded as utf-8"):
        load(engine, directory, encoding="utf-8")


def test_column_names_can_be_mapped(engine: Engine, tmp_path: Path) -> None:
    directory = write_extract(tmp_path / "x", [person(1)])
    text_ = (directory / "persons.csv").read_text(encoding="utf-8")
    (directory / "persons.csv").write_text(
        text_.replace("id_number", "身份证号", 1), encoding="utf-8"
    )
    load(engine, directory, column_map={"persons": {"身份证号": "id_number"}})
    assert list(persons(engine)) == [person(1)["id_number"]]


# -- extract dates ----------------------------------------------------------------------------


def extracted(directory: Path, file: str, moment: dt.datetime) -> None:
    """Date a file's extraction (its modification time, which ingest reads)."""
    os.utime(directory / file, (moment.timestamp(), moment.timestamp()))


def test_a_file_older_than_the_last_one_loaded_is_refused_and_the_others_load(
    engine: Engine, tmp_path: Path
) -> None:
    newer, older = (
        dt.datetime(2026, 11, 24, 2, tzinfo=dt.UTC),
        dt.datetime(2026, 11, 20, 2, tzinfo=dt.UTC),
    )
    first = write_extract(
        tmp_path / "a", [person(1)], households=[household("HH1", address="新址")]
    )
    for file in ("persons.csv", "households.csv"):
        extracted(first, file, newer)
    load(engine, first)
    late = write_extract(
        tmp_path / "b",
        [person(1), person(2)],
        households=[household("HH1", address="旧址")],
    )
    extracted(late, "households.csv", older)  # last week's households, copied in by mistake
    summary = load(engine, late)
    refused = file_summary(summary, "households.csv")
    assert refused.refused == (
        "households.csv was extracted 2026-11-20 10:00:00, before the one last loaded "
        "(extracted 2026-11-24 10:00:00): not loaded (--allow-older loads it)"
    )
    assert (refused.rows, refused.inserted, refused.updated) == (0, 0, 0)
    assert file_summary(summary, "persons.csv").inserted == 1  # the other files still load
    assert f"refused: {refused.refused}" in summary_text(summary)
    with engine.connect() as conn:
        assert conn.execute(select(Household.address)).scalar_one() == "新址"
    forced = load(engine, late, allow_older=True)
    assert file_summary(forced, "households.csv").updated == 1
    with engine.connect() as conn:
        assert conn.execute(select(Household.address)).scalar_one() == "旧址"
