"""Masking of sensitive personal information for logs, lists and pages."""

from __future__ import annotations

import re


def mask_id(value: str) -> str:
    """First 6 and last 4 characters of an ID number; the rest as '*'."""
    if len(value) <= 10:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def mask_phone(value: str) -> str:
    """+8613812345678 -> +86138****5678: the carrier prefix and last 4 digits stay."""
    if len(value) < 8:
        return "*" * len(value)
    head = 6 if value.startswith("+86") else 3
    return value[:head] + "*" * (len(value) - head - 4) + value[-4:]


def mask_name(value: str) -> str:
    """张三丰 -> 张**: the family name stays (characters, not UTF-16 units: 𠮷 is one)."""
    return value[:1] + "*" * (len(value) - 1)


def mask_address(value: str) -> str:
    """浙江省杭州市滨江区西兴街道江汉路1785号… -> 浙江省杭州市滨江区西兴街道*****…: the text up to
    the street (街道, 镇 or 乡) stays, the rest as '*'; with no street, the first 3 characters."""
    street = re.match(r".*?(?:街道|镇|乡)", value)
    keep = street.end() if street else min(3, len(value))
    return value[:keep] + "*" * (len(value) - keep)


# A run of 7 to 18 digits (an X may end an ID number), optionally after '+', that is not part
# of a longer word: phone numbers, ID numbers, and nothing like a SID or a date.
_LONG_NUMBER = re.compile(r"(?<![0-9A-Za-z+])\+?[0-9]{7,17}[0-9Xx]?(?![0-9A-Za-z])")


def mask_numbers(text: str) -> str:
    """Every ID or phone number quoted in free text (database and provider error messages)
    masked: 15 digits or more as an ID number, fewer as a phone number."""

    def masked(match: re.Match[str]) -> str:
        number = match.group()
        return mask_id(number) if len(number.lstrip("+")) >= 15 else mask_phone(number)

    return _LONG_NUMBER.sub(masked, text)
