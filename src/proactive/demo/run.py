"""The demo: a synthetic Binjiang extract generated, loaded and summarised. Later stages add
their part here."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter
from collections.abc import Callable, Mapping
from pathlib import Path

from sqlalchemy import Engine, Integer, func, select
from sqlalchemy.orm import Session

from proactive.accounts import users
from proactive.accounts.roles import Role
from proactive.certificates import issued as certificates
from proactive.certificates.issuing import Issuer
from proactive.demo import synth
from proactive.field import coverage, forecast
from proactive.field import sheets as task_sheet
from proactive.field import task_lists as task_queries
from proactive.field.plan_visits import Dispatcher
from proactive.field.task_states import PLANNED
from proactive.models import Household, Message, Person, ResidencePermit, Task
from proactive.nightly import run as nightly
from proactive.nightly.lock import RunLocked
from proactive.programs import case_queries
from proactive.programs.catalog import Program
from proactive.registry import ingest, report
from proactive.registry.binjiang import STREETS
from proactive.settings import Settings, safe_url
from proactive.sms import outbox
from proactive.sms.wording import mask_addressee
from proactive.time import SHANGHAI, Clock, local_date


def confined(
    settings: Settings,
    workdir: Path,
    database: str | None = None,
    key_dir: Path | None = None,
    certificate_dir: Path | None = None,
) -> Settings:
    """The demo's settings: its own SQLite database, signing key and certificate files under
    `workdir` (absolute), whatever the environment configures, unless given explicitly. The demo
    never writes synthetic residents into the configured database nor a key into its key dir."""
    home = workdir.resolve()
    return dataclasses.replace(
        settings,
        database_url=database or f"sqlite:///{home / 'demo.db'}",
        key_dir=str(key_dir or home / "keys"),
        certificate_dir=str(certificate_dir or home / "certificates"),
    )


def environment_text(settings: Settings) -> str:
    """How to point the other commands at the demo's database, keys and files."""
    return "\n".join(
        [
            "to use the other commands on the demo (proactive cases, tasks, doctor, serve, ...):",
            f"  export PROACTIVE_DATABASE_URL='{safe_url(settings.database_url)}'",
            f"  export PROACTIVE_KEY_DIR='{settings.key_dir}'",
            f"  export PROACTIVE_CERTIFICATE_DIR='{settings.certificate_dir}'",
        ]
    )


def run(
    engine: Engine,
    workdir: Path,
    residents: int,
    as_of: dt.date,
    clock: Clock,
    programs: Mapping[str, Program],
    district: str,
    issuer: Issuer,
    dispatcher: Dispatcher,
    public_keys: Mapping[bytes, bytes],
    send_sms: Callable[[dt.datetime], Counter[str]],
) -> str:
    extract = workdir / "extract"
    counts = synth.write_extract(extract, synth.SynthOptions(residents=residents, as_of=as_of))
    summary = ingest.ingest(engine, extract, clock)
    where = report.write_report(summary, workdir / "reports", engine)
    try:
        options = nightly.RunOptions(as_of=as_of)
        night = nightly.summary_text(
            nightly.run_nightly(engine, programs, options, clock, district, issuer, dispatcher)
        )
    except RunLocked as error:
        night = f"nightly run skipped: {error}"
    return "\n".join(
        [
            f"proactive demo — 杭州市滨江区 (330108), as of {as_of:%Y-%m-%d}",
            f"synthetic extract: {counts.persons} persons, {counts.households} households, "
            f"{counts.permits} residence permits in {extract}",
            "",
            report.summary_text(summary),
            "",
            people_by_street(engine),
            f"report: {where}",
            "",
            night,
            "",
            review_text(engine),
            "",
            certificates_text(engine, public_keys),
            "",
            field_text(engine, programs, workdir, as_of, dispatcher, district),
            "",
            messages_text(engine, send_sms, as_of, clock()),
        ]
    )


def people_by_street(engine: Engine) -> str:
    hukou_street = func.substr(Household.division_code, 1, 9)
    permit_street = func.substr(ResidencePermit.division_code, 1, 9)
    hukou_query = (
        select(hukou_street, func.count())
        .select_from(Person)
        .join(Household, Household.household_id == Person.household_id)
        .where(Person.hukou_status == "active")
        .group_by(hukou_street)
    )
    permit_query = select(permit_street, func.count()).group_by(permit_street)
    with engine.connect() as conn:
        hukou = {street: int(n) for street, n in conn.execute(hukou_query)}
        permits = {street: int(n) for street, n in conn.execute(permit_query)}
    lines = ["people by street (active hukou / residence permit holders):"]
    for street in STREETS:
        lines.append(
            f"  {street.name:<6} {hukou.get(street.code, 0):>8} {permits.get(street.code, 0):>8}"
        )
    return "\n".join(lines)


def review_text(engine: Engine, limit: int = 10) -> str:
    cases = case_queries.list_cases(engine, None, None, unmasked=False)
    by_status: dict[str, int] = {}
    for case in cases:
        key = f"{case['program']}/{case['status']}"
        by_status[key] = by_status.get(key, 0) + 1
    lines = ["cases by program and status:"]
    lines += [f"  {key:<36}{n:>6}" for key, n in sorted(by_status.items())]
    waiting = [c for c in cases if c["status"] == "needs_review"]
    if waiting:
        lines.append(f"in review ({len(waiting)}), first {min(limit, len(waiting))}:")
        lines += [
            f"  #{c['case_id']:<6}{c['id_number']}  {c['program']:<20}{c['reason']}"
            for c in waiting[:limit]
        ]
    return "\n".join(lines)


