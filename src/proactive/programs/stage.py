"""What every stage of a night's run works with: the window it covers and the context it
acts in. Plain values, shared by the stages in programs, certificates and field."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from proactive.programs.catalog import Program


@dataclass(frozen=True)
class Window:
    """What one run covers: birthdays from `first` to `last` (the run's date), and registry
    changes made by ingest runs after `since_ingest`."""

    first: dt.date
    last: dt.date
    since_ingest: int


@dataclass(frozen=True)
class Stage:
    """What every stage of a run works with."""

    programs: Mapping[str, Program]
    window: Window
    district: str
    run_id: int | None  # None in a dry run
    now: dt.datetime

    @property
    def actor(self) -> str:
        return f"run:{self.run_id}" if self.run_id else "run:dry"
