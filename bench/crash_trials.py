"""Crash trials: kill -9 `proactive run` and `proactive worker` at random moments, rerun, and
compare the state with an uninterrupted night's.

    python bench/crash_trials.py [--trials 20] [--worker-trials 5] [--residents 3000]
                                 [--postgres URL] [--seed 7]

On PostgreSQL (one fresh schema per trial): a synthetic extract (proactive.demo.synth) whose
first run issues hundreds of certificates. The reference is one uninterrupted
`proactive run --extract`. Each trial starts the same run, kills it (SIGKILL) at a random
moment of the reference's duration, runs it again to the end, and compares: cases (person,
program, status), certificates (number, holder, program, status), tasks (person, program,
site, worker, day, stop, status), queued messages (number, kind, status), `proactive doctor`
(every active certificate's PDF present and unchanged, no PDF without its row, no temporary
file, one live task per scheduled case), and the run lock released. Worker trials then
send the reference night's messages through the console backend, kill the worker while it
sends, start it again, reconcile, and check no message was sent twice and none was lost.
Prints each trial, the failures and the worst divergence.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import random
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, select, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from proactive import bootstrap  # noqa: E402
from proactive.certificates.file_store import DirectoryStore  # noqa: E402
from proactive.demo import synth  # noqa: E402
from proactive.models import Case, Certificate, Message, RunLock, Task  # noqa: E402
from proactive.nightly import invariants  # noqa: E402
from proactive.time import SHANGHAI  # noqa: E402

OUT = ROOT / "bench" / "out" / "crash"
PROACTIVE = [sys.executable, "-m", "proactive.cli.main"]


@dataclass
class Trial:
    name: str
    killed_at: float
    finished_before_kill: bool = False
    lock_cleared: bool = False
    divergences: list[str] = field(default_factory=list)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--worker-trials", type=int, default=5)
    parser.add_argument("--residents", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--postgres",
        default=os.environ.get(
            "PROACTIVE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
        ),
    )
    args = parser.parse_args()
    rng = random.Random(args.seed)
    OUT.mkdir(parents=True, exist_ok=True)
    day = bootstrap.today_shanghai()
    extract = OUT / f"extract-{args.residents}-{day}"
    if not extract.exists():
        synth.write_extract(extract, synth.SynthOptions(residents=args.residents, as_of=day))
    if not (OUT / "keys" / "district.key").exists():
        setup = {**_env(args.postgres, "", OUT), "PROACTIVE_DATABASE_URL": f"sqlite:///{OUT}/k.db"}
        _cli(setup, "keys", "init")
    reference, seconds = _reference(args.postgres, extract, day)
    print(
        f"reference: {len(reference['certificates'])} certificates, {len(reference['tasks'])} "
        f"tasks, {len(reference['messages'])} messages; run {seconds:.1f} s"
    )
    trials = [
        _run_trial(args.postgres, extract, day, reference, rng.uniform(0.2, seconds), n)
        for n in range(args.trials)
    ]
    trials += [
        _worker_trial(args.postgres, extract, day, rng, n) for n in range(args.worker_trials)
    ]
    _summary(trials)


def _schema_url(base: str, schema: str) -> str:
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    return f"{base}?options=-csearch_path%3D{schema}"


def _env(base: str, schema: str, work: Path) -> dict[str, str]:
    work.mkdir(parents=True, exist_ok=True)
    url = _schema_url(base, schema) if schema else ""
    quiet = (bootstrap.utc_now().astimezone(SHANGHAI).hour + 12) % 24  # far from now: all due
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT / "src"),
        "PROACTIVE_DATABASE_URL": url,
        "PROACTIVE_KEY_DIR": str(OUT / "keys"),
        "PROACTIVE_CERTIFICATE_DIR": str(work / "pdf"),
        "PROACTIVE_SMS_BACKEND": "console",
        "PROACTIVE_SMS_LOG": str(work / "sms.jsonl"),
        "PROACTIVE_SMS_RATE": "1000",
        "PROACTIVE_SMS_DAILY_CAP": "100",
        "PROACTIVE_SMS_STUCK_MINUTES": "0",
        "PROACTIVE_QUIET_HOURS": f"{quiet:02d}:00-{quiet:02d}:01",
        "PROACTIVE_LOG_LEVEL": "ERROR",
    }


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*PROACTIVE, *args], env=env, capture_output=True, text=True)


def _night(extract: Path, day: object) -> list[str]:
    return [*PROACTIVE, "run", "--date", str(day), "--extract", str(extract)]


def _reference(base: str, extract: Path, day: object) -> tuple[dict[str, Any], float]:
    schema = f"crash_ref_{uuid.uuid4().hex[:8]}"
    env = _env(base, schema, OUT / schema)
    _cli(env, "db", "upgrade")
    started = time.monotonic()
    done = subprocess.run(_night(extract, day), env=env, capture_output=True, text=True)
    seconds = time.monotonic() - started
    if done.returncode != 0:
        raise SystemExit(f"reference run failed: {done.stderr.strip()[-400:]}")
    state = _state(env)
    _drop(base, schema)
    return state, seconds


def _run_trial(
    base: str, extract: Path, day: object, reference: dict[str, Any], at: float, n: int
) -> Trial:
    schema = f"crash_{n}_{uuid.uuid4().hex[:8]}"
    env = _env(base, schema, OUT / schema)
    _cli(env, "db", "upgrade")
    trial = Trial(f"run #{n + 1}", at)
    process = subprocess.Popen(
        _night(extract, day), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    time.sleep(at)
    trial.finished_before_kill = process.poll() is not None
    process.kill()
    process.wait()
    rerun = subprocess.run(_night(extract, day), env=env, capture_output=True, text=True)
    if rerun.returncode != 0 and "lock" in rerun.stderr.lower():
        trial.lock_cleared = _clear_lock(env)  # until the lock is taken over by itself
        rerun = subprocess.run(_night(extract, day), env=env, capture_output=True, text=True)
    if rerun.returncode != 0:
        trial.divergences.append(f"rerun failed: {rerun.stderr.strip()[-300:]}")
    else:
        trial.divergences += _compare(reference, _state(env))
    _report(trial)
    _drop(base, schema)
    return trial


def _worker_trial(base: str, extract: Path, day: object, rng: random.Random, n: int) -> Trial:
    schema = f"crash_w{n}_{uuid.uuid4().hex[:8]}"
    work = OUT / schema
    env = _env(base, schema, work)
    _cli(env, "db", "upgrade")
    night = subprocess.run(_night(extract, day), env=env, capture_output=True, text=True)
    if night.returncode != 0:
        raise SystemExit(f"run failed: {night.stderr.strip()[-400:]}")
    due = _due(env)
    at = rng.uniform(0.5, 4.0)
    trial = Trial(f"worker #{n + 1}", at)
    process = subprocess.Popen(
        [*PROACTIVE, "worker"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    time.sleep(at)
    trial.finished_before_kill = process.poll() is not None
    process.kill()
    process.wait()
    for command in (["sms", "reconcile"], ["worker", "--once"], ["sms", "reconcile"]):
        done = _cli(env, *command)
        if done.returncode != 0:
            trial.divergences.append(f"{' '.join(command)} failed: {done.stderr.strip()[-300:]}")
    trial.divergences += _sent_once(env, work / "sms.jsonl", due)
    _report(trial)
    _drop(base, schema)
    return trial


def _engine(env: dict[str, str]) -> Engine:
    return create_engine(env["PROACTIVE_DATABASE_URL"])


def _state(env: dict[str, str]) -> dict[str, Any]:
    engine = _engine(env)
    with engine.connect() as conn:
        state = {
            "cases": sorted(conn.execute(select(Case.id_number, Case.program, Case.status)).all()),
            "certificates": sorted(
                conn.execute(
                    select(
                        Certificate.certificate_no,
                        Certificate.id_number,
                        Certificate.program,
                        Certificate.status,
                    )
                ).all()
            ),
            "tasks": sorted(
                conn.execute(
                    select(
                        Task.id_number,
                        Task.program,
                        Task.site_id,
                        Task.worker_id,
                        Task.day,
                        Task.stop,
                        Task.status,
                        Task.certificate_no,
                    )
                ).all()
            ),
            "messages": sorted(
                conn.execute(select(Message.to_number, Message.kind, Message.status)).all()
            ),
            "locks": conn.execute(select(RunLock.name)).scalars().all(),
            "doctor": [
                v.line()
                for v in invariants.check_all(
                    conn, DirectoryStore(Path(env["PROACTIVE_CERTIFICATE_DIR"]))
                )
            ],
        }
    engine.dispose()
    return state


def _compare(reference: dict[str, Any], state: dict[str, Any]) -> list[str]:
    found: list[str] = []
    for part in ("cases", "certificates", "tasks", "messages"):
        want, got = collections.Counter(reference[part]), collections.Counter(state[part])
        if want != got:
            missing, extra = want - got, got - want
            found.append(
                f"{part}: {sum(missing.values())} missing, {sum(extra.values())} extra "
                f"(e.g. {next(iter(missing or extra))})"
            )
    if state["locks"]:
        found.append(f"lock still held: {state['locks']}")
    found += [f"doctor: {line}" for line in state["doctor"][:3]]
    if len(state["doctor"]) > 3:
        found.append(f"doctor: {len(state['doctor'])} problems in all")
    return found


def _due(env: dict[str, str]) -> int:
    engine = _engine(env)
    with engine.connect() as conn:
        count = conn.execute(
            select(Message.id).where(
                Message.status == "queued", Message.not_before <= bootstrap.utc_now()
            )
        ).all()
    engine.dispose()
    return len(count)


def _sent_once(env: dict[str, str], log: Path, due: int) -> list[str]:
    lines = [json.loads(line) for line in log.read_text("utf-8").splitlines() if _whole(line)]
    twice = [
        k for k, v in collections.Counter((r["to"], r["body"]) for r in lines).items() if v > 1
    ]
    engine = _engine(env)
    with engine.connect() as conn:
        statuses = collections.Counter(conn.execute(select(Message.status)).scalars())
    engine.dispose()
    found = [f"sent twice: {len(twice)} messages"] if twice else []
    if statuses.get("sending"):
        found.append(f"{statuses['sending']} messages left `sending`")
    recorded = statuses.get("sent", 0) + statuses.get("delivered", 0)
    if recorded != due or len(lines) != due:
        found.append(f"{due} due, {recorded} recorded sent, {len(lines)} in the console file")
    return found


def _whole(line: str) -> bool:
    try:
        json.loads(line)
    except ValueError:
        return False
    return True


def _clear_lock(env: dict[str, str]) -> bool:
    engine = _engine(env)
    with engine.begin() as conn:
        cleared = conn.execute(RunLock.__table__.delete()).rowcount > 0
    engine.dispose()
    return cleared


def _drop(base: str, schema: str) -> None:
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def _report(trial: Trial) -> None:
    how = "finished before the kill" if trial.finished_before_kill else "killed"
    lock = "; stale lock cleared by the script" if trial.lock_cleared else ""
    verdict = "ok" if not trial.divergences else "; ".join(trial.divergences)
    print(f"{trial.name}: {how} at {trial.killed_at:.2f} s{lock}: {verdict}", flush=True)


def _summary(trials: list[Trial]) -> None:
    failed = [t for t in trials if t.divergences]
    killed = sum(not t.finished_before_kill for t in trials)
    cleared = sum(t.lock_cleared for t in trials)
    print(
        f"trials {len(trials)} (killed mid-way {killed}), failures {len(failed)}, "
        f"stale locks cleared by the script {cleared}"
    )
    worst = max(failed, key=lambda t: len(t.divergences), default=None)
    print(f"worst divergence: {'; '.join(worst.divergences) if worst else 'none'}")


if __name__ == "__main__":
    main()
