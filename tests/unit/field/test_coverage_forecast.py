"""The pure parts of the coverage map and the demand forecast."""

import dataclasses
import datetime as dt
import math
import random
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from proactive.field.coverage import (
    Dwelling,
    SitePoint,
    circle_radius_metres,
    gaps,
    nearest,
    reach,
    walking_minutes,
)
from proactive.field.forecast import (
    UNASSIGNED,
    Event,
    Week,
    events,
    site_of,
    site_weeks,
    tally,
    visited_programs,
    week_ticks,
    weeks,
)
from proactive.field.placement import Board, Circle, Job, SiteInfo, WorkerInfo, plan
from proactive.field.workdays import ChinaCalendar
from proactive.geo import Point, Walking, radius_degrees, straight_metres
from proactive.programs.catalog import Program, load_catalog
from proactive.registry.resident import HukouRecord, PermitRecord, Resident
from proactive.registry.resident_reads import Home
from proactive.settings import ROOT
from tests.factories import make_id

WALKING = Walking()
SITE = Point(30.19, 120.20)


def north(metres: float, of: Point = SITE) -> Point:
    return Point(of.lat + metres / 111_195, of.lon)


def site(
    site_id: str, point: Point, kind: str = "community", code: str = "330108002001"
) -> SitePoint:
    return SitePoint(site_id, f"{site_id}站", kind, code, point)


# -- coverage ---------------------------------------------------------------------------------
def test_vectorised_minutes_match_the_scalar_walking_time() -> None:
    homes = [Point(30.2, 120.21), Point(30.17, 120.15), SITE]
    sites = [SITE, Point(30.21, 120.22)]
    matrix = walking_minutes(
        np.array([h.lat for h in homes]),
        np.array([h.lon for h in homes]),
        np.array([s.lat for s in sites]),
        np.array([s.lon for s in sites]),
        WALKING,
    )
    assert matrix.shape == (3, 2)
    for i, home in enumerate(homes):
        for j, other in enumerate(sites):
            assert matrix[i, j] == pytest.approx(WALKING.minutes(home, other), abs=1e-9)


def test_nearest_picks_the_closest_site_and_copes_without_sites() -> None:
    lat, lon = np.array([30.19, 30.21]), np.array([120.20, 120.22])
    minutes, index = nearest(
        lat, lon, np.array([30.21, 30.19]), np.array([120.22, 120.20]), WALKING
    )
    assert index.tolist() == [1, 0]
    assert minutes.tolist() == [0.0, 0.0]
    minutes, index = nearest(lat, lon, np.array([]), np.array([]), WALKING)
    assert np.isinf(minutes).all() and index.tolist() == [-1, -1]


def test_the_circle_radius_is_15_minutes_at_75_metres_a_minute_over_the_detour() -> None:
    assert circle_radius_metres(WALKING) == pytest.approx(15 * 75 / 1.3)  # 865 m
    edge = north(circle_radius_metres(WALKING))
    assert WALKING.minutes(SITE, edge) == pytest.approx(15, rel=1e-3)


def test_radius_in_degrees_widens_longitude_by_the_cosine_of_latitude() -> None:
    half_lon, half_lat = radius_degrees(1000, 30.19)
    assert half_lon / half_lat == pytest.approx(1 / math.cos(math.radians(30.19)))
    assert straight_metres(SITE, Point(SITE.lat, SITE.lon + half_lon)) == pytest.approx(
        1000, rel=1e-3
    )
    assert straight_metres(SITE, Point(SITE.lat + half_lat, SITE.lon)) == pytest.approx(
        1000, rel=1e-6
    )


