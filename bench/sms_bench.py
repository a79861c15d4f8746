"""Benchmark: draining the SMS outbox through the Twilio backend, 1 worker against 4.

Each phase runs in a process of its own: a fresh PostgreSQL schema (migrated), `--count` queued
messages to distinct numbers, the local Twilio stand-in answering every request after 50 ms
(Twilio's API answers in about that), and `run_worker` in N threads (`once`: until the outbox is
empty) with the official Twilio client. The rate limit is set high enough not to bind and the
quiet hours are off. Each phase checks that every message was sent exactly once (one create
request per To and Body at the stand-in, every row `sent`). SQLite is not benchmarked: its
claim cannot skip locked rows, so it runs one worker only.

Target: 4 workers at least 3x one.

Usage: python bench/sms_bench.py [--count 10000] [--postgres URL] [--delay 0.05]
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import resource
import sys
import threading
import time
import uuid
from pathlib import Path

from measured import run_phase

OUT = Path(__file__).resolve().parent / "out"
POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
WORKERS = (1, 4)
BODY = "您的老年人优待证已办好，社工李芳将于11月27日上午送证上门，请出示确认码{code}"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--count", type=int, default=10000)
    parser.add_argument("--postgres", default=POSTGRES)
    parser.add_argument("--delay", type=float, default=0.05, help="stand-in answer time, s")
    parser.add_argument("--phase", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        print(json.dumps(drain(args.phase, args.count, args.postgres, args.delay)))
        return
    results = {}
    for workers in WORKERS:
        options = ["--count", str(args.count), "--postgres", args.postgres]
        result = run_phase(__file__, "--phase", str(workers), *options, "--delay", str(args.delay))
        results[workers] = result
        print(
            f"{workers} worker(s): {result['count']} in {result['seconds']:.1f} s, "
            f"{result['per_second']:.1f}/s, peak {result['peak_rss_mb']} MB",
            file=sys.stderr,
        )
    report(results, args.delay)


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def drain(workers: int, count: int, url: str, delay: float) -> dict[str, object]:
    from sqlalchemy import func, insert, select, text

    from proactive import db
    from proactive.models import Message
    from proactive.settings import Settings
    from proactive.sms.backends import TwilioBackend
    from proactive.sms.sender import TokenBucket, run_worker
    from proactive.testing.twilio_standin import ACCOUNT_SID, AUTH_TOKEN, TwilioStandin

    schema = f"sms_bench_{uuid.uuid4().hex[:8]}"
    admin = db.make_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = db.make_engine(url, connect_args={"options": f"-csearch_path={schema}"})
    try:
        db.upgrade(engine)
        now = dt.datetime.now(dt.UTC)
        rows = [
            {
                "idempotency_key": f"bench:{n}",
                "kind": "issued",
                "template": "issued.txt.j2",
                "to_number": f"+86139{n:08d}",
                "addressee": "self",
                "body": BODY.format(code=f"{n % 10000:04d}"),
                "segments": 1,
                "status": "queued",
                "not_before": now,
                "created_at": now,
                "updated_at": now,
            }
            for n in range(count)
        ]
        with engine.begin() as conn:
            conn.execute(insert(Message), rows)
        settings = dataclasses.replace(
            Settings.from_env({}), sms_backend="twilio", sms_rate="100000", quiet_hours=""
        )
        with TwilioStandin(delay=delay) as standin:
            backend = TwilioBackend(
                ACCOUNT_SID, AUTH_TOKEN, from_="+15005550006", api_base=standin.url
            )
            stop, bucket = threading.Event(), TokenBucket(float(settings.sms_rate))
            clock = lambda: dt.datetime.now(dt.UTC)  # noqa: E731
            threads = [
                threading.Thread(
                    target=run_worker,
                    args=(engine, backend, settings, clock, True, stop),
                    kwargs={"bucket": bucket, "worker_id": f"w{n}"},
                )
                for n in range(workers)
            ]
            started, cpu_started = time.perf_counter(), cpu()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            seconds = time.perf_counter() - started
            cpu_seconds = cpu() - cpu_started
            counts = standin.create_counts()
        with engine.connect() as conn:
            sent = conn.scalar(select(func.count()).where(Message.status == "sent"))
        exactly_once = len(counts) == count and set(counts.values()) == {1} and sent == count
        return {
            "workers": workers,
            "count": count,
            "sent": sent,
            "exactly_once": exactly_once,
            "seconds": round(seconds, 2),
            "cpu_seconds": round(cpu_seconds, 2),
            "per_second": round(count / seconds, 1),
        }
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def report(results: dict[int, dict[str, object]], delay: float) -> None:
    one = float(results[1]["per_second"])  # type: ignore[arg-type]
    lines = [
        "| workers | messages | wall s | CPU s | messages/s | × 1 worker | each sent once | "
        "peak RSS |",
        "|---:|---:|---:|---:|---:|---:|---|---:|",
    ]
    for workers, r in results.items():
        rate = float(r["per_second"])  # type: ignore[arg-type]
        lines.append(
            f"| {workers} | {r['count']:,} | {r['seconds']} | {r['cpu_seconds']} | {rate:.1f} | "
            f"{rate / one:.2f}× | {'yes' if r['exactly_once'] else 'NO'} | {r['peak_rss_mb']} MB |"
        )
    lines.append(f"\nThe Twilio stand-in answers every request after {delay * 1000:.0f} ms.")
    print("\n".join(lines))
    OUT.mkdir(exist_ok=True)
    (OUT / "sms-results.json").write_text(json.dumps(results, indent=2), "utf-8")


if __name__ == "__main__":
    main()
