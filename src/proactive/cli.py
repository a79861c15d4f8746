"""The command line: parse, call a use case, print. Nothing else lives here."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import json
import signal
import threading
from collections import Counter
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from proactive import (
    bootstrap,
    case_queries,
    certificates,
    coverage,
    demo,
    explain,
    forecast,
    ingest,
    keys,
    nightly,
    optouts,
    outbox,
    preview,
    quarantine,
    report,
    review,
    schedule,
    sms_backends,
    sms_worker,
    synth,
    task_outcomes,
    task_queries,
    task_sheet,
    web,
)
from proactive.certificates import ReissueReason
from proactive.errors import ProactiveError
from proactive.masking import mask_name, mask_phone
from proactive.output import Format, render
from proactive.settings import Settings
from proactive.task_outcomes import FailReason

app = typer.Typer(
    help="proactive: community services that come to the resident.", no_args_is_help=True
)
db_app = typer.Typer(help="Database schema.")
app.add_typer(db_app, name="db")
programs_app = typer.Typer(help="The program catalog in jobs/.", invoke_without_command=True)
app.add_typer(programs_app, name="programs")
review_app = typer.Typer(help="Cases waiting for a person's decision.")
app.add_typer(review_app, name="review")
keys_app = typer.Typer(help="The district's certificate signing keys.")
app.add_typer(keys_app, name="keys")
sms_app = typer.Typer(help="Messages to residents (the SMS outbox).", invoke_without_command=True)
app.add_typer(sms_app, name="sms")
optout_app = typer.Typer(help="Numbers that get no SMS: for the hotline and site staff.")
app.add_typer(optout_app, name="optout")
tasks_app = typer.Typer(
    help="Social workers' visits: the day's lists, and how each visit went.",
    invoke_without_command=True,
)
app.add_typer(tasks_app, name="tasks")
certificates_app = typer.Typer(
    help="Certificates and their signed QR codes.", invoke_without_command=True
)
app.add_typer(certificates_app, name="certificates")
err = Console(stderr=True)

FormatOption = Annotated[Format, typer.Option("--format", help="table, csv or json")]
UnmaskedOption = Annotated[bool, typer.Option(help="Show full ID and phone numbers")]
DateOption = Annotated[
    str | None, typer.Option("--date", help="YYYY-MM-DD (default: today, Asia/Shanghai)")
]


def _day(value: str | None) -> dt.date:
    return dt.date.fromisoformat(value) if value else bootstrap.today_shanghai()


def _fail(error: ProactiveError) -> typer.Exit:
    err.print(f"error: {error}", markup=False, highlight=False, soft_wrap=True)
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
    unmasked: UnmaskedOption = False,
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
    """Generate a Binjiang extract, load it, run the night, and show what came out."""
    settings = Settings.from_env()
    engine = bootstrap.engine(settings)
    key_dir = Path(settings.key_dir)
    if not (key_dir / keys.PRIVATE_FILE).exists():
        kid, _ = keys.init(key_dir)
        print(f"created a demo signing key {kid.hex()} in {key_dir}/")
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
            keys.public_keys(key_dir),
            functools.partial(_demo_sms, engine, settings, workdir / "sms.jsonl"),
        )
    )


def _demo_sms(engine: Engine, settings: Settings, log_file: Path, at: dt.datetime) -> Counter[str]:
    """The demo's messages through the console backend, as if sent at `at`."""
    backend = sms_backends.ConsoleBackend(log_file)
    unpaced = dataclasses.replace(settings, sms_rate="1000")  # nothing real is sent
    return sms_worker.run_worker(engine, backend, unpaced, lambda: at, True, threading.Event())


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Migrate the database to the latest schema."""
    bootstrap.engine(Settings.from_env())
    print("database at head")


@app.command("run")
def run_command(
    date: DateOption = None,
    dry_run: Annotated[bool, typer.Option(help="Report what would happen; change nothing")] = False,
    extract: Annotated[
        Path | None, typer.Option(help="Ingest this extract directory first")
    ] = None,
) -> None:
    """The nightly run: [ingest] → cancel → revoke → detect → verify → issue, for every day
    since the last run."""
    settings = Settings.from_env()
    engine = bootstrap.engine(settings)
    options = nightly.RunOptions(
        as_of=_day(date),
        dry_run=dry_run,
        extract=extract,
        ingest=ingest.IngestOptions(column_map=bootstrap.column_map(settings)),
    )
    try:
        result = nightly.run_nightly(
            engine,
            bootstrap.programs(),
            options,
            bootstrap.utc_now,
            settings.district_code,
            None if dry_run else bootstrap.issuer(settings),
            None if dry_run else bootstrap.dispatcher(settings),
        )
    except ProactiveError as error:
        raise _fail(error) from error
    print(demo.run_text(result))


@app.command("runs")
def runs_command(fmt: FormatOption = Format.table) -> None:
    """List past nightly runs."""
    engine = bootstrap.engine(Settings.from_env())
    print(
        render(case_queries.list_runs(engine), case_queries.RUN_COLUMNS, fmt, title="runs"), end=""
    )


@app.command("cases")
def cases_command(
    fmt: FormatOption = Format.table,
    status: Annotated[str | None, typer.Option(help="Only this status")] = None,
    program: Annotated[str | None, typer.Option(help="Only this program")] = None,
    unmasked: UnmaskedOption = False,
) -> None:
    """List cases (ID numbers masked unless --unmasked)."""
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
    settings = Settings.from_env()
    engine = bootstrap.engine(settings)
    programs = bootstrap.programs()
    chosen = {program: programs[program]} if program else programs
    print(
        explain.explain(
            engine, id_number.strip().upper(), chosen, _day(date), settings.district_code, unmasked
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
    settings = Settings.from_env()
    engine = bootstrap.engine(settings)
    programs = bootstrap.programs()
    if program not in programs:
        raise _fail(ProactiveError(f"unknown program {program!r}; known: {', '.join(programs)}"))
    result = preview.preview(engine, programs[program], _day(date), settings.district_code)
    print(
        f"{result.program} on {result.day}: {result.reaching_age} reach the age, "
        f"{result.matched} match the rule"
    )
    print(render(result.sample, ("id_number", "name", "birth_date"), Format.table), end="")


@review_app.command("list")
def review_list(fmt: FormatOption = Format.table, unmasked: UnmaskedOption = False) -> None:
    """Cases waiting for review, with the reasons."""
    engine = bootstrap.engine(Settings.from_env())
    records = case_queries.list_cases(engine, "needs_review", None, unmasked)
    print(render(records, case_queries.CASE_COLUMNS, fmt, title="review"), end="")


@review_app.command("show")
def review_show(case_id: int, unmasked: UnmaskedOption = False) -> None:
    """One case: its checks and its history."""
    engine = bootstrap.engine(Settings.from_env())
    detail = case_queries.case_detail(engine, case_id, unmasked)
    if detail is None:
        raise _fail(review.CaseNotFound(str(case_id)))
    print(json.dumps(detail, ensure_ascii=False, indent=2))


def _decide(case_id: int, approve: bool, user: str, why: str) -> None:
    engine = bootstrap.engine(Settings.from_env())
    try:
        status = review.decide(engine, case_id, approve, user, why, bootstrap.utc_now)
    except ProactiveError as error:
        raise _fail(error) from error
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
    settings = Settings.from_env()
    engine = bootstrap.engine(settings)

    def job() -> None:
        options = nightly.RunOptions(as_of=bootstrap.today_shanghai())
        try:
            result = nightly.run_nightly(
                engine, bootstrap.programs(), options, bootstrap.utc_now, settings.district_code
            )
            print(demo.run_text(result), flush=True)
        except ProactiveError as error:
            err.print(f"run skipped: {error}", markup=False)

    nightly_schedule = schedule.load_schedule(bootstrap.JOBS / "schedule.toml")
    at = f"{nightly_schedule.hour:02d}:{nightly_schedule.minute:02d}"
    err.print(f"nightly run at {at} Asia/Shanghai; Ctrl-C stops")
    schedule.build_scheduler(nightly_schedule, job).start()


@keys_app.command("init")
def keys_init(
    force: Annotated[
        bool, typer.Option(help="Rotate: a new key; old public keys stay trusted")
    ] = False,
) -> None:
    """Create the district's Ed25519 key pair in PROACTIVE_KEY_DIR (the private key: a file)."""
    settings = Settings.from_env()
    try:
        kid, public_path = keys.init(Path(settings.key_dir), force)
    except ProactiveError as error:
        raise _fail(error) from error
    print(f"key id {kid.hex()}; public key {public_path} (share it with verifiers)")


