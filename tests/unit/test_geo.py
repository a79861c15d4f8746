"""Walking times: the 15-minute rule's arithmetic."""

import pytest

from proactive.geo import Point, Walking, straight_metres


def test_haversine_matches_a_known_distance() -> None:
    # one degree of latitude is about 111.2 km everywhere
    assert straight_metres(Point(30.0, 120.2), Point(31.0, 120.2)) == pytest.approx(
        111_195, rel=1e-3
    )
    assert straight_metres(Point(30.2, 120.2), Point(30.2, 120.2)) == 0


def test_walking_minutes_use_detour_and_speed() -> None:
    a, b = Point(30.2, 120.2), Point(30.2 + 0.009, 120.2)  # about 1 km north
    walking = Walking()
    metres = straight_metres(a, b)
    assert walking.minutes(a, b) == pytest.approx(metres * 1.3 / 75)  # 4.5 km/h = 75 m/min
    assert Walking(detour=1.0, speed_kmh=6).minutes(a, b) == pytest.approx(metres / 100)
    assert 16 < walking.minutes(a, b) < 18  # 1 km is outside a 15-minute circle once detoured
