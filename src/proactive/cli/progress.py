"""Progress on a terminal: while the work runs, a line per stage on stderr, with a bar, done of
N and the time left where the total is known, and the stage's figures once it ends; the lines
give way to the command's summary at the end. When stdout or stderr is not a terminal (cron,
systemd, a pipe), nothing is drawn: the summary says what happened, one line a stage.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    Task,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Column
from rich.text import Text

from proactive import progress
from proactive.cli.common import err


@contextmanager
def shown(console: Console = err) -> Iterator[progress.Progress]:
    """Bars while the block runs, if a person is watching; otherwise progress.SILENT."""
    if not (sys.stdout.isatty() and console.is_terminal):
        yield progress.SILENT
        return
    columns = (
        SpinnerColumn(finished_text="✓"),
        TextColumn("{task.description}", table_column=Column(width=22, no_wrap=True)),
        BarColumn(bar_width=20),
        _DoneOfTotal(table_column=Column(width=13, justify="right", no_wrap=True)),
        TimeRemainingColumn(elapsed_when_finished=True),
        TextColumn(
            "{task.fields[counts]}", table_column=Column(no_wrap=True, ratio=1, overflow="ellipsis")
        ),
    )
    with Progress(*columns, console=console, transient=True, expand=True) as bars:
        yield Bars(bars)


class Bars:
    """progress.Progress drawn with rich: one task a stage."""

    def __init__(self, bars: Progress) -> None:
        self._bars = bars
        self._stages: dict[str, TaskID] = {}

    def begin(self, stage: str, total: int | None = None) -> None:
        if stage in self._stages:
            self._bars.update(self._stages[stage], total=total, counted=total is not None)
            return
        task = self._bars.add_task(stage, total=total, counts="", counted=total is not None)
        self._stages[stage] = task

    def advance(self, stage: str, done: int = 1) -> None:
        self._bars.advance(self._stages[stage], done)

    def end(self, stage: str, counts: Mapping[str, object]) -> None:
        if stage not in self._stages:
            self.begin(stage)
        task = self._stages[stage]
        total = self._bars.tasks[task].total  # a counted stage keeps its N; others become 1/1
        self._bars.update(
            task,
            total=total or 1,
            completed=total or 1,
            counted=bool(total),
            counts=progress.counts_text(brief(counts)),
        )


def brief(counts: Mapping[str, object]) -> dict[str, object]:
    """A stage's figures for one line of a terminal: without the zeros and the seconds (the
    line shows the time), and `opened:senior_certificate=30, opened:high_age_allowance=3`
    summed into `opened=33`."""
    shown: dict[str, object] = {}
    for name, value in counts.items():
        if name == "seconds" or value == 0:
            continue
        kind = name.partition(":")[0]
        if kind != name and isinstance(value, int):
            before = shown.get(kind, 0)
            shown[kind] = (before if isinstance(before, int) else 0) + value
        else:
            shown[name] = value
    return shown


class _DoneOfTotal(ProgressColumn):
    """`39/45` for a stage that knows its total; nothing for one that does not."""

    def render(self, task: Task) -> Text:
        if not task.fields.get("counted") or task.total is None:
            return Text("")
        return Text(f"{int(task.completed)}/{int(task.total)}")
