"""When a person reaches an age. Pure date arithmetic.

A person reaches N on the anniversary of their birth date. Someone born on 29 February has no
anniversary in a common year: under the `feb28` convention (the Civil Code's, which counts a
period by years to the corresponding day, or the month's last day when there is none) they
reach it on 28 February; under `mar1`, on 1 March.
"""

from __future__ import annotations

import datetime as dt
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


def age_on(birth: dt.date, day: dt.date, leap_day: LeapDay = "feb28") -> int:
    """Completed years of age on `day`."""
    years = day.year - birth.year
    return years if anniversary(birth, years, leap_day) <= day else years - 1


def births_reaching(years: int, first: dt.date, last: dt.date) -> tuple[dt.date, dt.date]:
    """A birth-date range that contains everyone reaching `years` between `first` and `last`
    (a day wider on each side for 29 February; filter exactly with `anniversary`)."""
    return _years_before(first, years) - dt.timedelta(days=1), _years_before(
        last, years
    ) + dt.timedelta(days=1)


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)
