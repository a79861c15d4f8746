"""Benchmark: the field app's busiest pages on a district-size database, 50 sessions at once.

Preparation (timed apart, not part of the figures): a district of 230,000 synthetic residents
(bench/district.py: the demo's synthetic extract ingested, cases detected) with 20,000
senior-certificate deliveries dispatched into visits and routes, in a SQLite file in a temporary
directory (or, with --postgres URL or PROACTIVE_BENCH_POSTGRES_URL, in a schema of its own
created in that PostgreSQL database and dropped afterwards); one account per session:
workers with visits on the day, supervisors of sites with visits on the day.

Then the app (web/app.py, as `proactive serve` builds it: one process, its clock pinned to
that day) is served by uvicorn in a process of its own, and 50 sessions (httpx async clients,
each signed in as a worker or a supervisor) request, all at once, the worker's day (GET /day)
or the supervisor's dashboard (GET /site), twice over:
- "think": each session waits a think time between its requests (uniform 0.5–1.5 × --think
  seconds, 1 s by default: a person reading the page, much busier than a real one);
- "flood": no wait at all, each session sends its next request as soon as the last answers:
  the server's capacity; its latency is then 50 ÷ requests per second (Little's law).
Printed: median and p95 latency per page, requests per second, the server's peak RSS.
Target: p95 < 200 ms.

Usage: nice -n 5 python bench/web_bench.py [--sessions 50] [--requests 20] [--think 1.0]
           [--workers 1] [--residents 230000] [--tasks 20000] [--postgres URL]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import district

PASSWORD = "基准测试用的密码2026"
PAGES = {"worker": "/day", "supervisor": "/site"}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--sessions", type=int, default=50)
    parser.add_argument("--requests", type=int, default=20, help="per session")
    parser.add_argument("--think", type=float, default=1.0, help="mean seconds between requests")
    parser.add_argument("--residents", type=int, default=230_000)
    parser.add_argument("--tasks", type=int, default=20_000)
    parser.add_argument(
        "--postgres",
        default=os.environ.get("PROACTIVE_BENCH_POSTGRES_URL"),
        help="a PostgreSQL URL instead of a SQLite file",
    )
    parser.add_argument(
        "--workers", type=int, default=1, help="server processes (as `proactive serve --workers`)"
    )
    parser.add_argument("--serve", help=argparse.SUPPRESS)  # URL:PORT, in the server process
    args = parser.parse_args()
    if args.serve:
        url, port, day = args.serve.rsplit("|", 2)
        serve(url, int(port), dt.date.fromisoformat(day), args.workers)
        return
    with (
        tempfile.TemporaryDirectory(prefix="web-bench-") as tmp,
        database(args.postgres, tmp) as url,
    ):
        started = time.perf_counter()
        accounts, day = prepare(url, args.residents, args.tasks, args.sessions)
        print(f"prepared in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        runs = {
            mode: measure(url, accounts, args.requests, day, think, args.workers)
            for mode, think in (("think", args.think), ("flood", 0.0))
        }
    for mode, results in runs.items():
        report(results, url.split(":", 1)[0].split("+")[0], mode, args)


# -- preparation --------------------------------------------------------------------------------
@contextmanager
def database(postgres: str | None, tmp: str) -> Iterator[str]:
    """A SQLite file in `tmp`, or a fresh schema in the PostgreSQL database (dropped after)."""
    if not postgres:
        yield f"sqlite:///{tmp}/district.db"
        return
    from sqlalchemy import text

    from proactive import db

    schema, admin = f"web_bench_{os.getpid()}", db.make_engine(postgres)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{postgres}{'&' if '?' in postgres else '?'}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def prepare(
    url: str, residents: int, tasks: int, sessions: int
) -> tuple[list[tuple[str, str]], dt.date]:
    """The district, its visits, and the accounts: (name, role) per session; the day served
    (the first day dispatch planned)."""
    from sqlalchemy import func, select, text

    from proactive import db
    from proactive.models import Task

    engine = db.make_engine(url)
    district.backlog(engine, residents, tasks)
    figures = district.dispatch(engine)
    print(f"dispatched: {figures}", file=sys.stderr)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":  # statistics, as autovacuum keeps them live
            conn.execute(text("ANALYZE"))
        day = conn.execute(select(func.min(Task.day))).scalar_one()
    return accounts(engine, sessions, day), day


def noon(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(2, 0), tzinfo=dt.UTC)  # 10:00 in Shanghai


def accounts(engine: object, sessions: int, day: dt.date) -> list[tuple[str, str]]:
    """Half workers with the most visits on the day, half supervisors of the busiest sites."""
    from sqlalchemy import Engine, func, select
    from sqlalchemy.orm import Session

    from proactive.accounts import users
    from proactive.accounts.roles import Role
    from proactive.models import Task

    assert isinstance(engine, Engine)
    workers_wanted, sites_wanted = sessions - sessions // 2, sessions // 2
    with Session(engine) as s, s.begin():
        workers = s.scalars(
            select(Task.worker_id)
            .where(Task.day == day)
            .group_by(Task.worker_id)
            .order_by(func.count().desc(), Task.worker_id)
            .limit(workers_wanted)
        ).all()
        sites = s.scalars(
            select(Task.site_id)
            .where(Task.day == day)
            .group_by(Task.site_id)
            .order_by(func.count().desc(), Task.site_id)
            .limit(sites_wanted)
        ).all()
        made: list[tuple[str, str]] = []
        for n, (role, key) in enumerate(
            [(Role.worker, w) for w in workers] + [(Role.supervisor, x) for x in sites]
        ):
            name = f"bench{n}"
            worker_id, site_id = (key, "") if role is Role.worker else ("", key)
            code = users.add(s, name, role, worker_id, site_id, noon(day))
            users.choose_password(s, name, code, PASSWORD, noon(day))
            made.append((name, role.value))
    if len(made) < sessions:
        print(f"only {len(made)} accounts: too few workers or sites busy that day", file=sys.stderr)
    return made


# -- the server, in its own process --------------------------------------------------------------
def serve(url: str, port: int, day: dt.date, workers: int) -> None:
    """The app on `port`: one process, or `workers` processes each building the app with
    `pinned_app` (as `proactive serve --workers` builds its own with web.app.from_environment)."""
    import uvicorn

    if workers == 1:
        uvicorn.run(pinned_app(url, day), host="127.0.0.1", port=port, log_level="error")
        return
    os.environ.update({"WEB_BENCH_URL": url, "WEB_BENCH_DAY": day.isoformat()})
    uvicorn.run(
        f"{Path(__file__).stem}:{from_environment.__name__}",
        factory=True,
        workers=workers,
        app_dir=str(Path(__file__).parent),
        host="127.0.0.1",
        port=port,
        log_level="error",
    )


def pinned_app(url: str, day: dt.date) -> object:
    from proactive import db
    from proactive.settings import Settings
    from proactive.web.app import create_app

    settings = Settings.from_env({"PROACTIVE_LOG_LEVEL": "ERROR"})
    return create_app(db.make_engine(url), settings, lambda: noon(day))


def from_environment() -> object:
    return pinned_app(
        os.environ["WEB_BENCH_URL"], dt.date.fromisoformat(os.environ["WEB_BENCH_DAY"])
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def peak_rss_mb(pid: int) -> int:
    """The peak RSS of the server: its process and, with several workers, theirs added."""
    total = 0
    from proactive.processes import children

    for process in [pid, *children(pid)]:
        found = re.search(r"VmHWM:\s+(\d+) kB", Path(f"/proc/{process}/status").read_text())
        total += int(found.group(1)) if found else 0
    return round(total / 1024)


# -- the sessions ------------------------------------------------------------------------------
def measure(
    url: str,
    accounts: list[tuple[str, str]],
    requests: int,
    day: dt.date,
    think: float,
    workers: int,
) -> dict[str, object]:
    port = free_port()
    command = [
        sys.executable,
        __file__,
        "--serve",
        f"{url}|{port}|{day}",
        "--workers",
        str(workers),
    ]
    env = {**os.environ, "PROACTIVE_LOG_LEVEL": "ERROR"}
    server = subprocess.Popen(command, env=env)
    try:
        base = f"http://127.0.0.1:{port}"
        asyncio.run(ready(base))
        timings, seconds = asyncio.run(sessions(base, accounts, requests, think))
        return {
            "timings": timings,
            "seconds": seconds,
            "peak_rss_mb": peak_rss_mb(server.pid),
            "sessions": len(accounts),
        }
    finally:
        server.terminate()
        server.wait(timeout=30)


async def ready(base: str) -> None:
    import httpx

    async with httpx.AsyncClient(base_url=base) as client:
        for _ in range(600):
            try:
                if (await client.get("/healthz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise SystemExit("the server did not start")


async def sessions(
    base: str, accounts: list[tuple[str, str]], requests: int, think: float
) -> tuple[dict[str, list[float]], float]:
    import httpx

    clients = [httpx.AsyncClient(base_url=base, timeout=60) for _ in accounts]
    try:
        for client, (name, _role) in zip(clients, accounts, strict=True):
            await sign_in(client, name)
        timings: dict[str, list[float]] = {page: [] for page in PAGES.values()}
        started = time.perf_counter()
        await asyncio.gather(
            *(
                browse(client, PAGES[role], requests, think, random.Random(n), timings[PAGES[role]])
                for n, (client, (_name, role)) in enumerate(zip(clients, accounts, strict=True))
            )
        )
        return timings, time.perf_counter() - started
    finally:
        for client in clients:
            await client.aclose()


async def sign_in(client: object, name: str) -> None:
    import httpx

    assert isinstance(client, httpx.AsyncClient)
    form = (await client.get("/login")).text
    token = re.search(r'name="csrf" value="([^"]+)"', form)
    assert token, "no CSRF token on the sign-in page"
    fields = {"csrf": token.group(1), "name": name, "password": PASSWORD}
    answer = await client.post("/login", data=fields)
    if answer.status_code != 303:
        raise SystemExit(f"{name} could not sign in ({answer.status_code})")


async def browse(
    client: object,
    path: str,
    requests: int,
    think: float,
    rng: random.Random,
    into: list[float],
) -> None:
    """`requests` GETs of one page, a think time apart (the first after one, so that the
    sessions do not start in step)."""
    import httpx

    assert isinstance(client, httpx.AsyncClient)
    for _ in range(requests):
        await asyncio.sleep(rng.uniform(0.5, 1.5) * think)
        started = time.perf_counter()
        answer = await client.get(path)
        into.append(time.perf_counter() - started)
        if answer.status_code != 200:
            raise SystemExit(f"GET {path}: {answer.status_code}")


# -- the figures -------------------------------------------------------------------------------
def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def report(results: dict[str, object], backend: str, mode: str, args: argparse.Namespace) -> None:
    timings = results["timings"]
    assert isinstance(timings, dict)
    seconds = float(results["seconds"])  # type: ignore[arg-type]
    total = sum(len(v) for v in timings.values())
    lines = [
        f"{backend}, {mode}: {args.residents:,} residents, {args.tasks:,} visits; "
        f"{results['sessions']} sessions × {args.requests} requests"
        + (f", think {args.think} s" if mode == "think" else ", no think time")
        + (f"; {args.workers} server processes" if args.workers > 1 else ""),
        "| page | requests | median | p95 | max |",
        "|---|---:|---:|---:|---:|",
    ]
    for path, values in timings.items():
        lines.append(
            f"| GET {path} | {len(values)} | {statistics.median(values) * 1000:.0f} ms | "
            f"{percentile(values, 0.95) * 1000:.0f} ms | {max(values) * 1000:.0f} ms |"
        )
    lines.append(
        f"{total} requests in {seconds:.1f} s: {total / seconds:.0f} requests/s; "
        f"server peak RSS {results['peak_rss_mb']} MB"
    )
    print("\n".join(lines))
    district.OUT.mkdir(exist_ok=True)
    summary = {
        path: {
            "median_ms": statistics.median(v) * 1000,
            "p95_ms": percentile(v, 0.95) * 1000,
        }
        for path, v in timings.items()
    }
    (district.OUT / f"web-results-{backend}-{mode}-{args.workers}.json").write_text(
        json.dumps(
            {**summary, "rps": total / seconds, "peak_rss_mb": results["peak_rss_mb"]}, indent=2
        ),
        "utf-8",
    )


if __name__ == "__main__":
    main()
