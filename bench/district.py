"""A district-size database for the benchmarks: the synthetic extract (cached under bench/out/)
ingested, its cases detected, a backlog of senior certificates marked issued, and optionally
dispatched into visits with their routes. The same library calls a night makes."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import Engine

OUT = Path(__file__).resolve().parent / "out"
DAY = dt.date(2026, 11, 25)


def clock() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def backlog(engine: Engine, residents: int, count: int) -> int:
    """Ingest `residents` synthetic people, detect, mark `count` senior certificates issued."""
    from sqlalchemy import select, update

    from proactive import db
    from proactive.demo.synth import SynthOptions, write_extract
    from proactive.models import Case
    from proactive.nightly.run import RunOptions, run_nightly
    from proactive.programs.catalog import load_catalog
    from proactive.registry.ingest import ingest
    from proactive.settings import ROOT

    extract = OUT / f"dispatch-extract-{residents}"
    if not (extract / "persons.csv").exists():
        write_extract(extract, SynthOptions(residents=residents, as_of=DAY, bad_rows=False))
    db.upgrade(engine)
    ingest(engine, extract, clock)
    programs = load_catalog(ROOT / "jobs")
    run_nightly(engine, programs, RunOptions(as_of=DAY), clock, "330108")  # detect only
    with engine.begin() as conn:
        chosen = (
            select(Case.id)
            .where(Case.program == "senior_certificate", Case.status == "approved")
            .order_by(Case.id)
            .limit(count)
            .scalar_subquery()
        )
        issued = int(
            conn.execute(update(Case).where(Case.id.in_(chosen)).values(status="issued")).rowcount
        )
    if issued < count:
        raise SystemExit(f"only {issued} cases: raise --residents")
    return issued


def dispatch(engine: Engine) -> dict[str, object]:
    """The dispatch stage over the backlog: its figures."""
    from sqlalchemy import func, select
    from sqlalchemy.orm import Session

    from proactive.field.plan_visits import Dispatcher
    from proactive.field.plan_visits import dispatch as dispatch_stage
    from proactive.field.workdays import ChinaCalendar
    from proactive.geo import Walking
    from proactive.models import IngestRun
    from proactive.programs.catalog import load_catalog
    from proactive.programs.stage import Stage, Window
    from proactive.settings import ROOT

    with engine.connect() as conn:
        latest = conn.execute(select(func.max(IngestRun.id))).scalar() or 0
    programs = {"senior_certificate": load_catalog(ROOT / "jobs")["senior_certificate"]}
    stage = Stage(programs, Window(DAY, DAY, latest), "330108", 2, clock())
    dispatcher = Dispatcher(Walking(), ChinaCalendar())
    with Session(engine) as session, session.begin():
        return dispatch_stage(session, programs, stage, dispatcher)