def test_homes_inside_outside_and_without_coordinates() -> None:
    homes = [
        Dwelling("in", "330108002001", north(700)),  # 12.1 minutes
        Dwelling("out", "330108002001", north(1200)),  # 20.8 minutes
        Dwelling("far", "330108003001", north(2000)),
        Dwelling("lost", "330108002001", None),
    ]
    # a street centre next to the far home draws no circle
    result = reach(homes, [site("C1", SITE), site("S1", north(2000), kind="street")], WALKING)
    assert [h.home_id for h in result.homes] == ["in", "out", "far"]
    assert result.covered.tolist() == [True, False, False]
    assert result.minutes[0] == pytest.approx(700 * 1.3 / 75, rel=1e-3)
    assert [h.home_id for h in result.without_coordinates] == ["lost"]
    rows = gaps(result, {"330108002001": "长河社区"})
    assert [(g.division_code, g.community_name, g.uncovered_households) for g in rows] == [
        ("330108002001", "长河社区", 1),
        ("330108003001", "", 1),
    ]
    assert rows[0].nearest_site_minutes_median == pytest.approx(1200 * 1.3 / 75, rel=1e-3)


def test_no_community_site_leaves_every_home_uncovered() -> None:
    result = reach(
        [Dwelling("a", "330108002001", SITE)], [site("S1", SITE, kind="street")], WALKING
    )
    assert result.covered.tolist() == [False]
    assert math.isinf(gaps(result, {})[0].nearest_site_minutes_median)


def test_tens_of_thousands_of_homes_against_sixty_sites_well_under_a_second() -> None:
    rng = np.random.default_rng(7)
    lat, lon = 30.15 + rng.random(50_000) * 0.08, 120.12 + rng.random(50_000) * 0.12
    site_lat, site_lon = 30.15 + rng.random(60) * 0.08, 120.12 + rng.random(60) * 0.12
    start = time.perf_counter()
    minutes, _ = nearest(lat, lon, site_lat, site_lon, WALKING)
    assert time.perf_counter() - start < 1.0
    brute = walking_minutes(lat[:100], lon[:100], site_lat, site_lon, WALKING).min(axis=1)
    assert minutes[:100] == pytest.approx(brute)


# -- forecast ---------------------------------------------------------------------------------
DAY = dt.date(2026, 11, 23)
CATALOG = load_catalog(ROOT / "jobs")
CHANGHE = "330108002001"


def hukou(n: int, birth: dt.date, status: str = "active", code: str | None = CHANGHE) -> Resident:
    record = HukouRecord("王芳", "女", birth, status, None, code)
    return Resident(make_id(f"{birth:%Y%m%d}", order=n), hukou=record)


def permit_holder(n: int, birth: dt.date, valid_to: dt.date = dt.date(2030, 1, 1)) -> Resident:
    record = PermitRecord("李娜", "女", birth, CHANGHE, dt.date(2020, 1, 1), valid_to)
    return Resident(make_id(f"{birth:%Y%m%d}", order=n), permit=record)


def forecast_events(residents: list[Resident], catalog: dict[str, Program] = CATALOG) -> list:
    where = {r.id_number: Home("长河路1号", CHANGHE, SITE) for r in residents}
    programs = visited_programs(catalog)
    return [(e.program, e.day) for e in events(residents, where, programs, DAY, 14, "330108")]


def test_weeks_cover_the_window_with_a_short_last_week() -> None:
    calendar = weeks(dt.date(2026, 11, 25), 365)
    assert len(calendar) == 53
    assert calendar[1] == Week(dt.date(2026, 12, 2), 7)
    assert calendar[-1] == Week(dt.date(2027, 11, 24), 1)
    assert sum(w.days for w in calendar) == 365


