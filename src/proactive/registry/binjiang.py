"""Public facts about Binjiang district (滨江区, 330108), Hangzhou: its three streets with their
official 9-digit statistical division codes and approximate centres, and its 67 communities with
their official 12-digit codes and names (National Bureau of Statistics, 2023; data/README.md
gives the source).

The communities' positions are synthetic: the source has no coordinates, so each street's
communities sit on a grid 0.8 km apart around the street's centre, in code order."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

DISTRICT_CODE = "330108"


@dataclass(frozen=True)
class Street:
    code: str  # 9 digits
    name: str
    lat: float
    lon: float


@dataclass(frozen=True)
class Community:
    code: str  # 12 digits
    street: str
    name: str
    lat: float
    lon: float
    weight: int = 1  # relative population, for synthetic data


STREETS = (
    Street("330108001", "西兴街道", 30.2150, 120.2320),
    Street("330108002", "长河街道", 30.1880, 120.1960),
    Street("330108003", "浦沿街道", 30.1700, 120.1500),
)

COMMUNITY_FILE = Path(__file__).parent / "data" / "binjiang_communities.csv"
COMMUNITY_SPACING_KM = 0.8  # between neighbouring communities on the synthetic grid
GRID_COLUMNS = 5


def _communities(street: Street, listed: list[dict[str, str]]) -> tuple[Community, ...]:
    """The street's communities from the official list, placed on a synthetic grid of
    GRID_COLUMNS columns centred on the street."""
    mine = sorted(
        (row for row in listed if row["street_code"] == street.code), key=lambda r: r["code"]
    )
    rows = -(-len(mine) // GRID_COLUMNS)
    found = []
    for n, row in enumerate(mine):
        line, column = divmod(n, GRID_COLUMNS)
        lat = street.lat + (line - (rows - 1) / 2) * COMMUNITY_SPACING_KM / 111.0
        lon = street.lon + (column - (GRID_COLUMNS - 1) / 2) * COMMUNITY_SPACING_KM / 96.0
        found.append(Community(row["code"], street.name, row["name"], round(lat, 4), round(lon, 4)))
    return tuple(found)


def _load() -> tuple[Community, ...]:
    with COMMUNITY_FILE.open(encoding="utf-8", newline="") as handle:
        listed = list(csv.DictReader(handle))
    return tuple(c for street in STREETS for c in _communities(street, listed))


COMMUNITIES = _load()

# Industrial-platform service points: (name, division code, lat, lon)
PLATFORMS = (
    ("物联网街企业服务驿站", "330108001001", 30.2110, 120.2090),
    ("互联网小镇企业服务点", "330108002001", 30.1890, 120.1900),
)
