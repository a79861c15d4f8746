import datetime as dt

import pytest

from proactive.ages import age_on, anniversary, births_reaching

D = dt.date


@pytest.mark.parametrize(
    ("birth", "years", "convention", "expected"),
    [
        (D(1966, 11, 25), 60, "feb28", D(2026, 11, 25)),
        (D(1964, 2, 29), 60, "feb28", D(2024, 2, 29)),  # leap year: the day itself
        (D(1964, 2, 29), 61, "feb28", D(2025, 2, 28)),  # common year: the month's last day
        (D(1964, 2, 29), 61, "mar1", D(2025, 3, 1)),
        (D(1964, 2, 29), 62, "mar1", D(2026, 3, 1)),
        (D(1964, 2, 28), 61, "mar1", D(2025, 2, 28)),
    ],
)
def test_anniversary(birth: dt.date, years: int, convention: str, expected: dt.date) -> None:
    assert anniversary(birth, years, convention) == expected  # type: ignore[arg-type]


def test_age_on_around_a_leap_birthday() -> None:
    birth = D(1964, 2, 29)
    assert age_on(birth, D(2025, 2, 27)) == 60
    assert age_on(birth, D(2025, 2, 28)) == 61
    assert age_on(birth, D(2025, 2, 28), "mar1") == 60
    assert age_on(birth, D(2025, 3, 1), "mar1") == 61


def test_birth_range_covers_every_anniversary_in_the_window() -> None:
    first, last = D(2025, 2, 20), D(2025, 3, 5)
    low, high = births_reaching(61, first, last)
    day = D(1963, 1, 1)
    while day < D(1965, 1, 1):
        for convention in ("feb28", "mar1"):
            if first <= anniversary(day, 61, convention) <= last:  # type: ignore[arg-type]
                assert low <= day <= high
        day += dt.timedelta(days=1)
