"""The coverage map's SVG geometry: homes binned on a bounded grid, each cell counting the homes
outside every circle; circles that scale with the radius; sites inside the view box."""

from __future__ import annotations

import numpy as np
import pytest

from proactive.web import coverage_map
from proactive.web.coverage_map import Place

SITES = [
    Place("滨盛社区服务站", "community", 30.190, 120.200),
    Place("西兴街道便民服务中心", "street", 30.200, 120.210),
    Place("高新园区服务点", "platform", 30.180, 120.220),
]


def layout(
    lat: list[float], lon: list[float], covered: list[bool], radius: float = 865.0
) -> coverage_map.CoverageMap:
    return coverage_map.layout(SITES, np.array(lat), np.array(lon), np.array(covered), radius)


def test_a_cell_counts_its_homes_and_those_outside() -> None:
    drawn = layout(
        [30.190, 30.19001, 30.19002, 30.230, 30.23001, 30.23002],  # two corners, 1 m apart
        [120.200, 120.20001, 120.20002, 120.250, 120.25001, 120.25002],
        [True, True, True, False, False, True],
    )
    by_homes = sorted((c.homes, c.outside, c.step) for c in drawn.cells)
    assert by_homes == [(3, 0, "inside"), (3, 2, "mostly")]
    assert sum(c.homes for c in drawn.cells) == 6


def test_the_share_outside_picks_the_colour_step() -> None:
    assert coverage_map.step(10, 0) == "inside"
    assert coverage_map.step(10, 1) == "partly"
    assert coverage_map.step(10, 4) == "partly"
    assert coverage_map.step(10, 5) == "mostly"


def test_100_000_homes_draw_a_bounded_number_of_elements() -> None:
    rng = np.random.default_rng(7)
    n = 100_000
    lat, lon = rng.uniform(30.15, 30.25, n), rng.uniform(120.12, 120.28, n)
    drawn = coverage_map.layout(SITES, lat, lon, rng.random(n) < 0.8, 865.0)
    assert len(drawn.cells) <= coverage_map.GRID**2
    assert sum(c.homes for c in drawn.cells) == n
    assert drawn.elements() <= coverage_map.GRID**2 + 3 * len(SITES)
    for cell in drawn.cells:  # inside the view box
        assert cell.x >= 0 and cell.x + cell.size <= drawn.width + 0.2
        assert cell.y >= 0 and cell.y + cell.size <= drawn.height + 0.2


def test_circles_scale_with_the_radius_and_only_community_sites_draw_one() -> None:
    small, large = (layout([30.19], [120.2], [True], radius) for radius in (500.0, 1000.0))
    assert len(small.circles) == len(large.circles) == 1

    def relative(drawn: coverage_map.CoverageMap) -> float:
        """The circle's radius against the distance between two sites, whatever the scale."""
        community, street = drawn.markers[0], drawn.markers[1]
        return drawn.circles[0].rx / abs(street.x - community.x)

    assert relative(large) == pytest.approx(2 * relative(small), rel=0.01)
    circle = small.circles[0]
    assert circle.rx == pytest.approx(circle.ry, rel=0.01)  # round on the projected plane


def test_sites_fit_north_up_with_their_kind() -> None:
    drawn = layout([], [], [])
    assert [m.kind for m in drawn.markers] == ["community", "street", "platform"]
    community, street, platform = drawn.markers
    assert street.y < community.y < platform.y  # north up
    assert community.x < street.x < platform.x  # east right
    for m in drawn.markers:
        assert 0 < m.x < drawn.width and 0 < m.y < drawn.height
    assert drawn.cells == []


def test_nothing_to_draw() -> None:
    assert coverage_map.layout([], np.array([]), np.array([]), np.array([], bool), 865.0) is None
