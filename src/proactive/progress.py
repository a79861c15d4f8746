"""How long work tells someone how far it has got, without knowing who listens.

A use case calls these three methods; the command line draws them as bars on a terminal, and
nothing at all when its output goes to a log (cron, systemd), where the summary it prints at
the end says what happened. Use cases take `SILENT` unless given another.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol


class Progress(Protocol):
    def begin(self, stage: str, total: int | None = None) -> None:
        """`stage` starts, or learns how many units (files, certificates) it has in all."""

    def advance(self, stage: str, done: int = 1) -> None:
        """`done` more units of `stage` are finished."""

    def end(self, stage: str, counts: Mapping[str, object]) -> None:
        """`stage` is over; `counts` says what it did."""


class Silent:
    """Progress nobody watches."""

    def begin(self, stage: str, total: int | None = None) -> None:
        pass

    def advance(self, stage: str, done: int = 1) -> None:
        pass

    def end(self, stage: str, counts: Mapping[str, object]) -> None:
        pass


SILENT: Progress = Silent()


def counts_text(counts: Mapping[str, object]) -> str:
    """A stage's figures as one line: `candidates=52, approved=45`."""
    return ", ".join(f"{name}={value}" for name, value in counts.items())
