"""Commands for the field: task lists, visit outcomes, coverage and forecast."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from proactive import bootstrap
from proactive.cli.common import DateOption, UnmaskedOption, day_or_today, fail, group
from proactive.errors import ProactiveError
from proactive.field.task_states import FailReason
from proactive.output import Format, render
from proactive.settings import Settings

tasks_app = group(
    "Social workers' visits: the day's lists, and how each visit went.",
    invoke_without_command=True,
)


class SheetFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"
    html = "html"
    pdf = "pdf"


@tasks_app.callback()
def tasks_command(
    ctx: typer.Context,
    worker: Annotated[str | None, typer.Option(help="Only this social worker")] = None,
    site: Annotated[str | None, typer.Option(help="Only this site")] = None,
    date: DateOption = None,
    fmt: Annotated[
        SheetFormat, typer.Option("--format", help="table, csv, json, html or pdf")
    ] = SheetFormat.table,
    out: Annotated[Path | None, typer.Option(help="File for html or pdf")] = None,
    unmasked: UnmaskedOption = False,
) -> None:
    """The day's visits in route order (ID and phone numbers masked unless --unmasked)."""
    if ctx.invoked_subcommand:
        return
    from proactive.field import task_lists

    engine = bootstrap.engine(Settings.from_env())
    day = day_or_today(date)
    programs = bootstrap.programs()
    if fmt in (SheetFormat.html, SheetFormat.pdf):
        from proactive.field import sheets as task_sheet

        sheets = task_lists.sheets(engine, programs, worker, site, day, unmasked)
        target = out or Path(f"tasks-{day:%Y-%m-%d}.{fmt.value}")
        if fmt is SheetFormat.html:
            target.write_text(task_sheet.render_html(sheets), encoding="utf-8")
        else:
            target.write_bytes(task_sheet.render_pdf(sheets))
        print(f"{len(sheets)} task list(s), {sum(len(s.lines) for s in sheets)} visits: {target}")
        return
    records = task_lists.records(engine, programs, worker, site, day, unmasked)
    columns = task_lists.TABLE_COLUMNS if fmt is SheetFormat.table else task_lists.COLUMNS
    print(render(records, columns, Format(fmt.value), title="tasks"), end="")


@tasks_app.command("done")
def tasks_done(
    task_id: Annotated[int, typer.Argument(help="The task")],
    code: Annotated[str, typer.Option(help="The confirmation code the resident shows")],
    user: Annotated[str, typer.Option(help="Who reports it")] = "worker",
) -> None:
    """The visit happened: the resident's code closes the case."""
    from sqlalchemy.orm import Session

    from proactive.field import outcomes

    engine = bootstrap.engine(Settings.from_env())
    try:
        with Session(engine) as session, session.begin():
            outcomes.done(session, task_id, code, user, bootstrap.utc_now())
    except ProactiveError as error:
        raise fail(error) from error
    print(f"task {task_id} done; case closed")


@tasks_app.command("failed")
def tasks_failed(
    task_id: Annotated[int, typer.Argument(help="The task")],
    reason: Annotated[FailReason, typer.Option(help="Why the visit did not happen")],
    user: Annotated[str, typer.Option(help="Who reports it")] = "worker",
) -> None:
    """The visit did not happen: plan the next try, or end the case."""
    from sqlalchemy.orm import Session

    from proactive.field import outcomes

    settings = Settings.from_env()
    engine = bootstrap.engine(settings)
    try:
        with Session(engine, expire_on_commit=False) as session, session.begin():
            follow = outcomes.failed(
                session,
                bootstrap.programs(),
                task_id,
                reason,
                user,
                bootstrap.utc_now(),
                bootstrap.today_shanghai(),
                bootstrap.dispatcher(settings),
            )
    except ProactiveError as error:
        raise fail(error) from error
    if follow is None:
        print(
            f"task {task_id} failed ({reason.value}); {_after_failure(reason in outcomes.ENDING)}"
        )
    else:
        print(
            f"task {task_id} failed ({reason.value}); next visit: task {follow.id} on "
            f"{follow.day} by {follow.worker_id}"
        )


def _after_failure(ended: bool) -> str:
    if ended:
        return "case cancelled, its certificate voided"
    return "no next visit could be planned: the case waits for the next run's dispatch"


def coverage_command(
    out: Annotated[Path, typer.Option(help="Directory for the map (PNG) and the CSV")] = Path(
        "coverage"
    ),
    date: DateOption = None,
) -> None:
    """Map of the 15-minute circles and the homes outside them; uncovered homes by community."""
    from proactive.field import coverage

    settings = Settings.from_env()
    result = coverage.write_coverage(
        bootstrap.engine(settings), out, bootstrap.dispatcher(settings).walking, day_or_today(date)
    )
    print(
        f"homes {result.homes}: inside a circle {result.covered}, outside {result.uncovered}, "
        f"without coordinates {result.without_coordinates}"
    )
    print(f"map: {result.png}\nuncovered by community: {result.csv}")


def forecast_command(
    days: Annotated[int, typer.Option(help="How far ahead")] = 365,
    out: Annotated[Path, typer.Option(help="Directory for the charts and the CSV")] = Path(
        "forecast"
    ),
    date: DateOption = None,
) -> None:
    """From birth dates alone: the home visits of the catalog's programs per site and week (placed
    as dispatch places them), against capacity."""
    from proactive.field import forecast

    settings = Settings.from_env()
    result = forecast.write_forecast(
        bootstrap.engine(settings),
        out,
        day_or_today(date),
        days,
        bootstrap.dispatcher(settings),
        bootstrap.programs(),
        settings.district_code,
    )
    print(f"{forecast.summary(result)} in the next {days} days")
    for street, chart in result.charts.items():
        print(f"  {street}: {chart}")
    print(f"per site and week: {result.csv}")


def register(app: typer.Typer) -> None:
    app.add_typer(tasks_app, name="tasks")
    app.command("coverage")(coverage_command)
    app.command("forecast")(forecast_command)
