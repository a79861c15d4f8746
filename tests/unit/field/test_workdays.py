"""The working-day calendar: holidays and make-up working days, and unknown years."""

import datetime as dt
import itertools
import logging
from pathlib import Path

import pytest

from proactive.field.workdays import (
    ChinaCalendar,
    HolidayFileError,
    first_workday,
    load_holidays,
    workdays_from,
)
from proactive.settings import ROOT

D = dt.date


def test_national_day_holidays_and_a_make_up_saturday() -> None:
    calendar = ChinaCalendar()
    assert not calendar.is_workday(D(2026, 10, 1))  # National Day
    assert not calendar.is_workday(D(2026, 10, 7))
    assert calendar.is_workday(D(2026, 2, 28))  # a Saturday worked to make up Spring Festival
    assert calendar.is_workday(D(2026, 1, 4))  # a Sunday worked after New Year's Day
    assert first_workday(calendar, D(2026, 10, 1)) == D(2026, 10, 8)
    assert first_workday(calendar, D(2026, 2, 28)) == D(2026, 2, 28)


def test_working_days_run_in_order_across_a_holiday() -> None:
    days = list(itertools.islice(workdays_from(ChinaCalendar(), D(2026, 9, 29)), 4))
    assert days == [D(2026, 9, 29), D(2026, 9, 30), D(2026, 10, 8), D(2026, 10, 9)]


def test_unknown_year_falls_back_to_weekdays_with_one_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    calendar = ChinaCalendar()
    with caplog.at_level(logging.WARNING):
        assert calendar.is_workday(D(2030, 1, 7))  # a Monday
        assert not calendar.is_workday(D(2030, 1, 5))  # a Saturday
    assert calendar.guessed_years == {2030}
    assert caplog.text.count("calendar.year_unknown") == 1


HOLIDAYS = """
[2027]
notice = "a notice of the State Council (test data, not the real 2027 dates)"
holidays = ["2027-02-08", "2027-02-09"]
workdays = ["2027-02-20"]

[2026]
notice = "a correction entered by the district (test data)"
holidays = ["2026-11-26"]
"""


def test_entered_years_take_precedence_over_the_package(tmp_path: Path) -> None:
    path = tmp_path / "holidays.toml"
    path.write_text(HOLIDAYS, encoding="utf-8")
    calendar = ChinaCalendar(load_holidays(path))
    assert not calendar.is_workday(D(2027, 2, 8))  # a Monday off
    assert calendar.is_workday(D(2027, 2, 20))  # a Saturday worked
    assert calendar.is_workday(D(2027, 2, 10)) and not calendar.is_workday(D(2027, 2, 21))
    assert not calendar.is_workday(D(2026, 11, 26))  # the file wins over chinesecalendar
    assert calendar.is_workday(D(2026, 11, 27))
    assert calendar.guessed_years == set()


def test_the_shipped_file_is_valid_and_documents_the_format() -> None:
    path = ROOT / "jobs" / "holidays.toml"
    assert all(year.notice for year in load_holidays(path).values())
    assert "[2027]" in path.read_text(encoding="utf-8")  # the commented example


@pytest.mark.parametrize(
    "text",
    [
        '[2027]\nholidays = ["2027-02-08"]',  # no notice
        '[2027]\nnotice = "n"\nholidays = ["2028-02-08"]',  # another year
        '[2027]\nnotice = "n"\nholidays = ["2027-02-08"]\nworkdays = ["2027-02-08"]',
        '[2027]\nnotice = "n"\nholidays = "2027-02-08"',
        "[2027",
    ],
)
def test_a_bad_holiday_file_is_a_one_line_error(tmp_path: Path, text: str) -> None:
    path = tmp_path / "holidays.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(HolidayFileError, match=r"The holiday file is not valid: .*holidays.toml"):
        load_holidays(path)


def test_the_unknown_year_warning_says_what_to_add(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        ChinaCalendar().is_workday(D(2031, 3, 3))
    (record,) = [r for r in caplog.records if r.getMessage() == "calendar.year_unknown"]
    assert "add a [2031] table (notice, holidays, workdays) to jobs/holidays.toml" in str(
        record.__dict__["fix"]
    )
