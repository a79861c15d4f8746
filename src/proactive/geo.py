"""Walking time on the 15-minute circle: straight-line (great-circle) distance times a detour
factor, at a walking speed. Pure."""

from __future__ import annotations

import math
from dataclasses import dataclass

EARTH_RADIUS_M = 6_371_008.8  # mean radius (IUGG)


@dataclass(frozen=True)
class Point:
    lat: float
    lon: float


@dataclass(frozen=True)
class Walking:
    detour: float = 1.3  # street network over straight line
    speed_kmh: float = 4.5
    circle_minutes: float = 15.0

    def metres(self, a: Point, b: Point) -> float:
        """Walking distance: the straight line stretched by the detour factor."""
        return straight_metres(a, b) * self.detour

    def minutes(self, a: Point, b: Point) -> float:
        return self.metres(a, b) / (self.speed_kmh * 1000 / 60)


def straight_metres(a: Point, b: Point) -> float:
    """Haversine distance between two points, in metres."""
    phi1, phi2 = math.radians(a.lat), math.radians(b.lat)
    dphi = phi2 - phi1
    dlambda = math.radians(b.lon - a.lon)
    h = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(min(1.0, h)))


def radius_degrees(metres: float, lat: float) -> tuple[float, float]:
    """Half-width in longitude and half-height in latitude of a circle of `metres` at `lat`."""
    per_degree = math.pi * EARTH_RADIUS_M / 180
    return metres / (per_degree * math.cos(math.radians(lat))), metres / per_degree
