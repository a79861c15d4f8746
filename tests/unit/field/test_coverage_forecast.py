"""The pure parts of the coverage map and the demand forecast."""

import datetime as dt
import math
import time
from collections import Counter

import numpy as np
import pytest

from proactive.field.coverage import (
    Dwelling,
    SitePoint,
    circle_radius_metres,
    gaps,
    nearest,
    radius_degrees,
    reach,
    walking_minutes,
)
from proactive.field.forecast import (
    UNASSIGNED,
    Birth,
    Week,
    assign,
    site_weeks,
    tally,
    week_reached,
    week_ticks,
    weeks,
)
from proactive.geo import Point, Walking, straight_metres

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
def test_weeks_cover_the_window_with_a_short_last_week() -> None:
    calendar = weeks(dt.date(2026, 11, 25), 365)
    assert len(calendar) == 53
    assert calendar[1] == Week(dt.date(2026, 12, 2), 7)
    assert calendar[-1] == Week(dt.date(2027, 11, 24), 1)
    assert sum(w.days for w in calendar) == 365


@pytest.mark.parametrize(
    ("birth", "age", "week"),
    [
        (dt.date(1966, 11, 23), 60, 0),  # on the first day
        (dt.date(1966, 11, 29), 60, 0),  # on the 7th day
        (dt.date(1966, 11, 30), 60, 1),
        (dt.date(1966, 12, 6), 60, 1),  # the last day of the window
        (dt.date(1966, 12, 7), 60, None),  # the day after
        (dt.date(1966, 11, 22), 60, None),  # the day before
        (dt.date(1946, 12, 1), 80, 1),
        (dt.date(1926, 11, 23), 100, 0),
    ],
)
def test_the_week_a_person_reaches_an_age(birth: dt.date, age: int, week: int | None) -> None:
    assert week_reached(birth, age, dt.date(2026, 11, 23), 14) == week


def test_born_on_29_february_reaches_an_age_on_28_february_of_a_common_year() -> None:
    # 2025 is common: 61 on Friday 28 February, in the week of Saturday 22 February
    assert week_reached(dt.date(1964, 2, 29), 61, dt.date(2025, 2, 22), 14) == 0
    assert week_reached(dt.date(1964, 3, 1), 61, dt.date(2025, 2, 22), 14) == 1
    # 60, 80 and 100 are multiples of four: only a non-leap century year is common
    assert week_reached(dt.date(2020, 2, 29), 80, dt.date(2100, 2, 22), 14) == 0
    assert week_reached(dt.date(2000, 2, 29), 100, dt.date(2100, 2, 22), 14) == 0
    # in a leap year, on 29 February itself
    assert week_reached(dt.date(1964, 2, 29), 60, dt.date(2024, 2, 22), 7) is None
    assert week_reached(dt.date(1964, 2, 29), 60, dt.date(2024, 2, 22), 8) == 1


def test_people_go_to_the_nearest_community_site_else_their_communitys() -> None:
    sites = [
        site("C1", SITE),
        site("C2", north(3000), code="330108003001"),
        site("S1", north(1600), kind="street"),
    ]
    people = [
        Birth(dt.date(1966, 12, 1), "330108003001", north(1400)),  # nearer C1, other community
        Birth(dt.date(1966, 12, 1), "330108002001", north(1600)),  # nearer C2
        Birth(dt.date(1966, 12, 1), "330108003001", None),
        Birth(dt.date(1966, 12, 1), "330108001001", None),  # no site in that community
    ]
    assert assign(people, sites, WALKING) == ["C1", "C2", "C2", UNASSIGNED]


def test_site_weeks_count_people_worker_days_and_capacity() -> None:
    day = dt.date(2026, 11, 25)
    counts = tally(
        [
            ("C1", 60, dt.date(1966, 11, 25)),
            ("C1", 60, dt.date(1966, 11, 26)),
            ("C1", 80, dt.date(1946, 12, 3)),
            ("C1", 100, dt.date(1926, 11, 30)),
            ("C1", 60, dt.date(1966, 12, 30)),  # outside the window
            (UNASSIGNED, 60, dt.date(1966, 11, 27)),
        ],
        day,
        10,
        (60, 80, 100),
    )
    assert counts == Counter(
        {("C1", 0, 60): 2, ("C1", 1, 80): 1, ("C1", 0, 100): 1, ("", 0, 60): 1}
    )
    rows = site_weeks(
        counts, [site("C1", SITE), site("S1", SITE, "street")], {"C1": 3}, weeks(day, 10), 2
    )
    assert [(r.site_id, r.week_start, r.reaching) for r in rows] == [
        ("C1", day, (2, 0, 1)),
        ("C1", dt.date(2026, 12, 2), (0, 1, 0)),
        ("", day, (1, 0, 0)),
        ("", dt.date(2026, 12, 2), (0, 0, 0)),
    ]
    assert [r.worker_days_needed for r in rows] == [1.5, 0.5, 0.5, 0.0]
    assert [r.worker_days_capacity for r in rows] == [15.0, pytest.approx(15 * 3 / 7), 0.0, 0.0]
    assert rows[0].street == "长河街道" and rows[2].site_name == "未分配站点"


def test_week_ticks_do_not_crowd() -> None:
    starts = [w.start for w in weeks(dt.date(2026, 11, 25), 365)]
    ticks = week_ticks(starts)
    assert ticks[0] == 1  # 2 December: the 25 November tick would overlap it
    assert len(ticks) == 12
    assert week_ticks(starts[:4]) == [0, 1, 2, 3]
