"""What every command shares: output options, the date option, one-line errors."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer
from rich.console import Console

from proactive import bootstrap
from proactive.errors import ProactiveError
from proactive.output import Format

err = Console(stderr=True)

FormatOption = Annotated[Format, typer.Option("--format", help="table, csv or json")]
UnmaskedOption = Annotated[bool, typer.Option(help="Show full ID and phone numbers")]
DateOption = Annotated[
    str | None, typer.Option("--date", help="YYYY-MM-DD (default: today, Asia/Shanghai)")
]


def day_or_today(value: str | None) -> dt.date:
    return dt.date.fromisoformat(value) if value else bootstrap.today_shanghai()


def fail(error: ProactiveError) -> typer.Exit:
    """A one-line error on stderr, exit status 2."""
    err.print(f"error: {error}", markup=False, highlight=False, soft_wrap=True)
    return typer.Exit(code=2)