def test_the_catalogs_visited_programs_with_their_ages_and_eligibility() -> None:
    residents = [
        hukou(1, dt.date(1966, 11, 23)),  # 60 on the first day
        hukou(2, dt.date(1966, 12, 6)),  # 60 on the last day of the window
        hukou(3, dt.date(1966, 12, 7)),  # the day after
        hukou(4, dt.date(1966, 11, 22)),  # the day before
        hukou(5, dt.date(1946, 12, 1)),  # 80
        hukou(6, dt.date(1926, 11, 23)),  # 100
        hukou(7, dt.date(1966, 11, 24), status="deceased"),
        hukou(8, dt.date(1966, 11, 25), status="moved_out"),
        hukou(9, dt.date(1966, 11, 26), code=None),  # no household: not resident here
        permit_holder(10, dt.date(1966, 11, 27)),  # the certificate takes permit holders
        permit_holder(11, dt.date(1946, 11, 27)),  # the allowance follows the hukou only
        permit_holder(12, dt.date(1966, 11, 28), valid_to=dt.date(2026, 11, 27)),  # lapsed
    ]
    assert sorted(forecast_events(residents)) == [
        ("centenarian_visit", dt.date(2026, 11, 23)),
        ("high_age_allowance", dt.date(2026, 12, 1)),
        ("senior_certificate", dt.date(2026, 11, 23)),
        ("senior_certificate", dt.date(2026, 11, 27)),
        ("senior_certificate", dt.date(2026, 12, 6)),
    ]


def test_a_program_added_to_the_catalog_is_forecast(tmp_path: Path) -> None:
    for name in ("senior_certificate", "high_age_allowance", "centenarian_visit"):
        (tmp_path / f"{name}.toml").write_text(
            (ROOT / "jobs" / f"{name}.toml").read_text(encoding="utf-8"), encoding="utf-8"
        )
    text = (ROOT / "jobs" / "centenarian_visit.toml").read_text(encoding="utf-8")
    ninety = text.replace('"centenarian_visit"', '"age_90_visit"').replace("age = 100", "age = 90")
    (tmp_path / "age_90_visit.toml").write_text(ninety, encoding="utf-8")
    notice = text.replace('"centenarian_visit"', '"age_95_notice"').replace("age = 100", "age = 95")
    (tmp_path / "age_95_notice.toml").write_text(
        notice.replace('kind = "visit"', 'kind = "notice"'), encoding="utf-8"
    )
    catalog = load_catalog(tmp_path)
    residents = [hukou(1, dt.date(1936, 11, 30)), hukou(2, dt.date(1931, 11, 30))]
    assert forecast_events(residents, catalog) == [("age_90_visit", dt.date(2026, 11, 30))]
    assert [p.id for p in visited_programs(catalog)] == [
        "senior_certificate",
        "high_age_allowance",
        "age_90_visit",
        "centenarian_visit",
    ]  # a notice sends nobody


def test_29_february_births_follow_each_programs_leap_day_rule() -> None:
    # 2100 is a common year: 80 on 28 February (feb28), or on 1 March under mar1
    feb28 = CATALOG["high_age_allowance"]
    mar1 = dataclasses.replace(feb28, id="mar1_visit", leap_day="mar1")
    born = hukou(1, dt.date(2020, 2, 29))
    where = {born.id_number: Home("", CHANGHE, SITE)}
    found = events([born], where, [feb28, mar1], dt.date(2100, 2, 22), 14, "330108")
    assert [(e.program, e.day) for e in found] == [
        ("high_age_allowance", dt.date(2100, 2, 28)),
        ("mar1_visit", dt.date(2100, 3, 1)),
    ]
    counts = tally([("C1", e) for e in found], dt.date(2100, 2, 22), 14)
    assert counts == Counter({("C1", 0, "high_age_allowance"): 1, ("C1", 1, "mar1_visit"): 1})


