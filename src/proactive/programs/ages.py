"""When a person reaches an age. Pure date arithmetic.

A person reaches N on the anniversary of their birth date. Someone born on 29 February has no
anniversary in a common year: under the `feb28` convention (the Civil Code's, which counts a
period by years to the corresponding day, or the month's last day when there is none) they
reach it on 28 February; under `mar1`, on 1 March.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass
from typing import Literal

LeapDay = Literal["feb28", "mar1"]


def anniversary(birth: dt.date, years: int, leap_day: LeapDay = "feb28") -> dt.date:
    """The day a person born on `birth` reaches `years` of age."""
    try:
        return birth.replace(year=birth.year + years)
    except ValueError:  # 29 February, common year
        if leap_day == "mar1":
            return dt.date(birth.year + years, 3, 1)
        return dt.date(birth.year + years, 2, 28)


@dataclass(frozen=True)
class BirthRange:
    """Birth dates of everyone reaching an age in a window of days: a range, plus 29 February
    of a year whose people reach the age on 28 February or 1 March of a common year."""

    low: dt.date
    high: dt.date
    leap_days: tuple[dt.date, ...]


def births_reaching(years: int, first: dt.date, last: dt.date) -> BirthRange:
    leap_days = tuple(
        dt.date(year - years, 2, 29)
        for year in range(first.year, last.year + 1)
        if calendar.isleap(year - years)
        and not calendar.isleap(year)
        and (first <= dt.date(year, 2, 28) <= last or first <= dt.date(year, 3, 1) <= last)
    )
    low = _years_before(first, years)
    if (first.month, first.day) == (2, 29) and low.day == 28:  # nobody's anniversary is 29 Feb
        low = low + dt.timedelta(days=1)
    return BirthRange(low, _years_before(last, years), leap_days)


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)
