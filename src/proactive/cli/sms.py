"""Commands for messages to residents: the outbox, opt-outs, the worker, the webhooks."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from proactive import bootstrap
from proactive.cli.common import FormatOption, UnmaskedOption, fail, group
from proactive.errors import ProactiveError
from proactive.masking import mask_phone
from proactive.output import Format, render
from proactive.settings import Settings, safe_url

sms_app = group(
    "Messages to residents (the SMS outbox).",
    invoke_without_command=True,
)
optout_app = group("Numbers that get no SMS: for the hotline and site staff.")


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
    from sqlalchemy.orm import Session

    from proactive.sms import outbox

    engine = bootstrap.engine(Settings.from_env())
    with Session(engine) as session:
        records = outbox.list_messages(session, status, unmasked)
    print(render(records, outbox.MESSAGE_COLUMNS, fmt, title="sms"), end="")


@sms_app.command("reconcile")
def sms_reconcile() -> None:
    """Daily (cron): fetch by Twilio SID the status of messages sent without a final one, and
    settle those stuck in `sending` (never re-sent)."""
    import datetime as dt

    from proactive.sms import backends as sms_backends
    from proactive.sms import sender as sms_worker

    settings = Settings.from_env()
    engine = bootstrap.engine(settings)
    try:
        backend = sms_backends.backend_from_settings(settings)
    except ProactiveError as error:
        raise fail(error) from error
    now = bootstrap.utc_now()
    stuck = dt.timedelta(minutes=float(settings.sms_stuck_minutes))
    totals = sms_worker.reconcile(engine, backend, now, stuck)
    totals.update(sms_worker.refresh(engine, backend, now))
    print(", ".join(f"{k}={v}" for k, v in sorted(totals.items())) or "nothing to reconcile")


@sms_app.command("templates")
def sms_templates(fmt: FormatOption = Format.table) -> None:
    """The fixed SMS templates, with a sample, its length and segments (for registration)."""
    from proactive.sms import outbox

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
    from sqlalchemy.orm import Session

    from proactive.sms import optouts

    engine = bootstrap.engine(Settings.from_env())
    try:
        with Session(engine) as session, session.begin():
            added = optouts.add(session, number, source.value, note, bootstrap.utc_now())
    except ProactiveError as error:
        raise fail(error) from error
    state = "opted out" if added.new else "already opted out"
    print(f"{mask_phone(added.number)} {state}; {added.withdrawn} queued message(s) withdrawn")


@optout_app.command("remove")
def optout_remove(number: Annotated[str, typer.Argument(help="The phone number")]) -> None:
    """Let a number receive messages again."""
    from sqlalchemy.orm import Session

    from proactive.sms import optouts

    engine = bootstrap.engine(Settings.from_env())
    try:
        with Session(engine) as session, session.begin():
            removed = optouts.remove(session, number)
    except ProactiveError as error:
        raise fail(error) from error
    print("removed" if removed else "was not opted out")


@optout_app.command("list")
def optout_list(fmt: FormatOption = Format.table, unmasked: UnmaskedOption = False) -> None:
    """Opted-out numbers (masked unless --unmasked)."""
    from sqlalchemy.orm import Session

    from proactive.sms import optouts
    from proactive.time import local_text  # not at the top: --help loads no time zone

    engine = bootstrap.engine(Settings.from_env())
    with Session(engine) as session:
        entries = optouts.list_all(session)
    records = [
        {
            "number": e.number if unmasked else mask_phone(e.number),
            "source": e.source,
            "note": e.note,
            "created_at": local_text(e.created_at),
        }
        for e in entries
    ]
    print(
        render(records, ("number", "source", "note", "created_at"), fmt, title="opt-outs"), end=""
    )


def serve_command(
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port")] = 8000,
    workers: Annotated[
        int, typer.Option(min=1, help="Processes serving the port (PostgreSQL: up to the cores)")
    ] = 1,
) -> None:
    """The web app: the field app's pages, Twilio's delivery receipts and replies."""
    from proactive.web import app as web

    settings = Settings.from_env()
    engine = bootstrap.engine(settings)
    if workers > 1 and engine.dialect.name == "sqlite":
        error = bootstrap.SeveralProcessesNeedPostgres(
            f"--workers {workers} with {safe_url(settings.database_url)}"
        )
        raise fail(error)
    web.serve(engine, settings, bootstrap.utc_now, host, port, workers)


def worker_command(
    once: Annotated[bool, typer.Option(help="Send what is due, then stop")] = False,
) -> None:
    """Send the SMS outbox (PROACTIVE_SMS_BACKEND); stops cleanly on SIGTERM. Several workers
    may run at once on PostgreSQL; on SQLite run one."""
    import signal
    import threading

    from proactive.sms import backends as sms_backends
    from proactive.sms import sender as sms_worker

    settings = Settings.from_env()
    engine = bootstrap.engine(settings)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        backend = sms_backends.backend_from_settings(settings)
    except ProactiveError as error:
        raise fail(error) from error
    totals = sms_worker.run_worker(engine, backend, settings, bootstrap.utc_now, once, stop)
    print(", ".join(f"{k}={v}" for k, v in sorted(totals.items())) or "nothing to send")


def register(app: typer.Typer) -> None:
    app.add_typer(sms_app, name="sms")
    app.add_typer(optout_app, name="optout")
    app.command("serve")(serve_command)
    app.command("worker")(worker_command)
