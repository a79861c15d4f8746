"""Use case: the nightly run. Optional ingest, then cancel what the news ends, then detect,
open and verify new cases, for every day since the last successful run.

Exactly-once lives in the database: the unique (person, program) key on cases, the runs table
(what was covered, up to which ingest), and the run lock. The scheduler only starts runs.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.orm import Session

from proactive.certificates import issuing, revocation
from proactive.errors import ProactiveError
from proactive.field import plan_visits
from proactive.masking import mask_numbers
from proactive.models import Run
from proactive.nightly import lock
from proactive.programs import cancel, detect
from proactive.programs.catalog import Program
from proactive.programs.stage import Stage, Window
from proactive.progress import SILENT, Progress, counts_text
from proactive.registry.ingest import IngestOptions, IngestSummary, changes_since, ingest_on
from proactive.time import Clock

LOCK = "nightly"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunOptions:
    as_of: dt.date
    dry_run: bool = False
    extract: Path | None = None
    ingest: IngestOptions = field(default_factory=IngestOptions)
    once_a_night: bool = False  # the scheduler's runs: none if a run already covered as_of


class AlreadyRan(ProactiveError):
    """The night already ran"""


@dataclass
class RunReport:
    run_id: int | None
    as_of: dt.date
    covered_from: dt.date
    dry_run: bool
    stages: dict[str, dict[str, Any]] = field(default_factory=dict)
    ingest: IngestSummary | None = None


def summary_text(result: RunReport) -> str:
    """What a run did, a line a stage: what `proactive run`, the schedule and the demo print."""
    kind = "dry run (nothing written)" if result.dry_run else f"run {result.run_id}"
    lines = [f"nightly {kind} for {result.as_of}: birthdays from {result.covered_from}"]
    for stage, figures in result.stages.items():
        lines.append(f"  {stage:<8} {counts_text(figures)}")
    files = result.ingest.files if result.ingest else []
    lines += [f"  refused: {f.refused}" for f in files if f.refused]
    return "\n".join(lines)


def run_nightly(
    engine: Engine,
    programs: Mapping[str, Program],
    options: RunOptions,
    clock: Clock,
    district: str,
    issuer: issuing.Issuer | None = None,
    dispatcher: plan_visits.Dispatcher | None = None,
    progress: Progress = SILENT,
) -> RunReport:
    """Without an issuer the run stops after verification (approved cases wait for issuing);
    without a dispatcher, nothing is planned. `progress` hears each stage begin and end, with
    the figures the report keeps."""
    with lock.held(engine, LOCK, clock()):
        _close_interrupted(engine, clock)
        return _run(engine, programs, options, clock, district, issuer, dispatcher, progress)


def _run(
    engine: Engine,
    programs: Mapping[str, Program],
    options: RunOptions,
    clock: Clock,
    district: str,
    issuer: issuing.Issuer | None,
    dispatcher: plan_visits.Dispatcher | None,
    progress: Progress,
) -> RunReport:
    with engine.connect() as conn:
        last = conn.execute(
            select(Run)
            .where(Run.status == "succeeded")
            .order_by(Run.as_of.desc(), Run.id.desc())
            .limit(1)
        ).first()
    if options.once_a_night and last is not None and last.as_of >= options.as_of:
        raise AlreadyRan(f"run {last.id} covered the days up to {last.as_of}")
    covered_from = last.as_of + dt.timedelta(days=1) if last else options.as_of
    watermark = last.ingest_watermark if last else 0
    run_id = None if options.dry_run else _start(engine, options.as_of, covered_from, clock)
    report = RunReport(run_id, options.as_of, covered_from, options.dry_run)
    session = Session(engine, expire_on_commit=False)
    try:
        if options.extract is not None:
            started = time.perf_counter()
            report.ingest = ingest_on(
                session.connection(), options.extract, clock, options.ingest, progress
            )
            report.stages["ingest"] = {
                "seconds": round(time.perf_counter() - started, 3),
                "rejected": report.ingest.rejected,
            }
            refused = sum(1 for f in report.ingest.files if f.refused)
            if refused:  # files older than the ones last loaded: each named below the stages
                report.stages["ingest"]["refused_files"] = refused
        since_ingest, latest = changes_since(session.connection(), watermark)
        window = Window(covered_from, options.as_of, since_ingest)
        context = Stage(programs, window, district, run_id, clock())
        # Detection commits each batch (a dry run commits nothing): see detect.open_cases.
        checkpoint = session.flush if options.dry_run else session.commit
        for name, stage in (
            ("cancel", cancel.cancel_on_news),
            ("revoke", revocation.revoke_on_news),
            ("detect", partial(detect.open_cases, checkpoint=checkpoint, progress=progress)),
        ):
            progress.begin(name)
            started = time.perf_counter()
            counts: Counter[str] = stage(session, context)
            report.stages[name] = {"seconds": round(time.perf_counter() - started, 3), **counts}
            log.info(
                f"run.{name}",
                extra={"run_id": run_id, "as_of": options.as_of, **report.stages[name]},
            )
            progress.end(name, report.stages[name])
        if options.dry_run:
            session.rollback()
            return report
        session.commit()  # cases are kept even if issuing fails; the next run issues them
        if issuer is not None:
            started = time.perf_counter()
            issue = issuing.IssuingPass(options.as_of, context.actor, clock())
            counts = issuing.issue_certificates(engine, programs, issuer, issue, progress)
            report.stages["issue"] = {"seconds": round(time.perf_counter() - started, 3), **counts}
            log.info("run.issue", extra={"run_id": run_id, **report.stages["issue"]})
            progress.end("issue", report.stages["issue"])
        if dispatcher is not None:
            progress.begin("dispatch")
            started = time.perf_counter()
            with Session(engine, expire_on_commit=False) as planning, planning.begin():
                figures = plan_visits.dispatch(planning, programs, context, dispatcher)
            report.stages["dispatch"] = {
                "seconds": round(time.perf_counter() - started, 3),
                **figures,
            }
            log.info("run.dispatch", extra={"run_id": run_id, **report.stages["dispatch"]})
            progress.end("dispatch", report.stages["dispatch"])
        session.execute(
            update(Run)
            .where(Run.id == run_id)
            .values(
                status="succeeded",
                finished_at=clock(),
                ingest_watermark=latest,
                stats=json.dumps(report.stages, ensure_ascii=False),
            )
        )
        session.commit()
        return report
    except Exception as error:
        session.rollback()
        log.error(
            "run.failed",
            extra={"run_id": run_id, "as_of": options.as_of, "error": mask_numbers(repr(error))},
        )
        if run_id is not None:
            _fail(engine, run_id, clock, error)
        raise
    finally:
        session.close()


def _close_interrupted(engine: Engine, clock: Clock) -> None:
    """Runs still `running` while we hold the lock died with their process."""
    with engine.begin() as conn:
        conn.execute(
            update(Run)
            .where(Run.status == "running")
            .values(
                status="interrupted",
                finished_at=clock(),
                error="its process ended before the run finished",
            )
        )


def _start(engine: Engine, as_of: dt.date, covered_from: dt.date, clock: Clock) -> int:
    with engine.begin() as conn:
        result = conn.execute(
            insert(Run).values(
                as_of=as_of,
                covered_from=covered_from,
                status="running",
                started_at=clock(),
                ingest_watermark=0,
                stats="{}",
                error="",
            )
        )
        (run_id,) = result.inserted_primary_key or (0,)
        return int(run_id)


def error_text(error: Exception) -> str:
    """What `runs` keeps of a failure: the SQL parameters are hidden by the engine, and any ID or
    phone number the database quotes (a duplicate key's DETAIL) is masked."""
    return mask_numbers(f"{type(error).__name__}: {error}")


def _fail(engine: Engine, run_id: int, clock: Callable[[], dt.datetime], error: Exception) -> None:
    with engine.begin() as conn:
        conn.execute(
            update(Run)
            .where(Run.id == run_id)
            .values(status="failed", finished_at=clock(), error=error_text(error))
        )
