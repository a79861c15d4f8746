"""Public facts about Binjiang district (滨江区, 330108), Hangzhou: its three streets with their
official 9-digit statistical division codes, and approximate coordinates.

The communities are placeholders in the official 12-digit format (street code + 3-digit
serial), twelve per street on a grid 1.1 km apart, named 西兴第1社区 and so on: the National
Bureau of Statistics' community list was not at hand when this was written. Replace them with
the published list (name, code, a point) when it is; nothing else depends on which communities
exist."""

from __future__ import annotations

from dataclasses import dataclass

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

COMMUNITIES_PER_STREET = 12
COMMUNITY_SPACING_KM = 1.1  # between neighbouring placeholder communities


def _placeholder_communities(street: Street) -> tuple[Community, ...]:
    """A 4 x 3 grid of placeholder communities centred on the street (see the module note)."""
    found = []
    for n in range(COMMUNITIES_PER_STREET):
        row, column = divmod(n, 4)
        lat = street.lat + (row - 1) * COMMUNITY_SPACING_KM / 111.0
        lon = street.lon + (column - 1.5) * COMMUNITY_SPACING_KM / 96.0
        short = street.name.removesuffix("街道")
        found.append(
            Community(
                f"{street.code}{n + 1:03d}",
                street.name,
                f"{short}第{n + 1}社区",
                round(lat, 4),
                round(lon, 4),
            )
        )
    return tuple(found)


COMMUNITIES = tuple(c for street in STREETS for c in _placeholder_communities(street))

# Industrial-platform service points: (name, division code, lat, lon)
PLATFORMS = (
    ("物联网街企业服务驿站", "330108001001", 30.2110, 120.2090),
    ("互联网小镇企业服务点", "330108002001", 30.1890, 120.1900),
)
