"""The command line: parse, call a use case, print. Nothing else lives here.

Each command imports its use cases itself, so `proactive --help` and the light commands do not
pay for pandas, ReportLab, OR-Tools or matplotlib (tests/unit/cli/test_imports.py keeps it so).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from proactive import bootstrap
from proactive.cli import certificates as cli_certificates
from proactive.cli import field as cli_field
from proactive.cli import sms as cli_sms
from proactive.cli import users as cli_users
from proactive.cli.common import (
    DateOption,
    DeltaOption,
    FormatOption,
    OneLineErrors,
    UnmaskedOption,
    day_or_today,
    err,
    fail,
    group,
)
from proactive.errors import ProactiveError
from proactive.output import Format, render
from proactive.settings import Settings

if TYPE_CHECKING:
    from collections import Counter

    from sqlalchemy import Engine

app = group(
    "proactive: community services that come to the resident.",
    cls=OneLineErrors,
    no_args_is_help=True,
)
db_app = group("Database schema.")
app.add_typer(db_app, name="db")
programs_app = group("The program catalog in jobs/.", invoke_without_command=True)
app.add_typer(programs_app, name="programs")
review_app = group("Cases waiting for a person's decision.")
app.add_typer(review_app, name="review")


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
    delta: DeltaOption = False,
    allow_older: Annotated[
        bool, typer.Option(help="Load files extracted before the ones last loaded (a rollback)")
    ] = False,
) -> None:
    """Load a shared-data extract into the registry (one transaction); a file extracted before
    the one last loaded into its table is refused, unless --allow-older."""
    from proactive.cli import progress
    from proactive.registry import ingest, report

    settings = Settings.from_env()
    engine = bootstrap.engine(settings)
    options = ingest.IngestOptions(
        encoding, bootstrap.column_map(settings), delta, allow_older=allow_older
    )
    try:
        with progress.shown() as shown:
            summary = ingest.ingest(engine, path, bootstrap.utc_now, options, shown)
    except ProactiveError as error:
        raise fail(error) from error
    where = report.write_report(summary, report_dir, engine)
    print(report.summary_text(summary))
    print(f"report: {where}")


@app.command("quarantine")
def quarantine_command(
    fmt: FormatOption = Format.table,
    run: Annotated[int | None, typer.Option(help="Ingest run (default: the latest)")] = None,
    warnings: Annotated[bool, typer.Option(help="Also list rows loaded with a warning")] = False,
    unmasked: UnmaskedOption = False,
) -> None:
    """List rejected extract rows with their reasons (ID numbers masked)."""
    from proactive.registry import quarantine

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
    from proactive.demo import synth

    as_of = day_or_today(date)
    options = synth.SynthOptions(residents=residents, seed=seed, as_of=as_of, turning_60=turning_60)
    counts = synth.write_extract(out, options)
    print(
        f"wrote {counts.persons} persons, {counts.households} households, "
        f"{counts.permits} residence permits ({counts.bad_rows} bad rows) to {out}"
    )


@app.command("demo")
def demo_command(
    workdir: Annotated[
        Path, typer.Option(help="The demo's own directory: extract, reports, demo.db, keys/")
    ] = Path("demo"),
    residents: Annotated[int, typer.Option(help="Number of residents")] = 5000,
    database: Annotated[
        str | None,
        typer.Option(help="Database URL (default sqlite:///WORKDIR/demo.db, never the configured)"),
    ] = None,
    key_dir: Annotated[
        Path | None, typer.Option(help="Signing key directory (default WORKDIR/keys)")
    ] = None,
    certificate_dir: Annotated[
        Path | None, typer.Option(help="Certificate PDFs (default WORKDIR/certificates)")
    ] = None,
) -> None:
    """Generate a Binjiang extract, load it, run the night, and show what came out, all in the
    demo's own directory: PROACTIVE_DATABASE_URL, PROACTIVE_KEY_DIR and
    PROACTIVE_CERTIFICATE_DIR are ignored unless given here as options."""
    import functools

    from proactive.certificates import keys
    from proactive.demo import run as demo

    settings = demo.confined(Settings.from_env(), workdir, database, key_dir, certificate_dir)
    workdir.mkdir(parents=True, exist_ok=True)
    engine = bootstrap.upgraded_engine(settings)
    confined_keys = Path(settings.key_dir)
    if not (confined_keys / keys.PRIVATE_FILE).exists():
        kid, _ = keys.init(confined_keys)
        print(f"created a demo signing key {kid.hex()} in {confined_keys}/")
    print(
        demo.run(
            engine,
            workdir,
            residents,
            bootstrap.today_shanghai(),
            bootstrap.utc_now,
            bootstrap.programs(),
            settings.district_code,
            bootstrap.issuer(settings),
            bootstrap.dispatcher(settings),
            keys.trusted_keys(confined_keys),
            functools.partial(_demo_sms, engine, settings, workdir / "sms.jsonl"),
        )
    )
    print(demo.accounts_text(engine, bootstrap.utc_now()))
    print(demo.environment_text(settings))


def _demo_sms(engine: Engine, settings: Settings, log_file: Path, at: dt.datetime) -> Counter[str]:
    """The demo's messages through the console backend, as if sent at `at`."""
    import dataclasses
    import threading

    from proactive.sms import backends as sms_backends
    from proactive.sms import sender as sms_worker

    backend = sms_backends.ConsoleBackend(log_file)
    unpaced = dataclasses.replace(settings, sms_rate="1000")  # nothing real is sent
    return sms_worker.run_worker(engine, backend, unpaced, lambda: at, True, threading.Event())


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Migrate the database to the latest schema (after each deploy, before the services start)."""
    from proactive import db

    engine = bootstrap.upgraded_engine(Settings.from_env())
    print(f"database at head ({', '.join(sorted(db.current_revisions(engine)))})")


@app.command("run")
def run_command(
    date: DateOption = None,
    dry_run: Annotated[bool, typer.Option(help="Report what would happen; change nothing")] = False,
    extract: Annotated[
        Path | None,
        typer.Option(help="Ingest this extract directory first (default PROACTIVE_EXTRACT_DIR)"),
    ] = None,
    delta: DeltaOption = False,
) -> None:
    """The nightly run, for every day since the last one: (ingest →) cancel → revoke → detect
    → verify → issue → dispatch → queue SMS."""
    from proactive.cli import progress
    from proactive.nightly.run import summary_text

    settings = Settings.from_env()
    engine = bootstrap.engine(settings)
    options = bootstrap.run_options(settings, day_or_today(date), dry_run, extract, delta=delta)
    try:
        with progress.shown() as shown:
            result = bootstrap.run_night(settings, engine, options, bootstrap.utc_now, shown)
    except ProactiveError as error:
        raise fail(error) from error
    print(summary_text(result))


@app.command("doctor")
def doctor_command() -> None:
    """Check what must hold between nights: every case terminal, queued or with one live
    visit; every active certificate's PDF present and unchanged; no orphan file; no queued
    message for a visit that is over. Exit 1 and a list when one fails."""
    from proactive.nightly import invariants

    settings = Settings.from_env()
    with bootstrap.engine(settings).connect() as conn:
        found = invariants.check_all(conn, bootstrap.file_store(settings))
    for violation in found:
        print(violation.line())
    if found:
        print(f"{len(found)} problem(s)")
        raise typer.Exit(code=1)
    print("all invariants hold")


@app.command("runs")
def runs_command(fmt: FormatOption = Format.table) -> None:
    """List past nightly runs."""
    from proactive.nightly import history

    engine = bootstrap.engine(Settings.from_env())
    print(render(history.list_runs(engine), history.COLUMNS, fmt, title="runs"), end="")


@app.command("cases")
def cases_command(
    fmt: FormatOption = Format.table,
    status: Annotated[str | None, typer.Option(help="Only this status")] = None,
    program: Annotated[str | None, typer.Option(help="Only this program")] = None,
    unmasked: UnmaskedOption = False,
) -> None:
    """List cases (ID numbers masked unless --unmasked)."""
    from proactive.programs import case_queries

    engine = bootstrap.engine(Settings.from_env())
    records = case_queries.list_cases(engine, status, program, unmasked)
    print(render(records, case_queries.CASE_COLUMNS, fmt, title="cases"), end="")


@app.command("explain")
def explain_command(
    id_number: Annotated[str, typer.Argument(help="The person's ID number")],
    program: Annotated[str | None, typer.Option(help="Only this program")] = None,
    date: DateOption = None,
    unmasked: UnmaskedOption = False,
) -> None:
    """Why a person is or is not eligible, condition by condition, and what became of their case."""
    from proactive.programs import explain

    settings = Settings.from_env()
    engine = bootstrap.engine(settings)
    programs = bootstrap.programs()
    chosen = {program: programs[program]} if program else programs
    print(
        explain.explain(
            engine,
            id_number.strip().upper(),
            chosen,
            day_or_today(date),
            settings.district_code,
            unmasked,
        )
    )


@programs_app.callback()
def programs_command(ctx: typer.Context, fmt: FormatOption = Format.table) -> None:
    """List the programs with their rules in plain Chinese and English."""
    if ctx.invoked_subcommand:
        return
    records = []
    for program in bootstrap.programs().values():
        zh, en = program.describe()
        records.append(
            {
                "program": program.id,
                "age": program.age,
                "delivery": program.delivery,
                "sla_days": program.sla_days,
                "rule_zh": zh,
                "rule_en": en,
            }
        )
    columns = ("program", "age", "delivery", "sla_days", "rule_zh", "rule_en")
    if fmt is Format.table:
        for r in records:
            print(f"{r['program']}\n  {r['rule_zh']}\n  {r['rule_en']}\n")
        return
    print(render(records, columns, fmt), end="")


@programs_app.command("preview")
def programs_preview(
    program: Annotated[str, typer.Argument(help="Program id")], date: DateOption = None
) -> None:
    """How many people the rule matches on a day, with a masked sample; opens nothing."""
    from proactive.programs import preview

    settings = Settings.from_env()
    engine = bootstrap.engine(settings)
    programs = bootstrap.programs()
    if program not in programs:
        raise fail(ProactiveError(f"unknown program {program!r}; known: {', '.join(programs)}"))
    result = preview.preview(engine, programs[program], day_or_today(date), settings.district_code)
    print(
        f"{result.program} on {result.day}: {result.reaching_age} reach the age, "
        f"{result.matched} match the rule"
    )
    print(render(result.sample, ("id_number", "name", "birth_date"), Format.table), end="")


@review_app.command("list")
def review_list(fmt: FormatOption = Format.table, unmasked: UnmaskedOption = False) -> None:
    """Cases waiting for review, with the reasons."""
    from proactive.programs import case_queries

    engine = bootstrap.engine(Settings.from_env())
    records = case_queries.list_cases(engine, "needs_review", None, unmasked)
    print(render(records, case_queries.CASE_COLUMNS, fmt, title="review"), end="")


@review_app.command("show")
def review_show(case_id: int, unmasked: UnmaskedOption = False) -> None:
    """One case: its checks and its history."""
    import json

    from proactive.programs import case_queries, review

    engine = bootstrap.engine(Settings.from_env())
    detail = case_queries.case_detail(engine, case_id, unmasked)
    if detail is None:
        raise fail(review.CaseNotFound(str(case_id)))
    print(json.dumps(detail, ensure_ascii=False, indent=2))


def _decide(case_id: int, approve: bool, user: str, why: str) -> None:
    from proactive.programs import review

    engine = bootstrap.engine(Settings.from_env())
    try:
        status = review.decide(engine, case_id, approve, user, why, bootstrap.utc_now)
    except ProactiveError as error:
        raise fail(error) from error
    print(f"case {case_id}: {status}")


UserOption = Annotated[str, typer.Option("--user", help="Who decides (recorded)")]
WhyOption = Annotated[str, typer.Option("--why", help="Why (recorded)")]


@review_app.command("approve")
def review_approve(case_id: int, user: UserOption, why: WhyOption) -> None:
    """Approve a case in review."""
    _decide(case_id, True, user, why)


@review_app.command("reject")
def review_reject(case_id: int, user: UserOption, why: WhyOption) -> None:
    """Reject a case in review (it is cancelled with the reason)."""
    _decide(case_id, False, user, why)


@app.command("schedule")
def schedule_command() -> None:
    """Run the nightly schedule (jobs/schedule.toml) in the foreground with APScheduler."""
    from proactive.nightly import schedule
    from proactive.nightly.run import summary_text

    settings = Settings.from_env()
    engine = bootstrap.engine(settings)

    night = bootstrap.scheduled_night(settings, engine, bootstrap.utc_now)

    def job() -> None:
        try:
            print(summary_text(night()), flush=True)
        except ProactiveError as error:
            err.print(f"run skipped: {error}", markup=False)

    nightly_schedule = schedule.load_schedule(bootstrap.JOBS / "schedule.toml")
    at = f"{nightly_schedule.hour:02d}:{nightly_schedule.minute:02d}"
    err.print(f"nightly run at {at} Asia/Shanghai; Ctrl-C stops")
    schedule.build_scheduler(nightly_schedule, job).start()


for commands in (cli_certificates, cli_field, cli_sms, cli_users):
    commands.register(app)


if __name__ == "__main__":  # python -m proactive.cli.main, as the console script does
    app()
