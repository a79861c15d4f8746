"""China's working days: weekends, public holidays and the make-up working days (调休) the
State Council announces each year: from jobs/holidays.toml for the years a district entered
there, else from the chinesecalendar package. For a year in neither, weekdays are working days
and a warning says exactly what to add."""

from __future__ import annotations

import datetime as dt
import logging
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import chinese_calendar

from proactive.errors import ProactiveError

log = logging.getLogger(__name__)


class HolidayFileError(ProactiveError):
    """The holiday file is not valid"""


@dataclass(frozen=True)
class OfficialYear:
    """One year's days off and make-up working days, with the notice they come from."""

    notice: str
    holidays: frozenset[dt.date]
    workdays: frozenset[dt.date]


def load_holidays(path: Path) -> dict[int, OfficialYear]:
    """jobs/holidays.toml: {year: OfficialYear}; a missing file enters no year."""
    if not path.exists():
        return {}
    try:
        tables = tomllib.loads(path.read_text(encoding="utf-8"))
        return {int(year): _official_year(int(year), t) for year, t in tables.items()}
    except (tomllib.TOMLDecodeError, ValueError, TypeError, KeyError) as error:
        raise HolidayFileError(f"{path}: {error}") from None


def _official_year(year: int, table: Mapping[str, object]) -> OfficialYear:
    notice = str(table["notice"]).strip()
    if not notice:
        raise ValueError(f"[{year}] needs the notice the dates come from")
    off, on = (
        frozenset(dt.date.fromisoformat(str(d)) for d in _dates(table, key))
        for key in ("holidays", "workdays")
    )
    if any(d.year != year for d in off | on) or off & on:
        raise ValueError(f"[{year}] has a date of another year or both a holiday and a workday")
    return OfficialYear(notice, off, on)


def _dates(table: Mapping[str, object], key: str) -> list[object]:
    value = table.get(key, [])
    if not isinstance(value, list):
        raise TypeError(f"{key} must be a list of dates")
    return value


class Calendar(Protocol):
    def is_workday(self, day: dt.date) -> bool: ...


class ChinaCalendar:
    def __init__(self, entered: Mapping[int, OfficialYear] | None = None) -> None:
        self.entered = dict(entered or {})
        self.guessed_years: set[int] = set()

    def is_workday(self, day: dt.date) -> bool:
        official = self.entered.get(day.year)
        if official is not None:
            return day in official.workdays or (day.weekday() < 5 and day not in official.holidays)
        try:
            return bool(chinese_calendar.is_workday(day))
        except NotImplementedError:
            if day.year not in self.guessed_years:
                self.guessed_years.add(day.year)
                log.warning(
                    "calendar.year_unknown",
                    extra={
                        "year": day.year,
                        "fix": f"add a [{day.year}] table (notice, holidays, workdays) to "
                        f"jobs/holidays.toml from the State Council's notice on {day.year}'s "
                        "holidays, or upgrade chinesecalendar",
                    },
                )
            return day.weekday() < 5


def workdays_from(calendar: Calendar, first: dt.date) -> Iterator[dt.date]:
    """Working days on or after `first`, in order, without end."""
    day = first
    while True:
        if calendar.is_workday(day):
            yield day
        day += dt.timedelta(days=1)


def first_workday(calendar: Calendar, first: dt.date) -> dt.date:
    return next(workdays_from(calendar, first))
