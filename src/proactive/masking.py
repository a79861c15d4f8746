"""Masking of sensitive personal information for logs, lists and pages."""

from __future__ import annotations


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
