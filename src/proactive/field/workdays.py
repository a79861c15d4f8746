"""China's working days: weekends, public holidays and the make-up working days (调休) the
State Council announces each year, from the chinesecalendar package. For a year it does not
know yet, weekdays are working days and a warning says so."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from typing import Protocol

import chinese_calendar

log = logging.getLogger(__name__)


class Calendar(Protocol):
    def is_workday(self, day: dt.date) -> bool: ...


class ChinaCalendar:
    def __init__(self) -> None:
        self.guessed_years: set[int] = set()

    def is_workday(self, day: dt.date) -> bool:
        try:
            return bool(chinese_calendar.is_workday(day))
        except NotImplementedError:
            if day.year not in self.guessed_years:
                self.guessed_years.add(day.year)
                log.warning("calendar.year_unknown", extra={"year": day.year})
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
