"""Who lives outside every 15-minute circle: a map of the sites with their circles and the homes
outside them, and a CSV of uncovered homes by community.

A home is counted when someone lives there on the day: a household with at least one person of
active hukou, or the address of a residence permit valid on the day (a permit address that is
also a counted household's address is not counted twice; several permits at one address are one
home). Only community sites (kind `community`) draw a circle: street service centres and
industrial-platform points serve other needs. Walking time is the straight line stretched by
the detour factor (geo.Walking); a home is covered when its nearest community site is at most
`circle_minutes` away.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from statistics import median

import numpy as np
import numpy.typing as npt
from matplotlib.axes import Axes
from matplotlib.collections import PathCollection
from matplotlib.patches import Ellipse
from sqlalchemy import Connection, Engine, exists, select

from proactive.field.plots import chinese_figure, save_png
from proactive.geo import EARTH_RADIUS_M, Point, Walking, radius_degrees
from proactive.models import Household, Person, ResidencePermit, Site
from proactive.output import write_csv
from proactive.registry.binjiang import COMMUNITIES

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.intp]

CHUNK = 4096  # homes per block of the distance matrix: bounds memory to CHUNK x sites floats
KIND_LABELS = {
    "street": "街道便民服务中心",
    "community": "社区服务站",
    "platform": "产业平台服务点",
}
KIND_MARKERS = {
    "street": ("s", "#1f4e9c"),
    "community": ("^", "#1b7f3b"),
    "platform": ("D", "#8e44ad"),
}
CSV_COLUMNS = (
    "division_code",
    "community_name",
    "uncovered_households",
    "nearest_site_minutes_median",
)


# -- pure core --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Dwelling:
    home_id: str  # household id, or "permit:<address>"
    division_code: str  # the community's 12-digit code
    point: Point | None


@dataclass(frozen=True)
class SitePoint:
    site_id: str
    name: str
    kind: str  # street | community | platform
    division_code: str
    point: Point


@dataclass(frozen=True)
class Reach:
    """For each home with coordinates, in the order given: minutes to the nearest community
    site and whether that is inside the circle. Homes without coordinates are listed apart."""

    homes: tuple[Dwelling, ...]  # with coordinates
    minutes: Floats  # inf when there is no community site
    covered: npt.NDArray[np.bool_]
    without_coordinates: tuple[Dwelling, ...]


@dataclass(frozen=True)
class CommunityGap:
    division_code: str
    community_name: str
    uncovered_households: int
    nearest_site_minutes_median: float


def walking_minutes(
    lat: Floats, lon: Floats, site_lat: Floats, site_lon: Floats, walking: Walking
) -> Floats:
    """Walking minutes from every point to every site: an array of shape (points, sites)."""
    phi1, phi2 = np.radians(lat)[:, None], np.radians(site_lat)[None, :]
    dlambda = np.radians(site_lon)[None, :] - np.radians(lon)[:, None]
    h = np.sin((phi2 - phi1) / 2) ** 2 + np.cos(phi1) * np.cos(phi2) * np.sin(dlambda / 2) ** 2
    metres = 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.minimum(1.0, h)))
    result: Floats = metres * walking.detour / metres_per_minute(walking)
    return result


def nearest(
    lat: Floats, lon: Floats, site_lat: Floats, site_lon: Floats, walking: Walking
) -> tuple[Floats, Ints]:
    """Minutes to the nearest site and its index, per point (inf and -1 without sites)."""
    if len(site_lat) == 0:
        return np.full(len(lat), np.inf), np.full(len(lat), -1, dtype=np.intp)
    minutes, index = np.empty(len(lat)), np.empty(len(lat), dtype=np.intp)
    for start in range(0, len(lat), CHUNK):
        block = slice(start, start + CHUNK)
        matrix = walking_minutes(lat[block], lon[block], site_lat, site_lon, walking)
        index[block] = np.argmin(matrix, axis=1)
        minutes[block] = np.take_along_axis(matrix, index[block][:, None], axis=1)[:, 0]
    return minutes, index


def metres_per_minute(walking: Walking) -> float:
    return walking.speed_kmh * 1000 / 60


def circle_radius_metres(walking: Walking) -> float:
    """The straight-line radius of the circle: 15 min x 75 m/min / 1.3 = 865 m by default."""
    return walking.circle_minutes * metres_per_minute(walking) / walking.detour


def community_sites(sites: Sequence[SitePoint]) -> list[SitePoint]:
    return [s for s in sites if s.kind == "community"]


def coordinates(points: Sequence[Point]) -> tuple[Floats, Floats]:
    return (
        np.fromiter((p.lat for p in points), float, len(points)),
        np.fromiter((p.lon for p in points), float, len(points)),
    )


def reach(homes: Sequence[Dwelling], sites: Sequence[SitePoint], walking: Walking) -> Reach:
    located = tuple(h for h in homes if h.point is not None)
    lat, lon = coordinates([h.point for h in located if h.point is not None])
    site_lat, site_lon = coordinates([s.point for s in community_sites(sites)])
    minutes, _ = nearest(lat, lon, site_lat, site_lon, walking)
    return Reach(
        homes=located,
        minutes=minutes,
        covered=minutes <= walking.circle_minutes,
        without_coordinates=tuple(h for h in homes if h.point is None),
    )


def gaps(result: Reach, names: dict[str, str]) -> list[CommunityGap]:
    """Uncovered homes per community, most first; `names` maps division codes to names."""
    by_code: dict[str, list[float]] = {}
    for home, minutes, covered in zip(result.homes, result.minutes, result.covered, strict=True):
        if not covered:
            by_code.setdefault(home.division_code, []).append(float(minutes))
    rows = [
        CommunityGap(code, names.get(code, ""), len(values), median(values))
        for code, values in by_code.items()
    ]
    return sorted(rows, key=lambda g: (-g.uncovered_households, g.division_code))


# -- reading the registry ---------------------------------------------------------------------
def load_dwellings(conn: Connection, day: dt.date) -> list[Dwelling]:
    """Households with someone of active hukou, then addresses of permits valid on `day`."""
    lived_in = exists().where(
        Person.household_id == Household.household_id, Person.hukou_status == "active"
    )
    rows = conn.execute(
        select(Household.household_id, Household.address, Household.division_code)
        .add_columns(Household.lat, Household.lon)
        .where(lived_in)
        .order_by(Household.household_id)
    ).all()
    homes = [Dwelling(r.household_id, r.division_code, _point(r.lat, r.lon)) for r in rows]
    seen = {r.address.strip() for r in rows}
    permits = conn.execute(
        select(
            ResidencePermit.address,
            ResidencePermit.division_code,
            ResidencePermit.lat,
            ResidencePermit.lon,
        )
        .where(ResidencePermit.valid_from <= day, ResidencePermit.valid_to >= day)
        .order_by(ResidencePermit.address, ResidencePermit.lat.is_(None))
    ).all()
    for r in permits:
        address = r.address.strip()
        if address not in seen:
            seen.add(address)
            homes.append(Dwelling(f"permit:{address}", r.division_code, _point(r.lat, r.lon)))
    return homes


def load_site_points(conn: Connection) -> list[SitePoint]:
    rows = conn.execute(
        select(Site.site_id, Site.name, Site.kind, Site.division_code, Site.lat, Site.lon).order_by(
            Site.site_id
        )
    ).all()
    return [
        SitePoint(r.site_id, r.name, r.kind, r.division_code, Point(r.lat, r.lon)) for r in rows
    ]


def _point(lat: float | None, lon: float | None) -> Point | None:
    return None if lat is None or lon is None else Point(lat, lon)


# -- the map and the table --------------------------------------------------------------------
@dataclass(frozen=True)
class CoverageResult:
    png: Path
    csv: Path
    homes: int  # = covered + uncovered + without_coordinates
    covered: int
    uncovered: int
    without_coordinates: int


@dataclass(frozen=True)
class Survey:
    """The figures of the map and its table, for a page."""

    homes: int  # = covered + uncovered + without_coordinates
    covered: int
    uncovered: int
    without_coordinates: int
    gaps: list[CommunityGap]


def measure(engine: Engine, walking: Walking, day: dt.date) -> tuple[Reach, list[SitePoint]]:
    """Every lived-in home's walk to its nearest community site on `day` (Asia/Shanghai)."""
    with engine.connect() as conn:
        homes, sites = load_dwellings(conn, day), load_site_points(conn)
    return reach(homes, sites, walking), sites


