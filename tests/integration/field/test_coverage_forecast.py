"""The coverage map and the demand forecast on real databases, from small hand-made extracts."""

import csv
import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import Engine, event

from proactive.demo.synth import SITE_COLUMNS, WORKER_COLUMNS
from proactive.field.coverage import write_coverage
from proactive.field.forecast import write_forecast
from proactive.field.plan_visits import Dispatcher
from proactive.field.workdays import ChinaCalendar
from proactive.geo import Point, Walking
from proactive.programs.catalog import load_catalog
from proactive.registry.ingest import ingest
from proactive.settings import ROOT
from tests.factories import household, make_id, permit, senior, write_csv, write_extract

WALKING = Walking()
DISPATCHER = Dispatcher(WALKING, ChinaCalendar())
CATALOG = load_catalog(ROOT / "jobs")
PROGRAMS = ("senior_certificate", "high_age_allowance", "centenarian_visit")
SITE = Point(30.19, 120.20)  # the 长河 community site
PUYAN = Point(30.17, 120.15)  # the 浦沿 community site
CHANGHE, PUYAN_CODE = "330108002001", "330108003001"


def clock() -> dt.datetime:
    return dt.datetime(2026, 11, 22, 18, 0, tzinfo=dt.UTC)


def north(metres: float) -> Point:
    return Point(round(SITE.lat + metres / 111_195, 6), SITE.lon)


def home(household_id: str, at: Point | None, code: str = CHANGHE) -> dict[str, str]:
    return household(
        household_id,
        address=f"浙江省杭州市滨江区长河路{household_id}号",
        division_code=code,
        lat=str(at.lat) if at else "",
        lon=str(at.lon) if at else "",
    )


def born(birth: str, order: int) -> str:
    return make_id(birth=birth, region="412726", order=order)


def site(site_id: str, kind: str, code: str, at: Point) -> dict[str, str]:
    return {
        "site_id": site_id,
        "name": f"{site_id}服务站",
        "kind": kind,
        "division_code": code,
        "lat": str(at.lat),
        "lon": str(at.lon),
        "daily_capacity": "20",
    }


def worker(
    worker_id: str, site_id: str, active: str = "true", role: str = "worker"
) -> dict[str, str]:
    return {
        "worker_id": worker_id,
        "name": "李芳",
        "site_id": site_id,
        "mobile": "",
        "active": active,
        "role": role,
    }


SITES = [
    site("C1", "community", CHANGHE, SITE),
    site("C2", "community", PUYAN_CODE, PUYAN),
    site("S1", "street", "330108002000", north(1200)),  # draws no circle
]
WORKERS = [
    worker("W1", "C1"),
    worker("W2", "C1"),
    worker("W3", "C1", active="false"),
    worker("W4", "C1", role="supervisor"),
    worker("W5", "C2"),
]


def load(
    engine: Engine,
    directory: Path,
    persons: list[dict[str, str]],
    households: list[dict[str, str]],
    permits: list[dict[str, str]] | None = None,
    sites: list[dict[str, str]] = SITES,
) -> None:
    write_extract(directory, persons, households, permits if permits is not None else [])
    write_csv(directory / "sites.csv", sites, SITE_COLUMNS)
    write_csv(directory / "social_workers.csv", WORKERS, WORKER_COLUMNS)
    ingest(engine, directory, clock)


def read_csv(path: Path) -> list[dict[str, str]]:
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")  # a BOM, for Excel
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def assert_png(path: Path, size: tuple[int, int]) -> None:
    assert path.stat().st_size > 20_000
    with Image.open(path) as image:
        assert image.format == "PNG"
        assert image.size == size


# -- coverage ---------------------------------------------------------------------------------
def test_homes_inside_outside_and_without_coordinates(engine: Engine, tmp_path: Path) -> None:
    households = [
        home("1", north(700)),  # 12.1 minutes from C1
        home("2", north(1200)),  # 20.8 minutes: outside, though the street centre is there
        home("3", None),
        home("4", SITE),  # nobody of active hukou lives here
    ]
    persons = [
        senior(1, "1970-01-01", household_id="1"),
        senior(2, "1970-01-02", household_id="2"),
        senior(3, "1970-01-03", household_id="3"),
        senior(4, "1970-01-04", household_id="4", hukou_status="moved_out"),
    ]
    permits = [
        permit(1, lat=str(PUYAN.lat), lon=str(PUYAN.lon)),  # inside C2
        permit(2, address="浦沿路9号", lat="30.15", lon="120.15"),  # 2.2 km from C2: outside
        permit(3, address="浦沿路9号", lat="30.15", lon="120.15"),  # the same home
        permit(4, address="浦沿路10号", lat="30.16", lon="120.15", valid_to="2026-11-20"),
        permit(5, address=households[0]["address"], lat="30.1963", lon="120.2"),  # household 1
    ]
    load(engine, tmp_path / "x", persons, households, permits)

    result = write_coverage(engine, tmp_path / "out", WALKING, dt.date(2026, 11, 23))

    assert (result.homes, result.covered, result.uncovered, result.without_coordinates) == (
        5,
        2,
        2,
        1,
    )
    rows = read_csv(result.csv)
    assert [(r["division_code"], r["community_name"], r["uncovered_households"]) for r in rows] == [
        (CHANGHE, "天官社区", "1"),  # the official names (NBS 2023)
        (PUYAN_CODE, "新浦社区", "1"),
    ]
    assert float(rows[0]["nearest_site_minutes_median"]) == pytest.approx(
        WALKING.minutes(SITE, north(1200)), abs=0.05
    )
    assert float(rows[1]["nearest_site_minutes_median"]) == pytest.approx(
        WALKING.minutes(PUYAN, Point(30.15, 120.15)), abs=0.05
    )
    assert result.png.name == "coverage-2026-11-23.png"
    assert_png(result.png, (1320, 1020))


