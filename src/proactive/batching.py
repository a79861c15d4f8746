"""Work in slices: keys for one IN (...) query, rows for one bulk statement."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TypeVar

CHUNK = 900  # keys per IN (...) query: under every backend's bound-parameter limit

T = TypeVar("T")


def chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    """Keys in slices small enough for one IN (...) query."""
    for start in range(0, len(items), size):
        yield items[start : start + size]
