"""The working-day calendar: holidays and make-up working days, and unknown years."""

import datetime as dt
import itertools
import logging

import pytest

from proactive.field.workdays import ChinaCalendar, first_workday, workdays_from

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
