"""Every setting, read from the environment in one place. Each has a default, a help line and
the form it must take, checked when the settings are read (a bad one is a one-line error naming
the variable); the README's settings table lists them all (a test checks)."""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path

from proactive.errors import ProactiveError

ROOT = Path(__file__).resolve().parents[2]


class SettingsError(ProactiveError):
    """A setting is invalid"""


def _any(_value: str) -> bool:
    return True


def _filled(value: str) -> bool:
    return bool(value.strip())


def _positive(value: str) -> bool:
    if not re.fullmatch(r"[0-9]+(\.[0-9]+)?", value.strip()):
        return False
    number = float(value)
    return math.isfinite(number) and number > 0


def _whole(value: str) -> bool:
    return re.fullmatch(r"[0-9]+", value.strip()) is not None and int(value) > 0


def _url(value: str) -> bool:
    """The form of a SQLAlchemy URL (dialect[+driver]://…), checked without loading SQLAlchemy
    (`proactive --help` stays light); a URL that passes but is wrong fails on connecting."""
    return re.match(r"[A-Za-z][A-Za-z0-9_.-]*(\+[A-Za-z0-9_.-]+)?://", value) is not None


_HOUR = r"(?:[01][0-9]|2[0-3]):[0-5][0-9]"


@dataclass(frozen=True)
class Setting:
    env: str
    default: str
    help: str
    form: str = "any text"  # what a valid value looks like, for the error message
    check: Callable[[str], bool] = _any
    secret: bool = False  # never shown: not in a repr, a log or an error

    def problem(self, value: str) -> str | None:
        """None if the value has the right form, else a one-line message naming the variable."""
        if self.check(value):
            return None
        shown = "" if self.secret else f"={value!r}"
        return f"{self.env}{shown}: expected {self.form}"


_NUMBER = "a positive number (e.g. 1.5)"


SETTINGS = (
    Setting(
        "PROACTIVE_DATABASE_URL",
        "sqlite:///proactive.db",
        "SQLAlchemy URL of the database; PostgreSQL in production (postgresql+psycopg://…).",
        "a SQLAlchemy URL (e.g. sqlite:///proactive.db)",
        _url,
        secret=True,  # it may hold a password
    ),
    Setting(
        "PROACTIVE_DISTRICT_CODE",
        "330108",
        "6-digit code of the district served (滨江区).",
        "6 digits (e.g. 330108)",
        lambda v: re.fullmatch(r"[0-9]{6}", v) is not None,
    ),
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
    Setting(
        "PROACTIVE_LOG_LEVEL",
        "WARNING",
        "Log level: DEBUG, INFO, WARNING or ERROR.",
        "DEBUG, INFO, WARNING or ERROR",
        lambda v: v.strip().upper() in {"DEBUG", "INFO", "WARNING", "ERROR"},
    ),
    Setting(
        "PROACTIVE_KEY_DIR",
        "keys",
        "Directory of the signing key (district.key, mode 0600) and trusted public keys (*.pub).",
        "a directory path",
        _filled,
    ),
    Setting(
        "PROACTIVE_CERTIFICATE_DIR",
        "certificates",
        "Where certificate PDFs are stored (<program>/<year>/<number>.pdf): a directory, or "
        "s3://bucket/prefix for S3-compatible object storage.",
        "a directory path, or s3://bucket[/prefix]",
        lambda v: _filled(v) and v.strip() not in ("s3://", "s3:///"),
    ),
    Setting(
        "PROACTIVE_S3_ENDPOINT_URL",
        "",
        "Endpoint of the S3-compatible service (Aliyun OSS, MinIO, ...); empty for AWS.",
        "an http:// or https:// URL, or empty",
        lambda v: not v or re.match(r"https?://[^/\s]+", v) is not None,
    ),
    Setting(
        "PROACTIVE_DETOUR_FACTOR",
        "1.3",
        "Walking distance over straight-line distance, for the 15-minute circle.",
        _NUMBER,
        _positive,
    ),
    Setting(
        "PROACTIVE_WALKING_SPEED_KMH",
        "4.5",
        "Walking speed of residents and workers.",
        _NUMBER,
        _positive,
    ),
    Setting(
        "PROACTIVE_CIRCLE_MINUTES",
        "15",
        "The service circle's radius, in walking minutes.",
        _NUMBER,
        _positive,
    ),
    Setting(
        "PROACTIVE_SMS_BACKEND",
        "console",
        "console (log and JSONL file) or twilio.",
        "console or twilio",
        lambda v: v in {"console", "twilio"},
    ),
    Setting(
        "PROACTIVE_SMS_LOG",
        "sms.jsonl",
        "The console backend's JSONL file of messages.",
        "a file path",
        _filled,
    ),
    Setting(
        "PROACTIVE_SMS_RATE",
        "20",
        "Messages per second, for all workers together.",
        _NUMBER,
        _positive,
    ),
    Setting(
        "PROACTIVE_SMS_DAILY_CAP",
        "3",
        "Messages per recipient number per day.",
        "a whole number above 0 (e.g. 3)",
        _whole,
    ),
    Setting(
        "PROACTIVE_QUIET_HOURS",
        "21:00-08:00",
        "No message is sent in these hours.",
        "HH:MM-HH:MM (e.g. 21:00-08:00), or empty for none",
        lambda v: not v.strip() or re.fullmatch(f"{_HOUR}-{_HOUR}", v.strip()) is not None,
    ),
    Setting(
        "PROACTIVE_SMS_STUCK_MINUTES",
        "10",
        "A message `sending` this long is reconciled.",
        _NUMBER,
        _positive,
    ),
    Setting("PROACTIVE_HOTLINE", "0571-12345", "Phone number in messages when a site has none."),
    Setting(
        "PROACTIVE_PUBLIC_URL",
        "",
        "Public base URL of `proactive serve`, for Twilio's status callbacks (none if empty).",
        "an http:// or https:// URL, or empty",
        lambda v: not v or re.match(r"https?://[^/\s]+", v) is not None,
    ),
    Setting("TWILIO_ACCOUNT_SID", "", "Twilio account SID (twilio backend)."),
    Setting(
        "TWILIO_AUTH_TOKEN", "", "Twilio auth token: signs requests and webhooks.", secret=True
    ),
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
    s3_endpoint_url: str
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
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """The settings, each checked: SettingsError names the first with a wrong form."""
        env = os.environ if environ is None else environ
        values = [env.get(s.env, s.default) for s in SETTINGS]
        for setting, value in zip(SETTINGS, values, strict=True):
            problem = setting.problem(value)
            if problem:
                raise SettingsError(problem)
        return cls(*values)

    def __repr__(self) -> str:
        """Secrets never shown; the database URL without its password."""
        shown = []
        for setting, field in zip(SETTINGS, fields(self), strict=True):
            value = getattr(self, field.name)
            if field.name == "database_url":
                value = safe_url(value)
            elif setting.secret:
                value = "***" if value else ""
            shown.append(f"{field.name}={value!r}")
        return f"Settings({', '.join(shown)})"


def safe_url(url: str) -> str:
    """A database URL fit for messages and logs: the password as ***."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(not a URL)"


assert [f.name for f in fields(Settings)] == [
    s.env.removeprefix("PROACTIVE_").lower() for s in SETTINGS
]
