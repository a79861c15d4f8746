"""Crash trials: kill -9 `proactive run` and `proactive worker` at random moments, rerun, and
compare the state with an uninterrupted night's.

    nice -n 10 python bench/crash_trials.py [--trials 20] [--worker-trials 5]
        [--residents 2000] [--postgres URL] [--seed 7] [--send-delay 0.01]

On PostgreSQL (one fresh schema per trial): a synthetic extract (proactive.demo.synth) whose
first run issues hundreds of certificates. The reference is one uninterrupted
`proactive run --extract`. Each run trial starts the same run, kills it (SIGKILL) at a random
moment of a night's duration (the reference's, then the last rerun that did a whole night, as
the machine's load changes), notes what it had committed (certificate rows, PDFs on
disk, the `runs` row), runs it again to the end and compares: cases (person, program,
status), certificates (number, holder, program, status: numbers are gap-free, so no gap is
allowed), tasks (person, program, site, worker, day, stop, status, number), messages (number,
kind, status, body but its random confirmation code), no `runs` row left `running`
(`interrupted` is the dead run's, closed by the rerun), the run lock free (the rerun must
take it over by itself), and `proactive doctor` exit 0 (every active certificate's PDF
present and unchanged, no PDF without its row, no temporary file, one live task per
scheduled case).

Worker trials then use the first trials' databases (equal to the reference night): the Twilio
stand-in (proactive.testing.twilio_standin, answering after `--send-delay` seconds) takes the
due messages; `proactive worker` is killed while it sends (0-2 s after the first message
reached the stand-in), then `sms reconcile`, `worker --once`, `sms reconcile` run, and: no
(number, body) was created twice at the provider, no row is left `sending` or due, every row
recorded sent was created once, and the messages lost are only rows claimed but not yet sent
at the kill (`failed`/"interrupted", the documented at-most-once loss), then
`proactive doctor` exit 0.

Prints each trial, the failures, the worst divergence and the timings.
"""

from __future__ import annotations

import argparse
import collections
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, func, select, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from proactive import bootstrap  # noqa: E402
from proactive.demo import synth  # noqa: E402
from proactive.models import (  # noqa: E402
    Case,
    Certificate,
    IngestRun,
    Message,
    Run,
    RunLock,
    Task,
)
from proactive.nightly import lock  # noqa: E402
from proactive.nightly.run import LOCK  # noqa: E402
from proactive.sms.message_states import FAILED, QUEUED, SENDING  # noqa: E402
from proactive.sms.sender import INTERRUPTED  # noqa: E402
from proactive.testing.twilio_standin import ACCOUNT_SID, AUTH_TOKEN, TwilioStandin  # noqa: E402
from proactive.time import SHANGHAI  # noqa: E402

OUT = ROOT / "bench" / "out" / "crash"
PROACTIVE = [sys.executable, "-m", "proactive.cli.main"]
PAUSE = threading.Event()  # never set: waiting on it is a plain pause
CODE = re.compile(r"确认码\d+")  # confirmation codes are drawn at random by each run
STAGES = (
    "starting",  # no `runs` row yet
    "ingest",  # the run's row, no ingest committed
    "detect",  # the extract loaded, no certificate numbered
    "issue",  # numbers taken, not every PDF in place
    "dispatch and SMS",  # every certificate active, the run not finished
    "after its commit",  # the run had recorded its success and was exiting
)
COMPARED = ("cases", "certificates", "tasks", "messages")


