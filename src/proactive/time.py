"""Time, one way for the whole project: the `Clock` every use case is given and the
district's zone. The wall clock itself is read only by the composition root (bootstrap).

Code under test never reads the wall clock: it is passed a `Clock` (a function returning an
aware UTC datetime), so tests pin it and run the same at any date and hour.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from zoneinfo import ZoneInfo

Clock = Callable[[], dt.datetime]  # returns an aware UTC datetime

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local_date(moment: dt.datetime) -> dt.date:
    """The calendar day in Shanghai at `moment`."""
    return moment.astimezone(SHANGHAI).date()


def local_text(moment: dt.datetime | None) -> str:
    """An aware moment as Shanghai wall time, `2026-11-25 02:00:03`; "" for none."""
    return "" if moment is None else moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")
