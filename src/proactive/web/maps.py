"""The day's stops and the site as an SVG drawn from coordinates (no map tiles: it works
without the internet). Pure: points in, positions in a fixed view box out."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from proactive.geo import Point

WIDTH, HEIGHT, MARGIN = 320.0, 220.0, 18.0


@dataclass(frozen=True)
class Mark:
    x: float
    y: float
    label: str  # "站" for the site, the stop number otherwise


def layout(site: Point | None, stops: Sequence[tuple[str, Point | None]]) -> list[Mark]:
    """Equirectangular projection scaled to fit the view box, north up; unlocated stops left out."""
    named = [("站", site)] if site else []
    named += [(label, p) for label, p in stops if p is not None]
    if not named:
        return []
    lats = [p.lat for _, p in named if p]
    lons = [p.lon for _, p in named if p]
    mid_lat, mid_lon = (max(lats) + min(lats)) / 2, (max(lons) + min(lons)) / 2
    squeeze = math.cos(
        math.radians(mid_lat)
    )  # a degree of longitude is shorter than one of latitude
    span_x = max((max(lons) - min(lons)) * squeeze, 1e-6)
    span_y = max(max(lats) - min(lats), 1e-6)
    scale = min((WIDTH - 2 * MARGIN) / span_x, (HEIGHT - 2 * MARGIN) / span_y)
    return [
        Mark(
            round(WIDTH / 2 + (p.lon - mid_lon) * squeeze * scale, 1),
            round(HEIGHT / 2 - (p.lat - mid_lat) * scale, 1),
            label,
        )
        for label, p in named
        if p
    ]
