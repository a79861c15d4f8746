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
    Setting(
        "PROACTIVE_EXTRACT_DIR",
        "",
        "Extract directory every night ingests first (`run`, `schedule`); none if empty.",
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
    Setting("PROACTIVE_SMS_BACKEND", "console", "console (log and JSONL file) or twilio."),
    Setting("PROACTIVE_SMS_LOG", "sms.jsonl", "The console backend's JSONL file of messages."),
    Setting("PROACTIVE_SMS_RATE", "20", "Messages per second, for all workers together."),
    Setting("PROACTIVE_SMS_DAILY_CAP", "3", "Messages per recipient number per day."),
    Setting("PROACTIVE_QUIET_HOURS", "21:00-08:00", "No message is sent in these hours."),
    Setting("PROACTIVE_SMS_STUCK_MINUTES", "10", "A message `sending` this long is reconciled."),
    Setting("PROACTIVE_HOTLINE", "0571-12345", "Phone number in messages when a site has none."),
    Setting(
        "PROACTIVE_PUBLIC_URL",
        "",
        "Public base URL of `proactive serve`, for Twilio's status callbacks (none if empty).",
    ),
    Setting("TWILIO_ACCOUNT_SID", "", "Twilio account SID (twilio backend)."),
    Setting("TWILIO_AUTH_TOKEN", "", "Twilio auth token: signs requests and webhooks."),
    Setting("TWILIO_FROM", "", "Sender number or ID (or use TWILIO_MESSAGING_SERVICE_SID)."),
    Setting("TWILIO_MESSAGING_SERVICE_SID", "", "Twilio Messaging Service to send from."),
    Setting(
        "TWILIO_API_BASE",
        "",
        "Override of https://api.twilio.com, for tests and staging only.",
    ),
)


@dataclass(frozen=True)
class Settings:
    database_url: str
    district_code: str
    column_map: str
    extract_dir: str
    log_level: str
    key_dir: str
    certificate_dir: str
    detour_factor: str
    walking_speed_kmh: str
    circle_minutes: str
    sms_backend: str
    sms_log: str
    sms_rate: str
    sms_daily_cap: str
    quiet_hours: str
    sms_stuck_minutes: str
    hotline: str
    public_url: str
    twilio_account_sid: str
    twilio_auth_token: str
    twilio_from: str
    twilio_messaging_service_sid: str
    twilio_api_base: str

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        values = [env.get(s.env, s.default) for s in SETTINGS]
        return cls(*values)


assert [f.name for f in fields(Settings)] == [
    s.env.removeprefix("PROACTIVE_").lower() for s in SETTINGS
]