def survey(engine: Engine, walking: Walking, day: dt.date) -> Survey:
    result, _ = measure(engine, walking, day)
    return summary(result)


def summary(result: Reach) -> Survey:
    return Survey(*_counts(result), gaps(result, community_names()))


def write_coverage(engine: Engine, out: Path, walking: Walking, day: dt.date) -> CoverageResult:
    """Write coverage-<day>.png (the map) and coverage-<day>.csv (uncovered homes by
    community) into `out`. `day` is a calendar date in Asia/Shanghai."""
    result, sites = measure(engine, walking, day)
    out.mkdir(parents=True, exist_ok=True)
    counts = _counts(result)
    png = draw_map(result, sites, walking, day, counts, out / f"coverage-{day:%Y-%m-%d}.png")
    table = write_gaps(gaps(result, community_names()), out / f"coverage-{day:%Y-%m-%d}.csv")
    return CoverageResult(png, table, *counts)


def community_names() -> dict[str, str]:
    return {c.code: c.name for c in COMMUNITIES}


def write_gaps(rows: Sequence[CommunityGap], path: Path) -> Path:
    """UTF-8 with a byte-order mark, so Excel reads the Chinese names."""
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        write_csv(
            handle,
            CSV_COLUMNS,
            (
                (g.division_code, g.community_name, g.uncovered_households, _minutes(g))
                for g in rows
            ),
        )
    return path


