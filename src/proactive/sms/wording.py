"""What a resident's SMS says and to whom, as pure functions: the recipient, the words that
depend on it, the visit's date and half-day, and the length as carriers count it."""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass

from proactive.masking import mask_name
from proactive.registry.resident import Resident
from proactive.time import SHANGHAI

WEEKDAYS = "一二三四五六日"
UCS2_SINGLE, UCS2_PART = 70, 67  # characters (UTF-16 units) in one segment / per part
GSM_SINGLE, GSM_PART = 160, 153
MAX_SEGMENTS = 2  # our own cap; Twilio's for mainland China is 8 segments / 500 characters
_GSM = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)


@dataclass(frozen=True)
class Recipient:
    number: str  # E.164
    own: bool  # the resident's own phone, or a family member's


def recipient(resident: Resident) -> Recipient | None:
    """The resident's own mobile; else a household member's (the eldest first, standing in for
    the household head, whom the extract does not name); else nobody."""
    if resident.mobile:
        return Recipient(resident.mobile, True)
    if resident.household_mobiles:
        return Recipient(resident.household_mobiles[0], False)
    return None


def greeting(resident: Resident, to: Recipient) -> tuple[str, str]:
    """(addressee, subject): 王芳 / 您, or to the family: 您好 / 您家人王某某."""
    if to.own:
        return resident.name, "您"
    return "家属", f"您家人{resident.name[:1]}某某"


def mask_addressee(body: str) -> str:
    """A message as lists show it: the addressee's name masked (【滨江区民政】王**，您好！…)."""
    return re.sub(r"(?<=】)([^，】]+)(?=，您好)", lambda m: mask_name(m.group()), body, count=1)


def visit_date(day: dt.date) -> str:
    return f"{day.month}月{day.day}日（周{WEEKDAYS[day.weekday()]}）"


def half_day(window: str) -> str:
    """上午 before noon, 下午 after, from a window such as "13:00–14:00"."""
    hour = int(window[:2]) if window[:2].isdigit() else 9
    return "上午" if hour < 12 else "下午"


def length(text: str) -> int:
    """UTF-16 code units, as carriers count: 𠮷 (outside the BMP) counts 2."""
    return len(text.encode("utf-16-le")) // 2


def segments(text: str) -> int:
    """Parts a carrier splits the text into: GSM-7 alphabet 160/153, otherwise UCS-2 70/67."""
    units = length(text)
    single, part = (GSM_SINGLE, GSM_PART) if set(text) <= _GSM else (UCS2_SINGLE, UCS2_PART)
    return 1 if units <= single else math.ceil(units / part)


def quiet_bounds(quiet_hours: str) -> tuple[dt.time, dt.time] | None:
    """ "21:00-08:00" -> (21:00, 08:00); "" or equal ends: no quiet hours."""
    if not quiet_hours.strip():
        return None
    start, end = (dt.time.fromisoformat(part.strip()) for part in quiet_hours.split("-"))
    return None if start == end else (start, end)


def is_quiet(moment: dt.datetime, quiet_hours: str) -> bool:
    bounds = quiet_bounds(quiet_hours)
    if bounds is None:
        return False
    start, end = bounds
    local = moment.astimezone(SHANGHAI).time()
    return (start <= local or local < end) if start > end else (start <= local < end)


def sendable_from(moment: dt.datetime, quiet_hours: str) -> dt.datetime:
    """`moment`, or the end of the quiet hours it falls in (Asia/Shanghai); aware UTC."""
    bounds = quiet_bounds(quiet_hours)
    if bounds is None or not is_quiet(moment, quiet_hours):
        return moment.astimezone(dt.UTC)
    local = moment.astimezone(SHANGHAI)
    candidate = local.replace(hour=bounds[1].hour, minute=bounds[1].minute, second=0, microsecond=0)
    if candidate <= local:
        candidate += dt.timedelta(days=1)
    return candidate.astimezone(dt.UTC)


def afternoon_before(day: dt.date, hour: int = 15) -> dt.datetime:
    """15:00 Asia/Shanghai on the day before `day`: when a visit's reminder goes."""
    local = dt.datetime.combine(day - dt.timedelta(days=1), dt.time(hour), SHANGHAI)
    return local.astimezone(dt.UTC)
