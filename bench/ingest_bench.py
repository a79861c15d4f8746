"""Benchmark: ingest of a synthetic extract with 1,000,000 persons.

Prints rows per second, peak memory (RSS of each phase's own process) and ratios against
pandas.read_csv of the same files, measured in the same run:

  read_csv          pandas.read_csv(path) with its defaults (types inferred)
  read_csv as text  pandas.read_csv(path, dtype=str, keep_default_na=False): every value as
                    written, which is what a loader must read (ID numbers, leading zeros)
  ingest            `proactive ingest` into an empty database
  re-ingest         the same extract again: files byte-identical to the last load are skipped
  re-ingest rows    the same rows with other line ends (Unix for the generator's Windows
                    ones): every row read, hashed and found unchanged (nothing written)
  1% changed        an extract where 1% of persons rows changed
  delta 1%          a delta extract (a DELTA file, persons.csv only) of another 1% of persons
                    changed: compared only with the stored rows of its own keys

Usage: python bench/ingest_bench.py [--persons N] [--postgres URL]
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import shutil
import sys
import time
from pathlib import Path

from measured import run_phase

OUT = Path(__file__).resolve().parent / "out"
AS_OF = dt.date(2026, 11, 25)
PERMIT_SHARE = 0.15


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--postgres", default="", help="also run against this PostgreSQL URL")
    parser.add_argument("--phase", help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    parser.add_argument("--dir", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        print(json.dumps(phase_result(args.phase, Path(args.dir), args.db)))
        return
    extract, changed, crlf, delta = prepare(args.persons)
    results: list[dict[str, object]] = []
    results.append(measure("read_csv", extract))
    results.append(measure("read_csv_text", extract))
    backends = [("sqlite", f"sqlite:///{OUT}/bench.db")]
    if args.postgres:
        backends.append(("postgresql", args.postgres))
    for backend, url in backends:
        reset(backend, url)
        results.append(measure("ingest", extract, url, backend))
        results.append(measure("reingest", extract, url, backend))
        results.append(measure("reingest_rows", crlf, url, backend))
        results.append(measure("changed_1pct", changed, url, backend))
        results.append(measure("delta_1pct", delta, url, backend))
    report(results, args.persons)


def prepare(persons: int) -> tuple[Path, Path, Path, Path]:
    from proactive.demo.synth import SynthOptions, write_extract

    extract = OUT / f"extract-{persons}"
    if not (extract / "persons.csv").exists():
        started = time.perf_counter()
        residents = round(persons / (1 - PERMIT_SHARE))
        write_extract(
            extract, SynthOptions(residents=residents, as_of=AS_OF, permit_share=PERMIT_SHARE)
        )
        print(f"generated {extract} in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    changed = OUT / f"extract-{persons}-changed"
    if not (changed / "persons.csv").exists():
        shutil.copytree(extract, changed, dirs_exist_ok=True)
        change_one_percent(extract / "persons.csv", changed / "persons.csv")
    crlf = OUT / f"extract-{persons}-lf"
    if not (crlf / "persons.csv").exists():
        crlf.mkdir(parents=True, exist_ok=True)
        for path in extract.glob("*.csv"):
            (crlf / path.name).write_bytes(other_line_ends(path.read_bytes()))
    delta = OUT / f"extract-{persons}-delta"
    if not (delta / "persons.csv").exists():
        delta.mkdir(parents=True, exist_ok=True)
        (delta / "DELTA").write_bytes(b"")
        change_one_percent(extract / "persons.csv", delta / "persons.csv", offset=50, only=True)
    in_order(extract, crlf, changed, delta)
    return extract, changed, crlf, delta


def other_line_ends(data: bytes) -> bytes:
    """The same rows with Unix line ends if they were Windows ones (the generator's), else
    Windows ones (never CR CR LF, which reads as blank lines between rows)."""
    if b"\r\n" in data:
        return data.replace(b"\r\n", b"\n")
    return data.replace(b"\n", b"\r\n")


def in_order(*directories: Path) -> None:
    """Each extract a minute newer than the one loaded before it (ingest refuses an older one)."""
    base = (directories[0] / "persons.csv").stat().st_mtime
    for step, directory in enumerate(directories):
        for path in directory.glob("*.csv"):
            os.utime(path, (base + 60 * step, base + 60 * step))


def change_one_percent(source: Path, target: Path, offset: int = 0, only: bool = False) -> None:
    """Every 100th person (from `offset`) gets a new mobile number and a later updated_at;
    `only`: the changed rows alone (a delta)."""
    with (
        source.open(encoding="utf-8", newline="") as inp,
        target.open("w", encoding="utf-8", newline="") as out,
    ):
        reader, writer = csv.reader(inp), csv.writer(out)
        writer.writerow(next(reader))
        for number, row in enumerate(reader):
            if number % 100 == offset:
                row[7] = f"139{number % 100_000_000:08d}"
                row[8] = f"2026-11-24 23:{offset:02d}:00"
            elif only:
                continue
            writer.writerow(row)


def reset(backend: str, url: str) -> None:
    if backend == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(f"{OUT}/bench.db{suffix}").unlink(missing_ok=True)
        return
    from sqlalchemy import create_engine, text

    with create_engine(url).begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))


def measure(phase: str, directory: Path, url: str = "", backend: str = "") -> dict[str, object]:
    result = run_phase(__file__, "--phase", phase, "--dir", str(directory), "--db", url)
    result.update(phase=phase, backend=backend)
    seconds = float(result["seconds"])  # type: ignore[arg-type]
    print(
        f"{backend or '-':<11}{phase:<15}{seconds:>8.2f} s {result['peak_rss_mb']:>6} MB",
        file=sys.stderr,
    )
    return result


def phase_result(phase: str, directory: Path, url: str) -> dict[str, object]:
    files = sorted(directory.glob("*.csv"))
    if phase.startswith("read_csv"):
        import pandas as pd

        kwargs = {"dtype": str, "keep_default_na": False} if phase == "read_csv_text" else {}
        started = time.perf_counter()
        rows = sum(len(pd.read_csv(path, **kwargs)) for path in files)  # type: ignore[call-overload]
        return {"seconds": time.perf_counter() - started, "rows": rows}
    from proactive import db
    from proactive.registry.ingest import ingest

    engine = db.make_engine(url)
    db.upgrade(engine)
    started = time.perf_counter()
    summary = ingest(engine, directory, lambda: dt.datetime.now(dt.UTC))
    seconds = time.perf_counter() - started
    files_summary = {
        f.file: {
            "inserted": f.inserted,
            "updated": f.updated,
            "unchanged": f.unchanged,
            "rejected": f.rejected,
        }
        for f in summary.files
    }
    return {"seconds": seconds, "rows": sum(f.rows for f in summary.files), "files": files_summary}


def report(results: list[dict[str, object]], persons: int) -> None:
    by = {(r["backend"], r["phase"]): r for r in results}
    base = float(by[("", "read_csv")]["seconds"])  # type: ignore[arg-type]
    text = float(by[("", "read_csv_text")]["seconds"])  # type: ignore[arg-type]
    lines = [
        f"ingest benchmark: {persons:,} persons, {by[('', 'read_csv')]['rows']:,} rows in all",
        "| backend | phase | seconds | rows/s | peak RSS | ÷ read_csv | ÷ read_csv as text |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        seconds = float(r["seconds"])  # type: ignore[arg-type]
        rows = int(r["rows"])  # type: ignore[call-overload]
        lines.append(
            f"| {r['backend'] or '-'} | {r['phase']} | {seconds:.2f} | {rows / seconds:,.0f} | "
            f"{r['peak_rss_mb']} MB | {seconds / base:.1f} | {seconds / text:.2f} |"
        )
    for backend in sorted({str(r["backend"]) for r in results} - {""}):
        delta = float(by[(backend, "delta_1pct")]["seconds"])  # type: ignore[arg-type]
        full = float(by[(backend, "changed_1pct")]["seconds"])  # type: ignore[arg-type]
        first = float(by[(backend, "ingest")]["seconds"])  # type: ignore[arg-type]
        lines.append(
            f"{backend}: delta of 1% = {delta / full:.1%} of the full extract with 1% changed, "
            f"{delta / first:.1%} of the first ingest"
        )
    print("\n".join(lines))
    (OUT / "results.json").write_text(json.dumps(results, indent=2, default=str), encoding="utf-8")


if __name__ == "__main__":
    main()
