"""What a shared-data extract holds: its files, their columns, keys and how each column is read.

Declarations only; `validate.py` applies them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from proactive.registry import parsers
from proactive.registry.parsers import Parser

OnInvalid = Literal["reject", "drop"]

# Longest value a text column takes (after trimming; codes after NFKC). Longer is a data error,
# and a value that would fail every page and certificate it is printed on.
CODE_LENGTH = 64
NAME_LENGTH = 50  # a person's name: generous, transliterated minority names included
ADDRESS_LENGTH = 200
SITE_NAME_LENGTH = 100
PHONE_LENGTH = 32


@dataclass(frozen=True)
class Column:
    name: str
    parse: Parser
    required: bool = True
    on_invalid: OnInvalid = "reject"
    target: str = ""  # database column, when it differs from the extract's name

    @property
    def db_name(self) -> str:
        return self.target or self.name


@dataclass(frozen=True)
class FileSpec:
    file: str
    table: str
    key: str
    columns: tuple[Column, ...]
    updated_at: str | None = None  # the column that decides between duplicate keys
    required: bool = False
    flags: bool = False  # rows carry review_flags
    optional_columns: frozenset[str] = field(default_factory=frozenset)

    @property
    def required_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.name not in self.optional_columns]

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


_UPDATED_AT = Column("updated_at", parsers.timestamp, target="source_updated_at")
_MOBILE = Column("mobile", parsers.mobile, required=False, on_invalid="drop")
_LAT = Column("lat", parsers.latitude, required=False, on_invalid="drop")
_LON = Column("lon", parsers.longitude, required=False, on_invalid="drop")
_IDENTITY = (
    Column("id_number", parsers.id_number),
    Column("name", parsers.text(NAME_LENGTH)),
    Column("sex", parsers.sex),
    Column("birth_date", parsers.date),
)

PERSONS = FileSpec(
    file="persons.csv",
    table="persons",
    key="id_number",
    columns=(
        *_IDENTITY,
        Column("household_id", parsers.code(CODE_LENGTH)),
        Column("hukou_status", parsers.enum("active", "moved_out", "deceased")),
        Column("death_date", parsers.date, required=False),
        _MOBILE,
        _UPDATED_AT,
    ),
    updated_at="updated_at",
    required=True,
    flags=True,
)

HOUSEHOLDS = FileSpec(
    file="households.csv",
    table="households",
    key="household_id",
    columns=(
        Column("household_id", parsers.code(CODE_LENGTH)),
        Column("address", parsers.text(ADDRESS_LENGTH)),
        Column("division_code", parsers.division_code),
        _LAT,
        _LON,
    ),
)

RESIDENCE_PERMITS = FileSpec(
    file="residence_permits.csv",
    table="residence_permits",
    key="id_number",
    columns=(
        *_IDENTITY,
        Column("address", parsers.text(ADDRESS_LENGTH)),
        Column("division_code", parsers.division_code),
        _LAT,
        _LON,
        Column("valid_from", parsers.date),
        Column("valid_to", parsers.date),
        _MOBILE,
        _UPDATED_AT,
    ),
    updated_at="updated_at",
    flags=True,
)

CERTIFICATES_ISSUED = FileSpec(
    file="certificates_issued.csv",
    table="window_certificates",
    key="certificate_no",
    columns=(
        Column("id_number", parsers.id_number),
        Column("program", parsers.code(CODE_LENGTH)),
        Column("certificate_no", parsers.code(CODE_LENGTH)),
        Column("issued_on", parsers.date),
    ),
)

SITES = FileSpec(
    file="sites.csv",
    table="sites",
    key="site_id",
    columns=(
        Column("site_id", parsers.code(CODE_LENGTH)),
        Column("name", parsers.text(SITE_NAME_LENGTH)),
        Column("kind", parsers.enum("street", "community", "platform")),
        Column("division_code", parsers.division_code),
        Column("lat", parsers.latitude),
        Column("lon", parsers.longitude),
        Column("daily_capacity", parsers.count),
        Column("phone", parsers.code(PHONE_LENGTH), required=False),
    ),
    optional_columns=frozenset({"phone"}),
)

SOCIAL_WORKERS = FileSpec(
    file="social_workers.csv",
    table="social_workers",
    key="worker_id",
    columns=(
        Column("worker_id", parsers.code(CODE_LENGTH)),
        Column("name", parsers.text(NAME_LENGTH)),
        Column("site_id", parsers.code(CODE_LENGTH)),
        _MOBILE,
        Column("active", parsers.boolean),
        Column("role", parsers.enum("worker", "supervisor"), required=False),
        Column("daily_capacity", parsers.count, required=False),
    ),
    optional_columns=frozenset({"role", "daily_capacity"}),
)

# Load order: what a later file refers to comes first.
ALL = (SITES, SOCIAL_WORKERS, HOUSEHOLDS, PERSONS, RESIDENCE_PERMITS, CERTIFICATES_ISSUED)