@certificates_app.callback()
def certificates_command(
    ctx: typer.Context,
    fmt: FormatOption = Format.table,
    program: Annotated[str | None, typer.Option(help="Only this program")] = None,
    status: Annotated[str | None, typer.Option(help="pending, active or revoked")] = None,
    unmasked: UnmaskedOption = False,
) -> None:
    """List certificates (ID numbers masked unless --unmasked)."""
    if ctx.invoked_subcommand:
        return
    engine = bootstrap.engine(Settings.from_env())
    records = certificates.list_certificates(engine, program, status, unmasked)
    print(render(records, certificates.COLUMNS, fmt, title="certificates"), end="")


@certificates_app.command("verify")
def certificates_verify(
    source: Annotated[str, typer.Argument(help="A certificate PDF, or the QR text (PC1:...)")],
    offline: Annotated[
        bool, typer.Option(help="Public keys only: do not ask the database about revocation")
    ] = False,
) -> None:
    """Check a certificate's QR code; exit 1 unless it is valid."""
    settings = Settings.from_env()
    engine = None if offline else bootstrap.engine(settings)
    result = certificates.verify(source, keys.public_keys(Path(settings.key_dir)), engine)
    print(f"{'有效' if result.valid else '无效'} {result.code}")
    if result.claims is not None:
        c = result.claims
        print(
            f"{c.certificate_no} {c.program} {mask_name(c.holder)} {c.masked_id} "
            f"{c.issued_on} {c.issuer}"
        )
    if not result.valid:
        raise typer.Exit(code=1)