def test_the_forecast_places_people_where_dispatch_does() -> None:
    street = SiteInfo("S1", "西兴街道便民服务中心", "street", "330108001000", north(5000), 40)
    near = SiteInfo("C1", "甲社区服务站", "community", "330108001001", SITE, 40)
    far = SiteInfo("C2", "乙社区服务站", "community", "330108001002", north(6000), 40)
    empty = SiteInfo("C3", "丙社区服务站", "community", "330108001003", north(-6000), 40)
    sites = [street, near, far, empty]
    staff = [
        WorkerInfo("W1", "C1", "worker", 8),
        WorkerInfo("P1", "C1", "supervisor", 8),
        WorkerInfo("W2", "C2", "worker", 8),  # C2 has no supervisor; C3 nobody
        WorkerInfo("W3", "S1", "worker", 8),
        WorkerInfo("P3", "S1", "supervisor", 8),
    ]
    rng = random.Random(11)
    homes: list[tuple[Point | None, str]] = [
        (north(rng.uniform(-7000, 7000)), rng.choice(["330108001001", "330108001002"]))
        for _ in range(40)
    ]
    homes += [(None, "330108001003"), (None, "330108001099"), (north(-6000), "330108001003")]
    circle = Circle(sites, WALKING)
    calendar = ChinaCalendar()
    dispatched = Board(circle, staff, calendar, DAY)
    forecast = Board(circle, staff, calendar, DAY, horizon_days=0)
    for visitor in ("worker", "supervisor"):
        jobs = [
            Job(n, 1, dt.date(1966, 11, 23), home, code, DAY, visitor=visitor)
            for n, (home, code) in enumerate(homes)
        ]
        placed, left = plan(jobs, circle, dispatched)
        assert left == []
        for placement in placed:
            job = placement.job
            event = Event("p", DAY, visitor, job.division_code, job.home)
            assert site_of(event, circle, forecast) == placement.site_id
        assert {p.site_id for p in placed} >= {"C1", "S1"}
    assert site_of(Event("p", DAY, "worker", "330108009001", None), circle, forecast) == UNASSIGNED


def test_site_weeks_count_visits_worker_days_and_capacity() -> None:
    day = dt.date(2026, 11, 25)

    def event(program: str, on: dt.date) -> Event:
        return Event(program, on, "worker", CHANGHE, None)

    counts = tally(
        [
            ("C1", event("a", day)),
            ("C1", event("a", dt.date(2026, 11, 26))),
            ("C1", event("b", dt.date(2026, 12, 3))),
            ("C1", event("c", dt.date(2026, 11, 30))),
            ("C1", event("a", dt.date(2026, 12, 30))),  # outside the window
            ("S1", event("a", dt.date(2026, 11, 27))),  # the street office standing in
            (UNASSIGNED, event("a", dt.date(2026, 11, 27))),
        ],
        day,
        10,
    )
    assert counts == Counter(
        {
            ("C1", 0, "a"): 2,
            ("C1", 1, "b"): 1,
            ("C1", 0, "c"): 1,
            ("S1", 0, "a"): 1,
            ("", 0, "a"): 1,
        }
    )
    sites = [
        SiteInfo("C1", "C1站", "community", CHANGHE, SITE, 10),
        SiteInfo("S0", "S0街道", "street", "330108003000", SITE, 10),  # no visits: no row
        SiteInfo("S1", "S1街道", "street", "330108002000", SITE, 10),
    ]
    rows = site_weeks(counts, sites, {"C1": 3}, weeks(day, 10), 2, ("a", "b", "c"))
    assert [(r.site_id, r.week_start, r.reaching) for r in rows] == [
        ("C1", day, (2, 0, 1)),
        ("C1", dt.date(2026, 12, 2), (0, 1, 0)),
        ("S1", day, (1, 0, 0)),
        ("S1", dt.date(2026, 12, 2), (0, 0, 0)),
        ("", day, (1, 0, 0)),
        ("", dt.date(2026, 12, 2), (0, 0, 0)),
    ]
    assert [r.worker_days_needed for r in rows] == [1.5, 0.5, 0.5, 0.0, 0.5, 0.0]
    assert [r.worker_days_capacity for r in rows][:2] == [15.0, pytest.approx(15 * 3 / 7)]
    assert rows[0].street == "长河街道" and rows[-1].site_name == "未分配站点"


def test_week_ticks_do_not_crowd() -> None:
    starts = [w.start for w in weeks(dt.date(2026, 11, 25), 365)]
    ticks = week_ticks(starts)
    assert ticks[0] == 1  # 2 December: the 25 November tick would overlap it
    assert len(ticks) == 12
    assert week_ticks(starts[:4]) == [0, 1, 2, 3]