@dataclass
class Trial:
    name: str
    killed_at: float
    finished_before_kill: bool = False
    at_kill: str = ""  # what the killed process had committed
    took_over: bool = False  # the rerun closed a dead run as `interrupted`
    lost: int = 0  # worker trials: messages claimed but not sent at the kill
    stage: str = ""  # run trials: where the kill landed (STAGES)
    whole_rerun: bool = False  # the killed run had committed no case: the rerun did it all
    rerun_seconds: float = 0.0
    seconds: float = 0.0
    divergences: list[tuple[int, str]] = field(default_factory=list)  # (rows, what)

    @property
    def size(self) -> int:
        return sum(rows for rows, _ in self.divergences)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--worker-trials", type=int, default=5)
    parser.add_argument("--residents", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--send-delay", type=float, default=0.01)
    parser.add_argument(
        "--postgres",
        default=os.environ.get(
            "PROACTIVE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
        ),
    )
    args = parser.parse_args()
    started = time.monotonic()
    rng = random.Random(args.seed)
    OUT.mkdir(parents=True, exist_ok=True)
    day = bootstrap.today_shanghai()
    extract = OUT / f"extract-{args.residents}-{day}"
    if not extract.exists():
        synth.write_extract(extract, synth.SynthOptions(residents=args.residents, as_of=day))
    if not (OUT / "keys" / "district.key").exists():
        setup = {**_env("", OUT), "PROACTIVE_DATABASE_URL": f"sqlite:///{OUT}/k.db"}
        _cli(setup, "keys", "init")
    reference, seconds = _reference(args.postgres, extract, day)
    print(
        f"reference: {len(reference['certificates'])} certificates, {len(reference['tasks'])} "
        f"tasks, {len(reference['messages'])} messages; run {seconds:.1f} s",
        flush=True,
    )
    trials: list[Trial] = []
    night = seconds  # how long a whole night takes now (the machine's load changes)
    for n in range(args.trials):
        schema = f"crash_{n}_{uuid.uuid4().hex[:8]}"
        env = _env(_schema_url(args.postgres, schema), OUT / schema)
        trial = _run_trial(env, extract, day, reference, rng.uniform(0.05, 1.0) * night, n)
        night = trial.rerun_seconds if trial.whole_rerun else night
        trials.append(trial)
        if n < args.worker_trials:
            trials.append(_worker_trial(env, rng.uniform(0.0, 2.0), args.send_delay, n))
        _drop(args.postgres, schema)
    _summary(trials, seconds, time.monotonic() - started)


def _schema_url(base: str, schema: str) -> str:
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    return f"{base}?options=-csearch_path%3D{schema}"


def _env(url: str, work: Path) -> dict[str, str]:
    work.mkdir(parents=True, exist_ok=True)
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
        "PROACTIVE_SMS_STUCK_MINUTES": "0.001",
        "PROACTIVE_QUIET_HOURS": f"{quiet:02d}:00-{quiet:02d}:01",
        "PROACTIVE_LOG_LEVEL": "ERROR",
    }


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*PROACTIVE, *args], env=env, capture_output=True, text=True)


def _night(extract: Path, day: object) -> list[str]:
    return [*PROACTIVE, "run", "--date", str(day), "--extract", str(extract)]


def _reference(base: str, extract: Path, day: object) -> tuple[dict[str, Any], float]:
    schema = f"crash_ref_{uuid.uuid4().hex[:8]}"
    env = _env(_schema_url(base, schema), OUT / schema)
    try:
        _cli(env, "db", "upgrade")
        started = time.monotonic()
        done = subprocess.run(_night(extract, day), env=env, capture_output=True, text=True)
        seconds = time.monotonic() - started
        if done.returncode != 0:
            raise SystemExit(f"reference run failed: {done.stderr.strip()[-400:]}")
        doctor = _cli(env, "doctor")
        if doctor.returncode != 0:
            raise SystemExit(f"doctor fails on the reference night: {doctor.stdout[-400:]}")
        return _state(env), seconds
    finally:
        _drop(base, schema)