@certificates_app.command("reissue")
def certificates_reissue(
    certificate_no: Annotated[str, typer.Argument(help="The certificate to replace")],
    reason: Annotated[ReissueReason, typer.Option(help="lost, damaged or corrected")],
    user: Annotated[str, typer.Option(help="Who asks for the reissue")] = "operator",
) -> None:
    """Revoke a certificate and issue a new one under a new number."""
    settings = Settings.from_env()
    engine = bootstrap.engine(settings)
    try:
        new = certificates.reissue(
            engine,
            bootstrap.programs(),
            certificate_no,
            reason,
            bootstrap.issuer(settings),
            bootstrap.today_shanghai(),
            user,
            bootstrap.utc_now(),
        )
    except ProactiveError as error:
        raise _fail(error) from error
    print(f"{certificate_no} revoked ({reason.value}); new certificate {new.certificate_no}")
    print(new.pdf_path)


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
    engine = bootstrap.engine(Settings.from_env())
    day = _day(date)
    programs = bootstrap.programs()
    if fmt in (SheetFormat.html, SheetFormat.pdf):
        sheets = task_queries.sheets(engine, programs, worker, site, day, unmasked)
        target = out or Path(f"tasks-{day:%Y-%m-%d}.{fmt.value}")
        if fmt is SheetFormat.html:
            target.write_text(task_sheet.render_html(sheets), encoding="utf-8")
        else:
            target.write_bytes(task_sheet.render_pdf(sheets))
        print(f"{len(sheets)} task list(s), {sum(len(s.lines) for s in sheets)} visits: {target}")
        return
    records = task_queries.records(engine, programs, worker, site, day, unmasked)
    columns = task_queries.TABLE_COLUMNS if fmt is SheetFormat.table else task_queries.COLUMNS
    print(render(records, columns, Format(fmt.value), title="tasks"), end="")


