"""Benchmark: a normal night's run on a registry of 100,000 people and on one of 1,000,000,
each with the same number of people reaching 60 that day.

For each size: generate the extract (cached under bench/out/), ingest it into a fresh SQLite
database, run the night before (the first run takes the whole backlog of people already over
60), then time the run for the benchmark day, each in its own process for its peak RSS.
Target: the larger registry's night takes at most 1.5× the smaller's.

Usage: python bench/nightly_bench.py [--sizes 100000 1000000] [--turning-60 40] [--postgres URL]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from pathlib import Path

from measured import run_phase

OUT = Path(__file__).resolve().parent / "out"
DAY = dt.date(2026, 11, 25)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--turning-60", type=int, default=40)
    parser.add_argument("--postgres", default="", help="also run against this PostgreSQL URL")
    parser.add_argument("--phase", help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    parser.add_argument("--dir", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        print(json.dumps(phase(args.phase, args.db, Path(args.dir))))
        return
    results = []
    for size in args.sizes:
        extract = prepare(size, args.turning_60)
        backends = [("sqlite", f"sqlite:///{OUT}/nightly-{size}.db")]
        if args.postgres:
            backends.append(("postgresql", args.postgres))
        for backend, url in backends:
            reset(backend, url, size)
            measure("ingest", url, extract)
            backlog = measure("backlog", url, extract)
            night = measure("night", url, extract)
            results.append({"size": size, "backend": backend, "backlog": backlog, "night": night})
    report(results)


def prepare(size: int, turning_60: int) -> Path:
    from proactive.demo.synth import SynthOptions, write_extract

    extract = OUT / f"nightly-extract-{size}"
    if not (extract / "persons.csv").exists():
        write_extract(extract, SynthOptions(residents=size, as_of=DAY, turning_60=turning_60))
    return extract


def reset(backend: str, url: str, size: int) -> None:
    if backend == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(f"{OUT}/nightly-{size}.db{suffix}").unlink(missing_ok=True)
        return
    from sqlalchemy import create_engine, text

    with create_engine(url).begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))


def measure(name: str, url: str, extract: Path) -> dict[str, object]:
    result = run_phase(__file__, "--phase", name, "--db", url, "--dir", str(extract))
    seconds = float(result["seconds"])  # type: ignore[arg-type]
    print(f"{name:<8} {url:<60} {seconds:>8.2f} s {result['peak_rss_mb']:>6} MB", file=sys.stderr)
    return result


def phase(name: str, url: str, extract: Path) -> dict[str, object]:
    from proactive import db
    from proactive.nightly.run import RunOptions, run_nightly
    from proactive.programs.catalog import load_catalog
    from proactive.registry.ingest import ingest
    from proactive.settings import ROOT

    engine = db.make_engine(url)
    db.upgrade(engine)
    clock = lambda: dt.datetime.now(dt.UTC)  # noqa: E731
    started = time.perf_counter()
    if name == "ingest":
        ingest(engine, extract, clock)
        return {"seconds": time.perf_counter() - started}
    day = DAY - dt.timedelta(days=1) if name == "backlog" else DAY
    report = run_nightly(
        engine, load_catalog(ROOT / "jobs"), RunOptions(as_of=day), clock, "330108"
    )
    return {"seconds": time.perf_counter() - started, "stages": report.stages}


def report(results: list[dict[str, object]]) -> None:
    lines = [
        "| registry | backend | first night (backlog) | normal night | opened | peak RSS |",
        "|---:|---|---:|---:|---:|---:|",
    ]
    for r in results:
        night = r["night"]
        backlog = r["backlog"]
        assert isinstance(night, dict) and isinstance(backlog, dict)
        opened = sum(v for k, v in night["stages"]["detect"].items() if k.startswith("opened:"))
        lines.append(
            f"| {r['size']:,} | {r['backend']} | {backlog['seconds']:.2f} s | "
            f"{night['seconds']:.3f} s | {opened} | {night['peak_rss_mb']} MB |"
        )
    by_backend: dict[str, list[float]] = {}
    for r in results:
        night = r["night"]
        assert isinstance(night, dict)
        by_backend.setdefault(str(r["backend"]), []).append(float(night["seconds"]))
    for backend, times in by_backend.items():
        if len(times) == 2:
            lines.append(
                f"\n{backend}: normal night, largest ÷ smallest = {times[1] / times[0]:.2f}"
            )
    print("\n".join(lines))
    (OUT / "nightly-results.json").write_text(
        json.dumps(results, indent=2, default=str), encoding="utf-8"
    )


if __name__ == "__main__":
    main()
