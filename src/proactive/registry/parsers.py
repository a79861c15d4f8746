"""Vectorised parsers for extract columns. Pure: pandas Series in, values and problems out.

Each parser takes the raw text of one column (blank cells are empty strings) and returns the
normalised values with, per row, the `Reason` a non-blank value was refused for (or None).
Blank cells are the caller's business: a parser never reports a problem for them.

Every parser but `text` reads codes, numbers, dates or fixed words, and first folds them with
Unicode NFKC (full-width digits and letters, as Chinese input methods type them, become ASCII);
patterns then accept ASCII digits only (`[0-9]`, not `\\d`, which takes any script's digits).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import phonenumbers
from stdnum.cn import ric

from proactive.registry import reasons
from proactive.registry.reasons import Reason

# China's extent, generous: a coordinate outside it is a data error, not a remote village.
LAT_RANGE = (18.0, 54.0)
LON_RANGE = (73.0, 135.0)
_CN_METADATA: Any = phonenumbers.PhoneMetadata.metadata_for_region("CN")
_CN_MOBILE: str = _CN_METADATA.mobile.national_number_pattern
_TRUE = {"1", "true", "t", "yes", "y", "是"}
_FALSE = {"0", "false", "f", "no", "n", "否"}


@dataclass(frozen=True)
class Parsed:
    values: pd.Series
    problems: pd.Series  # Reason or None per row

    @property
    def bad(self) -> pd.Series:
        return self.problems.notna()


Parser = Callable[[pd.Series], Parsed]


def _none(index: pd.Index) -> pd.Series:
    return pd.Series(np.full(len(index), None, dtype=object), index=index, dtype=object)


def _problems(index: pd.Index, mask: pd.Series | np.ndarray, reason: Reason) -> pd.Series:
    out = _none(index)
    out[np.asarray(mask, dtype=bool)] = reason
    return out


def _first_problem(index: pd.Index, *checks: tuple[pd.Series, Reason]) -> pd.Series:
    """Per row, the reason of the first failing check."""
    out = _none(index)
    for mask, reason in reversed(checks):
        out[np.asarray(mask, dtype=bool)] = reason
    return out


def blank(raw: pd.Series) -> pd.Series:
    return raw.str.strip() == ""


# C0 and C1 control characters; the whitespace ones among them become a space.
CONTROLS = r"[\x00-\x1f\x7f-\x9f]"
_SPACING_CONTROLS = r"[\t\n\r\x0b\x0c]+"


def without_controls(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    """The text with control characters removed (NUL never reaches a database), and which rows
    had any. Line breaks and tabs become a space."""
    found = raw.str.contains(CONTROLS, regex=True)
    if not found.any():
        return raw, found
    cleaned = raw.copy()
    spaced = raw[found].str.replace(_SPACING_CONTROLS, " ", regex=True)
    cleaned[found] = spaced.str.replace(CONTROLS, "", regex=True)
    return cleaned, found


def folded(raw: pd.Series) -> pd.Series:
    """Trimmed and NFKC-normalised (only non-ASCII values need it)."""
    s = raw.str.strip()
    wide = ~s.str.isascii()
    if wide.any():
        s = s.copy()
        s[wide] = s[wide].str.normalize("NFKC").str.strip()
    return s


def upgrade_legacy_id(number: str) -> str:
    """A 15-digit (pre-1999) ID number as its 18-digit form: century 19 and a check digit."""
    body = number[:6] + "19" + number[6:]
    return body + ric.calc_check_digit(body + "0")


def id_key(raw: pd.Series) -> pd.Series:
    """The canonical form used as a key: folded, upper case, 15-digit numbers upgraded."""
    s = folded(raw).str.upper()
    legacy = s.str.fullmatch(r"[0-9]{15}")
    if legacy.any():
        s = s.copy()
        s[legacy] = pd.Series([upgrade_legacy_id(v) for v in s[legacy]], index=s.index[legacy])
    return s


def id_number(raw: pd.Series) -> Parsed:
    """GB 11643 citizen ID numbers, check digit by ISO 7064 MOD 11-2 (python-stdnum)."""
    s = id_key(raw)
    well_formed = s.str.fullmatch(r"[0-9]{17}[0-9X]")
    checksum_ok = pd.Series(
        [
            well and ric.calc_check_digit(v) == v[-1]
            for v, well in zip(s.tolist(), well_formed.tolist(), strict=True)
        ],
        index=s.index,
        dtype=bool,
    )
    birth = pd.to_datetime(s.str.slice(6, 14), format="%Y%m%d", errors="coerce")
    problems = _first_problem(
        s.index,
        (~well_formed, reasons.ID_FORMAT),
        (~checksum_ok, reasons.ID_CHECKSUM),
        (birth.isna(), reasons.ID_BIRTH_DATE),
    )
    return Parsed(s, problems)


def id_birth_date(ids: pd.Series) -> pd.Series:
    return pd.to_datetime(ids.str.slice(6, 14), format="%Y%m%d", errors="coerce")


def id_sex(ids: pd.Series) -> pd.Series:
    """'M' or 'F' from the 17th digit (odd is male)."""
    digit = pd.to_numeric(ids.str.slice(16, 17), errors="coerce")
    return pd.Series(np.where(digit % 2 == 1, "M", "F"), index=ids.index)


def date(raw: pd.Series) -> Parsed:
    s = folded(raw)
    shaped = s.str.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
    values = pd.to_datetime(s.where(shaped), format="%Y-%m-%d", errors="coerce")
    return Parsed(values, _problems(s.index, values.isna(), reasons.BAD_DATE))


def timestamp(raw: pd.Series) -> Parsed:
    """ISO 8601 local times (Asia/Shanghai, no offset): date, optionally 'T' or ' ' and time."""
    s = folded(raw)
    shaped = s.str.fullmatch(
        r"[0-9]{4}-[0-9]{2}-[0-9]{2}(?:[ T][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,6})?)?)?"
    )
    values = pd.to_datetime(s.where(shaped), format="ISO8601", errors="coerce")
    return Parsed(values, _problems(s.index, values.isna(), reasons.BAD_DATETIME))


def sex(raw: pd.Series) -> Parsed:
    s = folded(raw)
    values = s.map({"男": "M", "女": "F"})
    return Parsed(values, _problems(s.index, values.isna(), reasons.BAD_SEX))


def enum(*allowed: str) -> Parser:
    def parse(raw: pd.Series) -> Parsed:
        s = folded(raw)
        return Parsed(s, _problems(s.index, ~s.isin(allowed), reasons.BAD_ENUM))

    return parse


def text(max_length: int) -> Parser:
    """Free text, trimmed. Never Unicode-normalised: NFC would rewrite CJK compatibility
    ideographs, and a name must keep every character it was registered with."""

    def parse(raw: pd.Series) -> Parsed:
        s = raw.str.strip()
        return Parsed(s, _problems(s.index, s.str.len() > max_length, reasons.TOO_LONG))

    return parse


def code(max_length: int) -> Parser:
    """Identifiers (household, site, worker, certificate numbers), folded: a full-width `Ｃ１`
    and `C1` are the same site."""

    def parse(raw: pd.Series) -> Parsed:
        s = folded(raw)
        return Parsed(s, _problems(s.index, s.str.len() > max_length, reasons.TOO_LONG))

    return parse


def _mobile_slow(value: str) -> str | None:
    try:
        number = phonenumbers.parse(value, "CN")
    except phonenumbers.NumberParseException:
        return None
    kind = phonenumbers.number_type(number)
    mobile_kinds = (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    )
    if not phonenumbers.is_valid_number(number) or kind not in mobile_kinds:
        return None
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


def mobile(raw: pd.Series) -> Parsed:
    """Chinese mobile numbers as E.164 (+86…).

    Numbers written plainly are matched against the phonenumbers library's own CN mobile
    pattern in one vectorised pass; anything else goes through phonenumbers.parse one by one.
    """
    s = folded(raw)
    digits = s.str.replace(r"[\s\-()]", "", regex=True).str.replace(
        r"^(?:\+86|0086|86)", "", regex=True
    )
    fast = digits.str.fullmatch(_CN_MOBILE) & digits.str.isascii()
    values = _none(s.index)
    values[fast] = "+86" + digits[fast]
    slow = ~fast & (s != "")
    if slow.any():
        values[slow] = [_mobile_slow(v) for v in s[slow]]
    return Parsed(values, _problems(s.index, values.isna(), reasons.BAD_MOBILE))


def division_code(raw: pd.Series) -> Parsed:
    s = folded(raw)
    return Parsed(s, _problems(s.index, ~s.str.fullmatch(r"[0-9]{12}"), reasons.BAD_DIVISION))


def _in_range(s: pd.Series, bounds: tuple[float, float]) -> tuple[pd.Series, pd.Series]:
    values = pd.to_numeric(folded(s), errors="coerce")
    return values, values.between(*bounds)


def coordinate(bounds: tuple[float, float]) -> Parser:
    def parse(raw: pd.Series) -> Parsed:
        values, ok = _in_range(raw, bounds)
        return Parsed(values, _problems(raw.index, ~ok, reasons.BAD_COORDS))

    return parse


latitude = coordinate(LAT_RANGE)
longitude = coordinate(LON_RANGE)


def count(raw: pd.Series) -> Parsed:
    s = folded(raw)
    ok = s.str.fullmatch(r"[0-9]{1,9}")
    values = pd.to_numeric(s.where(ok), errors="coerce")
    return Parsed(values, _problems(s.index, ~ok, reasons.BAD_INTEGER))


def boolean(raw: pd.Series) -> Parsed:
    s = folded(raw).str.lower()
    values = s.map(lambda v: True if v in _TRUE else False if v in _FALSE else None)
    return Parsed(values, _problems(s.index, values.isna(), reasons.BAD_BOOLEAN))