@tasks_app.command("done")
def tasks_done(
    task_id: Annotated[int, typer.Argument(help="The task")],
    code: Annotated[str, typer.Option(help="The confirmation code the resident shows")],
    user: Annotated[str, typer.Option(help="Who reports it")] = "worker",
) -> None:
    """The visit happened: the resident's code closes the case."""
    engine = bootstrap.engine(Settings.from_env())
    try:
        with Session(engine) as session, session.begin():
            task_outcomes.done(session, task_id, code, user, bootstrap.utc_now())
    except ProactiveError as error:
        raise _fail(error) from error
    print(f"task {task_id} done; case closed")


@tasks_app.command("failed")
def tasks_failed(
    task_id: Annotated[int, typer.Argument(help="The task")],
    reason: Annotated[FailReason, typer.Option(help="Why the visit did not happen")],
    user: Annotated[str, typer.Option(help="Who reports it")] = "worker",
) -> None:
    """The visit did not happen: plan the next try, or end the case."""
    settings = Settings.from_env()
    engine = bootstrap.engine(settings)
    try:
        with Session(engine, expire_on_commit=False) as session, session.begin():
            follow = task_outcomes.failed(
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
        raise _fail(error) from error
    if follow is None:
        print(f"task {task_id} failed ({reason.value}); case closed without delivery")
    else:
        print(
            f"task {task_id} failed ({reason.value}); next visit: task {follow.id} on "
            f"{follow.day} by {follow.worker_id}"
        )


@app.command("coverage")
def coverage_command(
    out: Annotated[Path, typer.Option(help="Directory for the map (PNG) and the CSV")] = Path(
        "coverage"
    ),
    date: DateOption = None,
) -> None:
    """Map of the 15-minute circles and the homes outside them; uncovered homes by community."""
    settings = Settings.from_env()
    result = coverage.write_coverage(
        bootstrap.engine(settings), out, bootstrap.dispatcher(settings).walking, _day(date)
    )
    print(
        f"homes {result.homes}: inside a circle {result.covered}, outside {result.uncovered}, "
        f"without coordinates {result.without_coordinates}"
    )
    print(f"map: {result.png}\nuncovered by community: {result.csv}")


@app.command("forecast")
def forecast_command(
    days: Annotated[int, typer.Option(help="How far ahead")] = 365,
    out: Annotated[Path, typer.Option(help="Directory for the charts and the CSV")] = Path(
        "forecast"
    ),
    date: DateOption = None,
) -> None:
    """From birth dates alone: who reaches 60/80/100 per site and week, against capacity."""
    settings = Settings.from_env()
    result = forecast.write_forecast(
        bootstrap.engine(settings), out, _day(date), days, bootstrap.dispatcher(settings).walking
    )
    print(f"{result.people} people reach 60, 80 or 100 in the next {days} days")
    for street, chart in result.charts.items():
        print(f"  {street}: {chart}")
    print(f"per site and week: {result.csv}")


@sms_app.callback()
def sms_command(
    ctx: typer.Context,
    fmt: FormatOption = Format.table,
    status: Annotated[
        str | None, typer.Option(help="queued, sending, sent, delivered, ...")
    ] = None,
    unmasked: UnmaskedOption = False,
) -> None:
    """List messages: masked numbers, segments, status, Twilio SID and error code."""
    if ctx.invoked_subcommand:
        return
    engine = bootstrap.engine(Settings.from_env())
    with Session(engine) as session:
        records = outbox.list_messages(session, status, unmasked)
    print(render(records, outbox.MESSAGE_COLUMNS, fmt, title="sms"), end="")


@sms_app.command("reconcile")
def sms_reconcile() -> None:
    """Daily (cron): fetch by Twilio SID the status of messages sent without a final one, and
    settle those stuck in `sending` (never re-sent)."""
    settings = Settings.from_env()
    engine = bootstrap.engine(settings)
    try:
        backend = sms_backends.backend_from_settings(settings)
    except ProactiveError as error:
        raise _fail(error) from error
    now = bootstrap.utc_now()
    stuck = dt.timedelta(minutes=float(settings.sms_stuck_minutes))
    totals = sms_worker.reconcile(engine, backend, now, stuck)
    totals.update(sms_worker.refresh(engine, backend, now))
    print(", ".join(f"{k}={v}" for k, v in sorted(totals.items())) or "nothing to reconcile")


@sms_app.command("templates")
def sms_templates(fmt: FormatOption = Format.table) -> None:
    """The fixed SMS templates, with a sample, its length and segments (for registration)."""
    records = outbox.catalog(bootstrap.programs(), bootstrap.composer(Settings.from_env()))
    columns = ("program", "kind", "length", "segments", "sample")
    print(render(records, columns, fmt, title="sms templates"), end="")


class OptOutSource(StrEnum):
    hotline = "hotline"
    site = "site"


@optout_app.command("add")
def optout_add(
    number: Annotated[str, typer.Argument(help="The phone number")],
    source: Annotated[OptOutSource, typer.Option(help="Who took the request")] = (
        OptOutSource.hotline
    ),
    note: Annotated[str, typer.Option(help="Why, or who asked")] = "",
) -> None:
    """Opt a number out; its queued messages are withdrawn."""
    engine = bootstrap.engine(Settings.from_env())
    try:
        with Session(engine) as session, session.begin():
            added = optouts.add(session, number, source.value, note, bootstrap.utc_now())
    except ProactiveError as error:
        raise _fail(error) from error
    state = "opted out" if added.new else "already opted out"
    print(f"{mask_phone(added.number)} {state}; {added.withdrawn} queued message(s) withdrawn")


@optout_app.command("remove")
def optout_remove(number: Annotated[str, typer.Argument(help="The phone number")]) -> None:
    """Let a number receive messages again."""
    engine = bootstrap.engine(Settings.from_env())
    try:
        with Session(engine) as session, session.begin():
            removed = optouts.remove(session, number)
    except ProactiveError as error:
        raise _fail(error) from error
    print("removed" if removed else "was not opted out")


@optout_app.command("list")
def optout_list(fmt: FormatOption = Format.table, unmasked: UnmaskedOption = False) -> None:
    """Opted-out numbers (masked unless --unmasked)."""
    engine = bootstrap.engine(Settings.from_env())
    with Session(engine) as session:
        entries = optouts.list_all(session)
    records = [
        {
            "number": e.number if unmasked else mask_phone(e.number),
            "source": e.source,
            "note": e.note,
            "created_at": case_queries.local(e.created_at),
        }
        for e in entries
    ]
    print(
        render(records, ("number", "source", "note", "created_at"), fmt, title="opt-outs"), end=""
    )


@app.command("serve")
def serve_command(
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port")] = 8000,
) -> None:
    """The web app: Twilio's delivery receipts and replies (and, later, the workers' pages)."""
    settings = Settings.from_env()
    web.serve(bootstrap.engine(settings), settings, bootstrap.utc_now, host, port)


@app.command("worker")
def worker_command(
    once: Annotated[bool, typer.Option(help="Send what is due, then stop")] = False,
) -> None:
    """Send the SMS outbox (PROACTIVE_SMS_BACKEND); stops cleanly on SIGTERM. Several workers
    may run at once on PostgreSQL; on SQLite run one."""
    settings = Settings.from_env()
    engine = bootstrap.engine(settings)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        backend = sms_backends.backend_from_settings(settings)
    except ProactiveError as error:
        raise _fail(error) from error
    totals = sms_worker.run_worker(engine, backend, settings, bootstrap.utc_now, once, stop)
    print(", ".join(f"{k}={v}" for k, v in sorted(totals.items())) or "nothing to send")
