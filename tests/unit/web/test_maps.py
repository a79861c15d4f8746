"""The day's SVG map: every located point inside the view box, north up, east right."""

from __future__ import annotations

from proactive.geo import Point
from proactive.web import maps


def test_points_fit_the_view_box_north_up() -> None:
    site = Point(30.19, 120.20)
    marks = maps.layout(
        site, [("1", Point(30.20, 120.21)), ("2", None), ("3", Point(30.18, 120.19))]
    )
    assert [m.label for m in marks] == ["站", "1", "3"]
    for mark in marks:
        assert maps.MARGIN - 0.1 <= mark.x <= maps.WIDTH - maps.MARGIN + 0.1
        assert maps.MARGIN - 0.1 <= mark.y <= maps.HEIGHT - maps.MARGIN + 0.1
    north, south = marks[1], marks[2]
    assert north.y < south.y and north.x > south.x


def test_nothing_located_draws_nothing_and_one_point_is_centred() -> None:
    assert maps.layout(None, [("1", None)]) == []
    (only,) = maps.layout(Point(30.19, 120.2), [])
    assert (only.x, only.y) == (maps.WIDTH / 2, maps.HEIGHT / 2)
