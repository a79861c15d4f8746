"""Benchmark: dispatching a backlog of 20,000 certificate deliveries across Binjiang's sites.

Preparation (not timed, cached under bench/out/): a synthetic district big enough to hold the
backlog, ingested into SQLite and run through detection; then 20,000 of the approved senior
certificate cases are marked issued (their certificates are not rendered: that is the
certificates benchmark). Then, each in a process of its own:
- place:    the pure placement alone (site by the circle, worker and working day by capacity),
            on values read beforehand — the baseline;
- dispatch: the whole dispatch stage on the database: read, place, write 20,000 tasks and their
            case transitions, order every worker-day's route, write the routes.
Target: the dispatch stage under 60 s.

Usage: python bench/dispatch_bench.py [--backlog 20000] [--residents 230000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from pathlib import Path

import district
from measured import run_phase

OUT, DAY = district.OUT, district.DAY
DB = OUT / "dispatch.db"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--backlog", type=int, default=20_000)
    parser.add_argument("--residents", type=int, default=230_000)
    parser.add_argument("--phase", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        print(json.dumps(PHASES[args.phase](args.backlog, args.residents)))
        return
    results = {}
    for name in ("prepare", "place", "dispatch"):
        result = run_phase(
            __file__,
            "--phase",
            name,
            "--backlog",
            str(args.backlog),
            "--residents",
            str(args.residents),
        )
        results[name] = result
        print(
            f"{name:<9} {result['seconds']:>8.2f} s  peak {result['peak_rss_mb']} MB",
            file=sys.stderr,
        )
    report(results)


def prepare(backlog: int, residents: int) -> dict[str, object]:
    from proactive import db

    started = time.perf_counter()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{DB}{suffix}").unlink(missing_ok=True)
    issued = district.backlog(db.make_engine(f"sqlite:///{DB}"), residents, backlog)
    return {"seconds": time.perf_counter() - started, "cases": issued}


def _context() -> tuple[object, ...]:
    from sqlalchemy import func, select

    from proactive import db
    from proactive.field.plan_visits import Dispatcher
    from proactive.field.workdays import ChinaCalendar
    from proactive.geo import Walking
    from proactive.models import IngestRun
    from proactive.programs.catalog import load_catalog
    from proactive.programs.stage import Stage, Window
    from proactive.settings import ROOT

    engine = db.make_engine(f"sqlite:///{DB}")
    with engine.connect() as conn:
        latest = conn.execute(select(func.max(IngestRun.id))).scalar() or 0
    programs = {"senior_certificate": load_catalog(ROOT / "jobs")["senior_certificate"]}
    stage = Stage(programs, Window(DAY, DAY, latest), "330108", 2, dt.datetime.now(dt.UTC))
    return engine, programs, stage, Dispatcher(Walking(), ChinaCalendar())


def place(backlog: int, residents: int) -> dict[str, object]:
    from collections import Counter

    from sqlalchemy.orm import Session

    from proactive.field.placement import Circle, plan
    from proactive.field.plan_visits import _new_jobs, load_sites, make_board

    engine, programs, _stage, dispatcher = _context()
    first = DAY + dt.timedelta(days=1)
    with Session(engine) as session:
        circle = Circle(load_sites(session), dispatcher.walking)  # type: ignore[attr-defined]
        jobs = _new_jobs(session, programs, first, {}, Counter())  # type: ignore[arg-type]
        board = make_board(session, circle, dispatcher, first)  # type: ignore[arg-type]
        started = time.perf_counter()
        placed, left = plan(jobs, circle, board)
        seconds = time.perf_counter() - started
    return {"seconds": seconds, "placed": len(placed), "left": len(left)}


def dispatch(backlog: int, residents: int) -> dict[str, object]:
    from sqlalchemy import func, select

    from proactive import db
    from proactive.models import Route

    engine = db.make_engine(f"sqlite:///{DB}")
    started = time.perf_counter()
    figures = district.dispatch(engine)
    seconds = time.perf_counter() - started
    with engine.connect() as conn:
        routes, stops = conn.execute(select(func.count(), func.sum(Route.stops))).one()
    return {"seconds": seconds, "figures": figures, "routes": routes, "stops": stops}


PHASES = {"prepare": prepare, "place": place, "dispatch": dispatch}


def report(results: dict[str, dict[str, object]]) -> None:
    place_s = float(results["place"]["seconds"])  # type: ignore[arg-type]
    stage = results["dispatch"]
    figures = stage["figures"]
    assert isinstance(figures, dict)
    stage_s = float(stage["seconds"])  # type: ignore[arg-type]
    lines = [
        "| phase | seconds | ÷ placement | tasks | worker-days | last day | peak RSS |",
        "|---|---:|---:|---:|---:|---|---:|",
        f"| placement only (pure) | {place_s:.2f} | 1.0× | {results['place']['placed']} | | | "
        f"{results['place']['peak_rss_mb']} MB |",
        f"| dispatch stage (SQLite) | {stage_s:.2f} | {stage_s / place_s:.1f}× | "
        f"{figures.get('planned')} | {stage['routes']} | {figures.get('last_day')} | "
        f"{stage['peak_rss_mb']} MB |",
    ]
    print("\n".join(lines))
    print(
        f"late against the 15-day service level: {figures.get('late', 0)}; "
        f"outside the circle: {figures.get('outside_circle', 0)}"
    )
    (OUT / "dispatch-results.json").write_text(json.dumps(results, indent=2, default=str), "utf-8")


if __name__ == "__main__":
    main()
