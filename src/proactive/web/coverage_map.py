"""The 15-minute circles and the homes around them as SVG geometry, drawn from coordinates (no
map tiles: it works without the internet). Pure: sites and home coordinates in, positions in a
view box out.

Sites are markers by kind; each community site's circle is an ellipse on the projected plane.
Homes are not drawn one by one: they are binned on a grid of at most GRID x GRID square cells
over the drawing (homes, sites and circles), and each non-empty cell is coloured by the share
of its homes outside every circle. The drawing stays bounded whatever the district's size: at
most GRID**2 cells and two shapes per site."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from proactive.geo import radius_degrees

WIDTH, MARGIN = 640.0, 14.0  # room for a marker on the edge
MIN_HEIGHT, MAX_HEIGHT = 240.0, 720.0
GRID = 40  # cells along the longer side of the drawing
MOSTLY = 0.5  # a cell with at least this share of its homes outside is "mostly outside"

Floats = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Place:
    """A site as the map needs it."""

    name: str
    kind: str  # street | community | platform
    lat: float
    lon: float


@dataclass(frozen=True)
class Marker:
    x: float
    y: float
    name: str
    kind: str


@dataclass(frozen=True)
class Circle:
    x: float
    y: float
    rx: float
    ry: float


@dataclass(frozen=True)
class Cell:
    x: float
    y: float
    size: float
    homes: int
    outside: int
    step: str  # inside | partly | mostly


@dataclass(frozen=True)
class CoverageMap:
    width: float
    height: float
    markers: list[Marker]
    circles: list[Circle]
    cells: list[Cell]

    def elements(self) -> int:
        """Shapes drawn: one per cell, marker and circle."""
        return len(self.cells) + len(self.markers) + len(self.circles)


def step(homes: int, outside: int) -> str:
    """The colour step of a cell: all inside, partly outside, mostly outside."""
    if outside == 0:
        return "inside"
    return "mostly" if outside / homes >= MOSTLY else "partly"


@dataclass(frozen=True)
class _Projection:
    """Equirectangular, north up, scaled to fit WIDTH: a metre is as long both ways."""

    west: float
    north: float
    squeeze: float  # a degree of longitude is shorter than one of latitude
    scale: float  # view-box units per degree of latitude
    left: float
    top: float

    def x(self, lon: Floats) -> Floats:
        result: Floats = self.left + (lon - self.west) * self.squeeze * self.scale
        return result

    def y(self, lat: Floats) -> Floats:
        result: Floats = self.top + (self.north - lat) * self.scale
        return result


def _fit(lats: Floats, lons: Floats) -> tuple[_Projection, float]:
    """The projection of the box around the points, and the view box's height."""
    south, north, west, east = lats.min(), lats.max(), lons.min(), lons.max()
    squeeze = math.cos(math.radians((north + south) / 2))
    span_x, span_y = max((east - west) * squeeze, 1e-6), max(north - south, 1e-6)
    scale = (WIDTH - 2 * MARGIN) / span_x
    height = span_y * scale + 2 * MARGIN
    if height > MAX_HEIGHT:
        scale = (MAX_HEIGHT - 2 * MARGIN) / span_y
    height = min(max(height, MIN_HEIGHT), MAX_HEIGHT)
    left = (WIDTH - span_x * scale) / 2
    top = (height - span_y * scale) / 2
    return _Projection(west, north, squeeze, scale, left, top), height


def layout(
    sites: Sequence[Place],
    lat: Floats,
    lon: Floats,
    covered: npt.NDArray[np.bool_],
    radius_m: float,
    grid: int = GRID,
) -> CoverageMap | None:
    """The map of `sites` and the homes at (`lat`, `lon`), `covered` when inside a circle of
    `radius_m` straight-line metres; None with neither sites nor homes."""
    rings = [(s, *radius_degrees(radius_m, s.lat)) for s in sites if s.kind == "community"]
    lats = np.concatenate(
        [lat, [s.lat for s in sites], *([s.lat - h, s.lat + h] for s, _, h in rings)]
    )
    lons = np.concatenate(
        [lon, [s.lon for s in sites], *([s.lon - w, s.lon + w] for s, w, _ in rings)]
    )
    if len(lats) == 0:
        return None
    plane, height = _fit(lats, lons)
    markers = [
        Marker(round(float(x), 1), round(float(y), 1), s.name, s.kind)
        for s, x, y in zip(
            sites,
            plane.x(np.array([s.lon for s in sites])),
            plane.y(np.array([s.lat for s in sites])),
            strict=True,
        )
    ]
    circles = [
        Circle(
            round(float(plane.x(np.array([s.lon]))[0]), 1),
            round(float(plane.y(np.array([s.lat]))[0]), 1),
            round(w * plane.squeeze * plane.scale, 1),
            round(h * plane.scale, 1),
        )
        for s, w, h in rings
    ]
    cells = _cells(plane, height, lat, lon, covered, grid)
    return CoverageMap(WIDTH, round(height, 1), markers, circles, cells)


def _cells(
    plane: _Projection,
    height: float,
    lat: Floats,
    lon: Floats,
    covered: npt.NDArray[np.bool_],
    grid: int,
) -> list[Cell]:
    """The homes counted on square cells over the drawing, row by row."""
    if len(lat) == 0:
        return []
    x, y = plane.x(lon), plane.y(lat)
    x0, y0 = plane.left, plane.top
    size = max(WIDTH - 2 * x0, height - 2 * y0, 1e-6) / grid
    col = np.clip(((x - x0) / size).astype(np.intp), 0, grid - 1)
    row = np.clip(((y - y0) / size).astype(np.intp), 0, grid - 1)
    index = row * grid + col
    homes = np.bincount(index, minlength=grid * grid)
    outside = np.bincount(index, weights=~covered, minlength=grid * grid).astype(np.intp)
    return [
        Cell(
            round(float(x0 + (i % grid) * size), 1),
            round(float(y0 + (i // grid) * size), 1),
            round(float(size), 1),
            int(homes[i]),
            int(outside[i]),
            step(int(homes[i]), int(outside[i])),
        )
        for i in np.flatnonzero(homes)
    ]