def _run_trial(
    env: dict[str, str], extract: Path, day: object, reference: dict[str, Any], at: float, n: int
) -> Trial:
    started = time.monotonic()
    _cli(env, "db", "upgrade")
    trial = Trial(f"run #{n + 1}", at)
    process = subprocess.Popen(
        _night(extract, day), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    PAUSE.wait(at)
    trial.finished_before_kill = process.poll() is not None
    process.kill()
    process.wait()
    trial.at_kill, trial.stage = _committed(env, len(reference["certificates"]))
    trial.whole_rerun = trial.stage in STAGES[:3]
    rerun_started = time.monotonic()
    rerun = subprocess.run(_night(extract, day), env=env, capture_output=True, text=True)
    trial.rerun_seconds = time.monotonic() - rerun_started
    if rerun.returncode != 0:
        trial.divergences.append((1, f"rerun failed: {rerun.stderr.strip()[-300:]}"))
    else:
        state = _state(env)
        trial.took_over = state["runs"].get("interrupted", 0) > 0
        trial.divergences += _compare(reference, state)
    trial.divergences += _doctor(env)
    trial.seconds = time.monotonic() - started
    _report(trial)
    return trial


def _worker_trial(env: dict[str, str], at: float, delay: float, n: int) -> Trial:
    started = time.monotonic()
    trial = Trial(f"worker #{n + 1}", at)
    due = _due(env)
    with TwilioStandin(delay=delay) as standin:
        env = {
            **env,
            "PROACTIVE_SMS_BACKEND": "twilio",
            "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "TWILIO_FROM": "+15005550006",
            "TWILIO_API_BASE": standin.url,
        }
        process = subprocess.Popen(
            [*PROACTIVE, "worker"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        while not standin.creates() and process.poll() is None:
            PAUSE.wait(0.02)  # until it sends
        PAUSE.wait(at)
        trial.finished_before_kill = process.poll() is not None
        process.kill()
        process.wait()
        standin.wait_idle()
        created, statuses = standin.creates(), _statuses(env)
        trial.at_kill = f"{created} of {due} created, {statuses.get(SENDING, 0)} sending"
        for command in (["sms", "reconcile"], ["worker", "--once"], ["sms", "reconcile"]):
            done = _cli(env, *command)
            if done.returncode != 0:
                trial.divergences.append(
                    (1, f"{' '.join(command)} failed: {done.stderr.strip()[-300:]}")
                )
        standin.wait_idle()
        trial.divergences += _sent_once(env, standin.create_counts(), due, trial)
    trial.divergences += _doctor(env)
    trial.seconds = time.monotonic() - started
    _report(trial)
    return trial


def _engine(env: dict[str, str]) -> Engine:
    return create_engine(env["PROACTIVE_DATABASE_URL"])


def _committed(env: dict[str, str], certificates_in_a_night: int) -> tuple[str, str]:
    """What a killed run left (ingests, cases, certificate rows, PDFs on disk, its `runs`
    row), and the stage it was killed in."""
    engine = _engine(env)
    with engine.connect() as conn:
        ingests = conn.scalar(select(func.count()).select_from(IngestRun)) or 0
        cases = conn.scalar(select(func.count()).select_from(Case)) or 0
        certificates = conn.scalar(select(func.count()).select_from(Certificate)) or 0
        runs = conn.execute(select(Run.status)).scalars().all()
    engine.dispose()
    pdfs = sum(1 for _ in Path(env["PROACTIVE_CERTIFICATE_DIR"]).rglob("*.pdf"))
    what = (
        f"ingests {ingests}, cases {cases}, certificate rows {certificates}, PDFs {pdfs}, "
        f"runs {runs or 'none'}"
    )
    if not runs:
        stage = STAGES[0]
    elif "succeeded" in runs:
        stage = STAGES[5]
    elif not ingests:
        stage = STAGES[1]
    elif not certificates:
        stage = STAGES[2]
    elif min(certificates, pdfs) < certificates_in_a_night:
        stage = STAGES[3]
    else:
        stage = STAGES[4]
    return what, stage


def _state(env: dict[str, str]) -> dict[str, Any]:
    engine = _engine(env)
    with engine.connect() as conn:
        state = {
            "cases": conn.execute(select(Case.id_number, Case.program, Case.status)).all(),
            "certificates": conn.execute(
                select(
                    Certificate.certificate_no,
                    Certificate.id_number,
                    Certificate.program,
                    Certificate.status,
                )
            ).all(),
            "tasks": conn.execute(
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
            ).all(),
            "messages": [
                (to, kind, status, CODE.sub("确认码*", body))
                for to, kind, status, body in conn.execute(
                    select(Message.to_number, Message.kind, Message.status, Message.body)
                )
            ],
            "runs": collections.Counter(conn.execute(select(Run.status)).scalars()),
            "lock_free": _lock_free(conn),
        }
    engine.dispose()
    return state


def _lock_free(conn: Connection) -> bool:
    """The nightly run's advisory lock (nightly/lock.py) can be taken, and no run_locks row."""
    try:
        with lock.held(conn.engine, LOCK, bootstrap.utc_now()):
            pass
    except lock.RunLocked:
        return False
    return not conn.scalar(select(func.count()).select_from(RunLock))


def _compare(reference: dict[str, Any], state: dict[str, Any]) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    for part in COMPARED:
        want, got = collections.Counter(reference[part]), collections.Counter(state[part])
        if want != got:
            missing, extra = want - got, got - want
            rows = sum(missing.values()) + sum(extra.values())
            example = str(next(iter(missing or extra)))[:160]
            found.append(
                (
                    rows,
                    f"{part}: {sum(missing.values())} missing, {sum(extra.values())} extra "
                    f"(e.g. {example})",
                )
            )
    if state["runs"].get("running"):
        found.append((state["runs"]["running"], f"runs left running: {dict(state['runs'])}"))
    if not state["lock_free"]:
        found.append((1, "run lock still held"))
    return found


def _doctor(env: dict[str, str]) -> list[tuple[int, str]]:
    done = _cli(env, "doctor")
    if done.returncode == 0:
        return []
    lines = done.stdout.strip().splitlines()
    return [(max(1, len(lines) - 1), f"doctor: {'; '.join(lines[:3])} ({lines[-1]})")]


def _due(env: dict[str, str]) -> int:
    engine = _engine(env)
    with engine.connect() as conn:
        count = conn.scalar(
            select(func.count())
            .select_from(Message)
            .where(Message.status == QUEUED, Message.not_before <= bootstrap.utc_now())
        )
    engine.dispose()
    return count or 0


def _statuses(env: dict[str, str]) -> collections.Counter[str]:
    engine = _engine(env)
    with engine.connect() as conn:
        rows = conn.execute(select(Message.status, Message.error_code)).all()
    engine.dispose()
    return collections.Counter(
        "interrupted" if (status, code) == (FAILED, INTERRUPTED) else status
        for status, code in rows
    )


def _sent_once(
    env: dict[str, str], creates: dict[tuple[str, str], int], due: int, trial: Trial
) -> list[tuple[int, str]]:
    statuses = _statuses(env)
    twice = sum(1 for count in creates.values() if count > 1)
    recorded = statuses.get("sent", 0) + statuses.get("delivered", 0)
    trial.lost = statuses.get("interrupted", 0)
    found: list[tuple[int, str]] = []
    if twice:
        found.append((twice, f"sent twice: {twice} messages"))
    for status in (SENDING, QUEUED):
        if statuses.get(status) and (status == SENDING or _due(env)):
            found.append((statuses[status], f"{statuses[status]} messages left {status}"))
    if recorded != len(creates) or recorded + trial.lost != due:
        found.append(
            (
                abs(due - recorded - trial.lost) or 1,
                f"{due} due, {recorded} recorded sent, {trial.lost} interrupted, "
                f"{len(creates)} created at the provider",
            )
        )
    return found


def _drop(base: str, schema: str) -> None:
    """The trial's schema and its work directory (PDFs, console SMS file)."""
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()
    shutil.rmtree(OUT / schema, ignore_errors=True)


def _report(trial: Trial) -> None:
    how = "finished before the kill" if trial.finished_before_kill else "killed"
    took_over = "; rerun took over the dead run's lock" if trial.took_over else ""
    lost = f"; {trial.lost} lost as interrupted" if trial.lost else ""
    stage = f", in {trial.stage}" if trial.stage else ""
    verdict = "ok" if not trial.divergences else "; ".join(d for _, d in trial.divergences)
    print(
        f"{trial.name}: {how} at {trial.killed_at:.2f} s{stage} ({trial.at_kill}){took_over}"
        f"{lost}: "
        f"{verdict} [{trial.seconds:.1f} s]",
        flush=True,
    )


def _summary(trials: list[Trial], reference_seconds: float, total: float) -> None:
    for kind in ("run", "worker"):
        group = [t for t in trials if t.name.startswith(kind)]
        if not group:
            continue
        failed = [t for t in group if t.divergences]
        killed = sum(not t.finished_before_kill for t in group)
        extra = (
            f", dead run's lock taken over by the rerun {sum(t.took_over for t in group)}"
            if kind == "run"
            else f", messages lost as interrupted {sum(t.lost for t in group)}"
        )
        seconds = [t.seconds for t in group]
        print(
            f"{kind} trials {len(group)} (killed mid-way {killed}{extra}), failures "
            f"{len(failed)}; trial seconds mean {statistics.mean(seconds):.1f}, "
            f"max {max(seconds):.1f}"
        )
    stages = collections.Counter(t.stage for t in trials if t.stage)
    print("run trials killed in: " + ", ".join(f"{s} {stages[s]}" for s in STAGES))
    worst = max((t for t in trials if t.divergences), key=lambda t: t.size, default=None)
    what = f"{worst.name}: " + "; ".join(d for _, d in worst.divergences) if worst else "none"
    print(f"worst divergence: {what}")
    print(f"reference run {reference_seconds:.1f} s; all trials {total / 60:.1f} min")


if __name__ == "__main__":
    main()
