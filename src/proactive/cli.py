"""The command line: parse, call a use case, print. Nothing else lives here."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress

from proactive import bootstrap, demo, ingest, quarantine, report, synth
from proactive.errors import ProactiveError
from proactive.output import Format, render
from proactive.settings import Settings

app = typer.Typer(
    help="proactive: community services that come to the resident.", no_args_is_help=True
)
db_app = typer.Typer(help="Database schema.")
app.add_typer(db_app, name="db")
err = Console(stderr=True)

FormatOption = Annotated[Format, typer.Option("--format", help="table, csv or json")]


def _fail(error: ProactiveError) -> typer.Exit:
    err.print(f"error: {error}", markup=False, highlight=False)
    return typer.Exit(code=2)


@app.command("ingest")
def ingest_command(
    path: Annotated[
        Path, typer.Argument(help="Extract directory (persons.csv, households.csv, ...)")
    ],
    encoding: Annotated[
        str | None, typer.Option(help="utf-8 or gb18030; detected when omitted")
    ] = None,
    report_dir: Annotated[
        Path, typer.Option(help="Where summary.json and quarantine.csv go")
    ] = Path("reports"),
) -> None:
    """Load a shared-data extract into the registry (one transaction)."""
    settings = Settings.from_env()
    engine = bootstrap.engine(settings)
    options = ingest.IngestOptions(encoding=encoding, column_map=bootstrap.column_map(settings))
    try:
        with Progress(console=err, transient=True) as progress:
            task = progress.add_task("ingest", total=None)
            summary = ingest.ingest(
                engine,
                path,
                bootstrap.utc_now,
                options,
                on_file=lambda f: progress.update(task, description=f),
            )
    except ProactiveError as error:
        raise _fail(error) from error
    where = report.write_report(summary, report_dir)
    print(demo.summary_text(summary))
    print(f"report: {where}")


@app.command("quarantine")
def quarantine_command(
    fmt: FormatOption = Format.table,
    run: Annotated[int | None, typer.Option(help="Ingest run (default: the latest)")] = None,
    warnings: Annotated[bool, typer.Option(help="Also list rows loaded with a warning")] = False,
    unmasked: Annotated[bool, typer.Option(help="Show full ID and phone numbers")] = False,
) -> None:
    """List rejected extract rows with their reasons (ID numbers masked)."""
    engine = bootstrap.engine(Settings.from_env())
    records = quarantine.list_issues(engine, run, warnings, unmasked)
    print(render(records, quarantine.COLUMNS, fmt, title="quarantine"), end="")


@app.command("synth")
def synth_command(
    out: Annotated[Path, typer.Option(help="Directory to write the extract to")],
    residents: Annotated[int, typer.Option(help="Number of residents")] = 2000,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same extract)")] = 20261125,
    date: Annotated[str | None, typer.Option(help="As-of date YYYY-MM-DD (default today)")] = None,
    turning_60: Annotated[int, typer.Option(help="People whose 60th birthday is the date")] = 12,
) -> None:
    """Write a synthetic Binjiang extract."""
    as_of = dt.date.fromisoformat(date) if date else bootstrap.today_shanghai()
    options = synth.SynthOptions(residents=residents, seed=seed, as_of=as_of, turning_60=turning_60)
    counts = synth.write_extract(out, options)
    print(
        f"wrote {counts.persons} persons, {counts.households} households, "
        f"{counts.permits} residence permits ({counts.bad_rows} bad rows) to {out}"
    )


@app.command("demo")
def demo_command(
    workdir: Annotated[Path, typer.Option(help="Where the demo extract and reports go")] = Path(
        "demo"
    ),
    residents: Annotated[int, typer.Option(help="Number of residents")] = 5000,
) -> None:
    """Generate a Binjiang extract, load it, and show what came in."""
    settings = Settings.from_env()
    engine = bootstrap.engine(settings)
    print(demo.run(engine, workdir, residents, bootstrap.today_shanghai(), bootstrap.utc_now))


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Migrate the database to the latest schema."""
    bootstrap.engine(Settings.from_env())
    print("database at head")