def _minutes(gap: CommunityGap) -> str:
    median_minutes = gap.nearest_site_minutes_median
    return f"{median_minutes:.1f}" if math.isfinite(median_minutes) else ""


def _counts(result: Reach) -> tuple[int, int, int, int]:
    covered = int(result.covered.sum())
    uncovered = len(result.homes) - covered
    missing = len(result.without_coordinates)
    return covered + uncovered + missing, covered, uncovered, missing


def draw_map(
    result: Reach,
    sites: Sequence[SitePoint],
    walking: Walking,
    day: dt.date,
    counts: tuple[int, int, int, int],
    path: Path,
) -> Path:
    homes, covered, uncovered, missing = counts
    with chinese_figure(11, 8.5) as figure:
        ax = figure.add_subplot()
        _draw_homes(ax, result)
        _draw_circles(ax, sites, walking)
        _draw_sites(ax, sites)
        mid_lat = _middle_latitude(result, sites)
        ax.set_aspect(1 / math.cos(math.radians(mid_lat)))  # a metre is a metre both ways
        ax.set_xlabel("经度")
        ax.set_ylabel("纬度")
        ax.ticklabel_format(useOffset=False, style="plain")
        ax.set_title(
            f"滨江区15分钟服务圈覆盖（{day:%Y年%m月%d日}）\n"
            f"有人居住的住户 {homes} 户：圈内 {covered} 户，圈外 {uncovered} 户，"
            f"无坐标 {missing} 户"
        )
        legend = ax.legend(loc="upper left", fontsize=9, framealpha=0.9)
        for handle in legend.legend_handles[:2]:  # the home dots, too small to see at size 2
            if isinstance(handle, PathCollection):
                handle.set_sizes([20])
        ax.grid(True, linewidth=0.3, alpha=0.5)
        return save_png(figure, path)


def dot_size(homes: int) -> float:
    """Marker area for a home: small in a crowd, visible when there are few."""
    return 2.0 if homes > 5000 else 8.0 if homes > 500 else 25.0


def _draw_homes(ax: Axes, result: Reach) -> None:
    lat, lon = coordinates([h.point for h in result.homes if h.point is not None])
    inside, outside = result.covered, ~result.covered
    size = dot_size(len(result.homes))
    ax.scatter(
        lon[inside],
        lat[inside],
        s=size,
        c="#6baed6",
        alpha=0.5,
        linewidths=0,
        label=f"圈内住户（{int(inside.sum())}）",
        rasterized=True,
    )
    ax.scatter(
        lon[outside],
        lat[outside],
        s=size * 2.5,
        c="#d62728",
        alpha=0.85,
        linewidths=0,
        zorder=2.5,
        label=f"圈外住户（{int(outside.sum())}）",
        rasterized=True,
    )


def _draw_circles(ax: Axes, sites: Sequence[SitePoint], walking: Walking) -> None:
    metres = circle_radius_metres(walking)
    for index, site in enumerate(community_sites(sites)):
        half_lon, half_lat = radius_degrees(metres, site.point.lat)
        ax.add_patch(
            Ellipse(
                (site.point.lon, site.point.lat),
                2 * half_lon,
                2 * half_lat,
                facecolor="#2ca02c",
                alpha=0.12,
                edgecolor="#1b7f3b",
                linewidth=1,
                label=f"步行{walking.circle_minutes:g}分钟服务圈（半径约{metres:.0f}米）"
                if index == 0
                else None,
            )
        )


def _draw_sites(ax: Axes, sites: Sequence[SitePoint]) -> None:
    for kind, label in KIND_LABELS.items():
        chosen = [s for s in sites if s.kind == kind]
        if chosen:
            marker, colour = KIND_MARKERS[kind]
            ax.scatter(
                [s.point.lon for s in chosen],
                [s.point.lat for s in chosen],
                s=70,
                marker=marker,
                c=colour,
                edgecolors="white",
                linewidths=0.8,
                zorder=3,
                label=f"{label}（{len(chosen)}）",
            )


def _middle_latitude(result: Reach, sites: Sequence[SitePoint]) -> float:
    lats = [h.point.lat for h in result.homes if h.point is not None]
    lats += [s.point.lat for s in sites]
    return (min(lats) + max(lats)) / 2 if lats else 30.2
