"""Every setting, read from the environment in one place. Each has a default and a help line;
the README's settings table lists them all (a test checks)."""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Setting:
    env: str
    default: str
    help: str


SETTINGS = (
    Setting(
        "PROACTIVE_DATABASE_URL",
        "sqlite:///proactive.db",
        "SQLAlchemy URL of the database; PostgreSQL in production (postgresql+psycopg://…).",
    ),
    Setting("PROACTIVE_DISTRICT_CODE", "330108", "6-digit code of the district served (滨江区)."),
    Setting(
        "PROACTIVE_COLUMN_MAP",
        "",
        "Optional TOML file mapping extract column names to ours, one table per file.",
    ),
    Setting("PROACTIVE_LOG_LEVEL", "WARNING", "Log level: DEBUG, INFO, WARNING or ERROR."),
    Setting(
        "PROACTIVE_KEY_DIR",
        "keys",
        "Directory of the signing key (district.key, mode 0600) and trusted public keys (*.pub).",
    ),
    Setting(
        "PROACTIVE_CERTIFICATE_DIR",
        "certificates",
        "Directory where certificate PDFs are stored (<program>/<year>/<number>.pdf).",
    ),
    Setting(
        "PROACTIVE_DETOUR_FACTOR",
        "1.3",
        "Walking distance over straight-line distance, for the 15-minute circle.",
    ),
    Setting("PROACTIVE_WALKING_SPEED_KMH", "4.5", "Walking speed of residents and workers."),
    Setting("PROACTIVE_CIRCLE_MINUTES", "15", "The service circle's radius, in walking minutes."),
)


@dataclass(frozen=True)
class Settings:
    database_url: str
    district_code: str
    column_map: str
    log_level: str
    key_dir: str
    certificate_dir: str
    detour_factor: str
    walking_speed_kmh: str
    circle_minutes: str

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        values = [env.get(s.env, s.default) for s in SETTINGS]
        return cls(*values)


assert [f.name for f in fields(Settings)] == [
    s.env.removeprefix("PROACTIVE_").lower() for s in SETTINGS
]