def test_no_uncovered_home_writes_a_header_only_table(engine: Engine, tmp_path: Path) -> None:
    load(engine, tmp_path / "x", [senior(1, "1970-01-01")], [home("HH1", SITE)])
    result = write_coverage(engine, tmp_path / "out", WALKING, dt.date(2026, 11, 23))
    assert (result.homes, result.covered, result.uncovered) == (1, 1, 0)
    assert read_csv(result.csv) == []


# -- forecast ---------------------------------------------------------------------------------
@pytest.fixture
def statements(engine: Engine) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(*args: Any) -> None:
        seen.append(args[2])

    event.listen(engine, "before_cursor_execute", record)
    yield seen
    event.remove(engine, "before_cursor_execute", record)


def test_forecast_counts_people_per_site_and_week(
    engine: Engine, tmp_path: Path, statements: list[str]
) -> None:
    households = [
        home("1", SITE),
        home("2", None, PUYAN_CODE),
        home("3", north(1200)),
        home("4", None, "330108009001"),  # a community of no street of ours, no coordinates
    ]
    persons = [
        senior(1, "1966-11-23", household_id="1"),  # 60 on the first day
        senior(2, "1966-11-29", household_id="1"),  # 60 on the 7th day
        senior(3, "1966-11-30", household_id="3"),  # week 2; nearest C1 still
        senior(4, "1966-12-07", household_id="1"),  # 60 the day after the window
        senior(5, "1966-11-22", household_id="1"),  # 60 the day before
        senior(6, "1946-12-01", household_id="2"),  # 80, no coordinates: C2 by community
        senior(7, "1926-11-23", household_id="1"),  # 100
        senior(8, "1966-11-24", household_id="1", hukou_status="deceased", death_date="2026-01-02"),
        senior(9, "1966-11-25", household_id="1", hukou_status="moved_out"),
        senior(10, "1966-11-26", household_id="GONE"),  # no household: not resident here
        senior(11, "1966-11-26", household_id="4"),  # no site
    ]
    permits = [
        permit(
            1, id_number=born("19661124", 2), birth_date="1966-11-24", lat="30.17", lon="120.15"
        ),
        permit(2, id_number=born("19661124", 4), birth_date="1966-11-24", valid_to="2026-11-01"),
    ]
    load(engine, tmp_path / "x", persons, households, permits)
    statements.clear()

    result = write_forecast(
        engine, tmp_path / "out", dt.date(2026, 11, 23), 14, DISPATCHER, CATALOG, "330108", 4
    )

    rows = read_csv(result.csv)
    columns = ("site_id", "street", "week_start", *PROGRAMS)
    assert [
        tuple(r[c] for c in (*columns, "worker_days_needed", "worker_days_capacity")) for r in rows
    ] == [
        ("C1", "长河街道", "2026-11-23", "2", "0", "1", "0.75", "10.00"),
        ("C1", "长河街道", "2026-11-30", "1", "0", "0", "0.25", "10.00"),
        ("C2", "浦沿街道", "2026-11-23", "1", "0", "0", "0.25", "5.00"),
        ("C2", "浦沿街道", "2026-11-30", "0", "1", "0", "0.25", "5.00"),
        ("", "", "2026-11-23", "1", "0", "0", "0.25", "0.00"),
        ("", "", "2026-11-30", "0", "0", "0", "0.00", "0.00"),
    ]
    assert rows[0]["site_name"] == "C1服务站" and rows[-1]["site_name"] == "未分配站点"
    assert result.visits == dict(zip(PROGRAMS, (5, 1, 1), strict=True))
    assert result.unassigned == 1
    assert sorted(result.charts) == ["浦沿街道", "长河街道"]
    for chart in result.charts.values():
        assert_png(chart, (1440, 960))
    registry = [s for s in statements if "FROM persons" in s or "FROM residence_permits" in s]
    # people found by a birth-date range on the index, then read by key: no scan
    assert any("birth_date BETWEEN" in s for s in registry)
    assert all(" IN (" in s.split("WHERE", 1)[-1] for s in registry)


def test_forecast_29_february_births_in_a_common_year(engine: Engine, tmp_path: Path) -> None:
    # 60, 80 and 100 are multiples of four: 29 February births meet a common year only in a
    # century year such as 2100, when they reach the age on 28 February.
    persons = [
        senior(1, "2020-02-29"),  # 80 on Sunday 28 February 2100
        senior(2, "2020-02-28"),  # 80 the same day
        senior(3, "2000-02-29"),  # 100 on 28 February 2100
        senior(4, "2000-03-01"),  # 100 on 1 March, the next week
    ]
    load(engine, tmp_path / "x", persons, [home("HH1", SITE)])

    result = write_forecast(
        engine, tmp_path / "out", dt.date(2100, 2, 22), 14, DISPATCHER, CATALOG, "330108"
    )

    rows = [r for r in read_csv(result.csv) if r["site_id"] == "C1"]
    assert [(r["week_start"], *(r[p] for p in PROGRAMS)) for r in rows] == [
        ("2100-02-22", "0", "2", "1"),
        ("2100-03-01", "0", "0", "1"),
    ]
