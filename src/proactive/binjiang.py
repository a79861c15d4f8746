"""Public facts about Binjiang district (滨江区, 330108), Hangzhou: its three streets with their
official 9-digit statistical division codes, and approximate coordinates.

The communities below are placeholders in the official 12-digit format (street code + 3-digit
serial), one per street: the National Bureau of Statistics' community list was not at hand when
this was written. Replace them with the published list (name, code) when it is; nothing else
depends on which communities exist."""

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
    Street("330108001", "西兴街道", 30.2080, 120.2190),
    Street("330108002", "长河街道", 30.1930, 120.1980),
    Street("330108003", "浦沿街道", 30.1730, 120.1560),
)

COMMUNITIES = (
    Community("330108001001", "西兴街道", "西兴社区", 30.2050, 120.2200),
    Community("330108002001", "长河街道", "长河社区", 30.1920, 120.1990),
    Community("330108003001", "浦沿街道", "浦沿社区", 30.1740, 120.1550),
)

# Industrial-platform service points: (name, division code, lat, lon)
PLATFORMS = (
    ("物联网街企业服务驿站", "330108001001", 30.2110, 120.2090),
    ("互联网小镇企业服务点", "330108002001", 30.1890, 120.1900),
)
