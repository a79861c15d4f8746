"""What every command shares: output options, the date option, one-line errors."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import typer
from rich.console import Console
from typer.core import TyperGroup

from proactive import bootstrap
from proactive.errors import ProactiveError
from proactive.output import Format
from proactive.settings import Settings

err = Console(stderr=True)


def group(help: str, **options: Any) -> typer.Typer:
    """A command group whose help is click's plain text: rich help would import rich.markdown
    and markdown-it, about 0.1 s on every `--help` (bench/cli_bench.py measures it)."""
    return typer.Typer(help=help, rich_markup_mode=None, **options)


FormatOption = Annotated[Format, typer.Option("--format", help="table, csv or json")]
UnmaskedOption = Annotated[bool, typer.Option(help="Show full ID and phone numbers")]
DateOption = Annotated[
    str | None, typer.Option("--date", help="YYYY-MM-DD (default: today, Asia/Shanghai)")
]


class BadDate(ProactiveError):
    """Not a date"""


DeltaOption = Annotated[
    bool,
    typer.Option(
        "--delta",
        help="The extract holds only changed rows (every file optional); "
        "also implied by a file named DELTA in the directory",
    ),
]


def day_or_today(value: str | None, option: str = "--date") -> dt.date:
    """The date given as YYYY-MM-DD, or today in Shanghai; a BadDate names the option."""
    if not value:
        return bootstrap.today_shanghai()
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise BadDate(f"{option} {value!r}: expected a real day as YYYY-MM-DD") from None


class OneLineErrors(TyperGroup):
    """The application's command group: settings are checked before any command runs, and a
    ProactiveError from any command (or a query meeting a missing table) becomes
    `error: ...` and exit status 2, never a traceback; the database engines the command built
    are closed when it ends."""

    def invoke(self, ctx: Any) -> Any:  # typer's vendored click.Context
        try:
            Settings.from_env()
            return super().invoke(ctx)
        except ProactiveError as error:
            raise fail(error) from None
        except Exception as error:
            damage = bootstrap.schema_damage(error)
            if damage is None:
                raise
            raise fail(damage) from None
        finally:
            bootstrap.close_engines()


def fail(error: ProactiveError) -> typer.Exit:
    """A one-line error on stderr, exit status 2."""
    err.print(f"error: {error}", markup=False, highlight=False, soft_wrap=True)
    return typer.Exit(code=2)
