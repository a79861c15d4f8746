import datetime as dt

import pytest

from proactive.programs.ages import anniversary, births_reaching

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


def test_a_leap_birthday_falls_on_28_february_or_1_march_of_a_common_year() -> None:
    birth = D(1964, 2, 29)
    assert anniversary(birth, 61, "feb28") == D(2025, 2, 28)
    assert anniversary(birth, 61, "mar1") == D(2025, 3, 1)
    assert anniversary(birth, 60, "mar1") == D(2024, 2, 29)


@pytest.mark.parametrize(
    ("first", "last"),
    [
        (D(2025, 2, 20), D(2025, 3, 5)),
        (D(2025, 2, 28), D(2025, 2, 28)),
        (D(2025, 3, 1), D(2025, 3, 1)),
        (D(2026, 11, 25), D(2026, 11, 25)),
        (D(2024, 2, 29), D(2024, 2, 29)),
    ],
)
def test_birth_range_is_exactly_the_anniversaries_in_the_window(
    first: dt.date, last: dt.date
) -> None:
    births = births_reaching(61, first, last)
    day = D(1962, 1, 1)
    while day < D(1965, 1, 1):
        selected = births.low <= day <= births.high or day in births.leap_days
        reaching = {anniversary(day, 61, c) for c in ("feb28", "mar1")}  # type: ignore[arg-type]
        assert selected == any(first <= r <= last for r in reaching), day
        day += dt.timedelta(days=1)
