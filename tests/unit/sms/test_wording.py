"""SMS wording and length as carriers count it."""

import datetime as dt

from proactive.registry.resident import HukouRecord, Resident
from proactive.sms.wording import greeting, half_day, length, recipient, segments, visit_date

RECORD = HukouRecord("𠮷田", "男", dt.date(1966, 11, 25), "active", None, "330108002001")


def test_length_counts_utf16_units() -> None:
    assert length("王芳") == 2 and length("𠮷") == 2 and length("a𠮷b") == 4


def test_segments_ucs2_and_gsm() -> None:
    assert segments("好" * 70) == 1 and segments("好" * 71) == 2
    assert segments("好" * 134) == 2 and segments("好" * 135) == 3
    assert segments("好" * 69 + "𠮷") == 2  # 71 units: the rare character counts twice
    assert segments("a" * 160) == 1 and segments("a" * 161) == 2


def test_recipient_own_then_family_then_none() -> None:
    own = Resident("X", hukou=RECORD, mobile="+8613800138000")
    family = Resident("X", hukou=RECORD, household_mobiles=("+8613900139000",))
    nobody = Resident("X", hukou=RECORD)
    assert recipient(own) is not None and recipient(own).own  # type: ignore[union-attr]
    to_family = recipient(family)
    assert to_family is not None and (to_family.number, to_family.own) == ("+8613900139000", False)
    assert recipient(nobody) is None
    assert greeting(own, recipient(own)) == ("𠮷田", "您")  # type: ignore[arg-type]
    assert greeting(family, to_family) == ("家属", "您家人𠮷某某")


def test_dates_and_half_days() -> None:
    assert visit_date(dt.date(2026, 11, 27)) == "11月27日（周五）"
    assert half_day("09:00–10:00") == "上午" and half_day("13:00–14:00") == "下午"


def test_quiet_hours_push_sending_to_eight_in_the_morning() -> None:
    from proactive.sms.wording import afternoon_before, is_quiet, sendable_from

    two_am = dt.datetime(2026, 11, 25, 18, 0, tzinfo=dt.UTC)  # 02:00 in Shanghai
    assert is_quiet(two_am, "21:00-08:00")
    assert sendable_from(two_am, "21:00-08:00") == dt.datetime(2026, 11, 26, 0, 0, tzinfo=dt.UTC)
    ten_pm = dt.datetime(2026, 11, 25, 14, 0, tzinfo=dt.UTC)  # 22:00 in Shanghai
    assert sendable_from(ten_pm, "21:00-08:00") == dt.datetime(2026, 11, 26, 0, 0, tzinfo=dt.UTC)
    noon = dt.datetime(2026, 11, 26, 4, 0, tzinfo=dt.UTC)
    assert not is_quiet(noon, "21:00-08:00") and sendable_from(noon, "21:00-08:00") == noon
    assert is_quiet(noon, "12:00-13:00")
    assert afternoon_before(dt.date(2026, 11, 27)) == dt.datetime(2026, 11, 26, 7, tzinfo=dt.UTC)