def certificates_text(engine: Engine, public_keys: Mapping[bytes, bytes], limit: int = 3) -> str:
    issued = certificates.list_certificates(engine, None, "active", unmasked=False)
    if not issued:
        return "no certificates issued"
    lines = [f"certificates issued ({len(issued)}), PDFs in {Path(issued[0]['pdf_path']).parent}:"]
    lines += [f"  {c['certificate_no']}  {c['id_number']}  {c['pdf_path']}" for c in issued[:limit]]
    first = issued[0]["pdf_path"]
    verdict = certificates.verify(first, public_keys, engine)
    lines.append(f"QR of {Path(first).name} checked: {verdict.code}")
    lines.append(f"check any of them: proactive certificates verify {first}")
    return "\n".join(lines)


def field_text(
    engine: Engine,
    programs: Mapping[str, Program],
    workdir: Path,
    as_of: dt.date,
    dispatcher: Dispatcher,
    district: str,
) -> str:
    """The visits planned, the first day's printable lists, the coverage map, the forecast."""
    with engine.connect() as conn:
        first, last, visits, outside = conn.execute(
            select(
                func.min(Task.day),
                func.max(Task.day),
                func.count(),
                func.sum(func.cast(Task.outside_circle, Integer)),
            ).where(Task.status == PLANNED)
        ).one()
    lines = []
    if first is not None:
        sheets = task_queries.sheets(engine, programs, None, None, first, unmasked=False)
        folder = workdir / "tasks"
        folder.mkdir(parents=True, exist_ok=True)
        html = folder / f"tasks-{first:%Y-%m-%d}.html"
        html.write_text(task_sheet.render_html(sheets), encoding="utf-8")
        pdf = html.with_suffix(".pdf")
        pdf.write_bytes(task_sheet.render_pdf(sheets))
        lines += [
            f"visits planned: {visits}, from {first} to {last} ({outside or 0} outside the "
            "15-minute circle)",
            f"task lists for {first}, one page per social worker ({len(sheets)}): {html}, {pdf}",
        ]
    else:
        lines.append("no visits planned")
    covered = coverage.write_coverage(engine, workdir / "coverage", dispatcher.walking, as_of)
    lines.append(
        f"coverage: {covered.uncovered} of {covered.homes} homes outside every circle; "
        f"map {covered.png}, by community {covered.csv}"
    )
    ahead = forecast.write_forecast(
        engine, workdir / "forecast", as_of, 365, dispatcher, programs, district
    )
    lines.append(f"forecast: {forecast.summary(ahead)} within a year; {ahead.csv}")
    lines += [f"  {street}: {chart}" for street, chart in ahead.charts.items()]
    return "\n".join(lines)


def _next_morning(moment: dt.datetime) -> dt.datetime:
    day = moment.date() + dt.timedelta(days=1 if moment.hour >= 21 else 0)
    return dt.datetime.combine(day, dt.time(8, 30), SHANGHAI)


def messages_text(
    engine: Engine,
    send_sms: Callable[[dt.datetime], Counter[str]],
    as_of: dt.date,
    now: dt.datetime,
) -> str:
    """Send what the morning after the run would send (the run is at 02:00; quiet hours end at
    08:00), through the console backend, and show a few. A demo run later in the day queued
    its notices at `now`, so they are sent one quiet-free hour after it (no earlier than 08:30)."""
    morning = dt.datetime.combine(as_of, dt.time(8, 30), SHANGHAI)
    later = now.astimezone(SHANGHAI) + dt.timedelta(hours=1)
    if later > morning:
        morning = later if 8 <= later.hour < 21 else _next_morning(later)
    totals = send_sms(morning)
    with Session(engine) as session:
        sent = outbox.list_messages(session, "sent", unmasked=False)
        bodies = {
            m.id: m.body
            for m in session.scalars(
                select(Message).where(Message.status == "sent").order_by(Message.id).limit(3)
            )
        }
    lines = [
        f"SMS at {morning:%H:%M} through the console backend: "
        + (", ".join(f"{k}={v}" for k, v in sorted(totals.items())) or "nothing due")
    ]
    for message in sent[:3]:
        text = mask_addressee(bodies.get(int(str(message["message_id"])), ""))
        lines.append(f"  {message['to']} ({message['segments']} 条) {text}")
    return "\n".join(lines)


DEMO_ACCOUNTS = ("demo-worker", "demo-supervisor", "demo-admin")


def accounts_text(engine: Engine, now: dt.datetime, url: str = "http://127.0.0.1:8000") -> str:
    """One field-app account per role (the worker with the most visits on the first planned
    day, her site's supervisor, district staff) and their one-time codes; kept on a re-run."""
    with Session(engine) as session, session.begin():
        busiest = session.execute(
            select(Task.worker_id, Task.site_id, func.count())
            .where(Task.status == PLANNED, Task.day >= local_date(now))
            .group_by(Task.day, Task.worker_id, Task.site_id)
            .order_by(Task.day, func.count().desc(), Task.worker_id)
            .limit(1)
        ).first()
        if busiest is None:
            return "field app: no planned visits, no demo accounts"
        worker_id, site_id, _ = busiest
        wanted = zip(
            DEMO_ACCOUNTS,
            (Role.worker, Role.supervisor, Role.admin),
            ((worker_id, ""), ("", site_id), ("", "")),
            strict=True,
        )
        existing = {r["name"] for r in users.listing(session)}
        lines = [f"field app: `proactive serve`, then open {url}/setup and {url}/login"]
        for name, role, (worker, site) in wanted:
            if name in existing:
                lines.append(f"  {name} ({role.value}): exists already")
                continue
            code = users.add(session, name, role, worker, site, now)
            where = f" {worker or site}" if worker or site else ""
            lines.append(f"  {name} ({role.value}{where}): one-time code {code}")
    return "\n".join(lines)
