"""A resident as every source sees them: plain values, built by `resident_store.py`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field


@dataclass(frozen=True)
class HukouRecord:
    name: str
    sex: str
    birth_date: dt.date
    status: str  # active | moved_out | deceased
    death_date: dt.date | None
    division_code: str | None  # of the household's address; None when the household is unknown


@dataclass(frozen=True)
class PermitRecord:
    name: str
    sex: str
    birth_date: dt.date
    division_code: str
    valid_from: dt.date
    valid_to: dt.date


@dataclass(frozen=True)
class Resident:
    id_number: str
    hukou: HukouRecord | None = None
    permit: PermitRecord | None = None
    mobile: str | None = None
    household_mobiles: tuple[str, ...] = ()
    window_programs: frozenset[str] = field(default_factory=frozenset)

    @property
    def records(self) -> tuple[HukouRecord | PermitRecord, ...]:
        return tuple(r for r in (self.hukou, self.permit) if r is not None)

    @property
    def birth_date(self) -> dt.date:
        return self.records[0].birth_date

    @property
    def name(self) -> str:
        return self.records[0].name
