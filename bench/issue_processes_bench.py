"""Benchmark: issuing 2,000 senior certificates on PostgreSQL with one process and with two
(`proactive certificates issue --processes N`), to a directory and to S3-compatible object
storage (moto's server on 127.0.0.1, so the object-store figure includes real HTTP PUTs).

Each measurement starts from the same state, prepared untimed in a fresh schema: the synthetic
district ingested and a run that detected and approved the cases without issuing; then the
command itself runs as a user would start it (interpreter start and imports included, for one
process as for two). Printed: wall seconds, certificates per second, the speed-up of two
processes over one (target ≥ 1.8× on this 2-core machine), and the peak RSS of a process.

Usage: python bench/issue_processes_bench.py [--count 2000] [--url postgresql+psycopg://...]
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

DAY = dt.date(2026, 11, 25)
NOW = dt.datetime(2026, 11, 25, 2, 0, tzinfo=dt.UTC)
CLI = "from proactive.cli.main import app; app()"
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_DEFAULT_REGION": "cn-north-1",
}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument(
        "--url",
        default=os.environ.get(
            "PROACTIVE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
        ),
    )
    args = parser.parse_args()
    os.environ.update(CREDENTIALS)
    os.environ["PROACTIVE_LOG_LEVEL"] = "ERROR"
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per PUT otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    work = Path(tempfile.mkdtemp(prefix="issue-bench-"))
    extract = prepare_extract(work, args.count)
    rows = []
    try:
        for store in ("directory", "s3"):
            for processes in (1, 2):
                rows.append(
                    measure(args.url, work, extract, store, processes, endpoint, args.count)
                )
    finally:
        server.stop()
    report(rows)


def prepare_extract(work: Path, count: int) -> Path:
    from proactive.certificates import keys
    from proactive.demo.synth import SynthOptions, write_extract

    keys.init(work / "keys")
    options = SynthOptions(residents=count * 2, as_of=DAY, turning_60=count, bad_rows=False)
    write_extract(work / "extract", options)
    return work / "extract"


def measure(
    url: str, work: Path, extract: Path, store: str, processes: int, endpoint: str, count: int
) -> dict[str, object]:
    import boto3
    from sqlalchemy import text

    from proactive import bootstrap, db
    from proactive.nightly.run import RunOptions, run_nightly
    from proactive.registry.ingest import ingest
    from proactive.settings import Settings

    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = db.make_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    where = str(work / f"pdf-{schema}")
    if store == "s3":
        bucket = schema.replace("_", "-")
        boto3.client("s3", endpoint_url=endpoint).create_bucket(
            Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "cn-north-1"}
        )
        where = f"s3://{bucket}/certificates"
    environment = {
        "PROACTIVE_DATABASE_URL": f"{url}?options=-csearch_path%3D{schema}",
        "PROACTIVE_KEY_DIR": str(work / "keys"),
        "PROACTIVE_CERTIFICATE_DIR": where,
        "PROACTIVE_S3_ENDPOINT_URL": endpoint,
        "PROACTIVE_LOG_LEVEL": "ERROR",
    }
    settings = Settings.from_env(environment)
    engine = db.make_engine(settings.database_url)
    try:
        db.upgrade(engine)
        ingest(engine, extract, lambda: NOW)
        senior = {"senior_certificate": bootstrap.programs()["senior_certificate"]}
        run_nightly(engine, senior, RunOptions(as_of=DAY), lambda: NOW, "330108")
        command = [sys.executable, "-c", CLI, "certificates", "issue", "--date", DAY.isoformat()]
        started = time.perf_counter()
        done = subprocess.run(
            [*command, "--processes", str(processes)],
            env={**os.environ, **environment},
            capture_output=True,
            text=True,
            check=True,
        )
        seconds = time.perf_counter() - started
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
    issued = int(re.search(r"issued:senior_certificate=(\d+)", done.stdout).group(1))  # type: ignore[union-attr]
    assert issued >= count * 0.9, done.stdout  # a synthetic few go to review
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    row = {
        "store": store,
        "processes": processes,
        "issued": issued,
        "seconds": round(seconds, 2),
        "per_second": round(issued / seconds, 1),
        "peak_rss_mb": round(peak / 1024),
    }
    print(row, file=sys.stderr)
    return row


def report(rows: list[dict[str, object]]) -> None:
    print("| store | processes | certificates | wall s | per second | × one process | peak RSS |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    one = {r["store"]: float(r["per_second"]) for r in rows if r["processes"] == 1}  # type: ignore[arg-type]
    for r in rows:
        ratio = float(r["per_second"]) / one[str(r["store"])]  # type: ignore[arg-type]
        print(
            f"| {r['store']} | {r['processes']} | {r['issued']:,} | {r['seconds']} | "
            f"{r['per_second']} | {ratio:.2f}× | {r['peak_rss_mb']} MB |"
        )
    print(f"load average at the end: {os.getloadavg()[0]:.1f} ({os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
