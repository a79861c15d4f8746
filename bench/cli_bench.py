"""Benchmark: how fast the command line answers, against `python -c "import typer"`.

Builds the demo database once (untimed: `proactive demo --residents N` in a temporary
directory, every setting pointed there), then runs each command as a whole process, as the
console script does, once to warm the file cache and then `--runs` times, and prints the
median wall time and its ratio to `import typer` alone, the fastest wall time (on a shared
machine, the nearest to a quiet one's) and its ratio, the median CPU time and the peak RSS.
`--src` times another checkout's source tree (e.g. an older commit's, exported with
`git archive`) on the same database.

Targets: `proactive --help` at most 3x `import typer`; `proactive runs` at most 0.8 s.

Usage: python bench/cli_bench.py [--residents 300] [--runs 5] [--src DIR]
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
CONSOLE_SCRIPT = "import sys; from proactive.cli.main import app; sys.argv[0] = 'proactive'; app()"
HELP_RATIO = 3.0
RUNS_SECONDS = 0.8


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--residents", type=int, default=300)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--src", type=Path, default=SRC, help="the source tree to time")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        environment = _environment(work, args.src)
        _proactive(
            environment,
            *("demo", "--workdir", str(work / "demo"), "--residents", str(args.residents)),
            *("--database", environment["PROACTIVE_DATABASE_URL"]),
            *("--key-dir", environment["PROACTIVE_KEY_DIR"]),
            *("--certificate-dir", environment["PROACTIVE_CERTIFICATE_DIR"]),
        )
        day = _first_visit_day(work / "proactive.db")
        commands = {
            'python -c "import typer"': [sys.executable, "-c", "import typer"],
            "proactive --help": _command("--help"),
            "proactive cases --help": _command("cases", "--help"),
            "proactive runs": _command("runs"),
            f"proactive tasks --date {day} --format json": _command(
                "tasks", "--date", day, "--format", "json"
            ),
        }
        results = {
            name: _measure(command, environment, args.runs) for name, command in commands.items()
        }
    _report(results, args.runs, args.residents)


def _environment(work: Path, src: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(src),
        "PROACTIVE_DATABASE_URL": f"sqlite:///{work / 'proactive.db'}",
        "PROACTIVE_KEY_DIR": str(work / "keys"),
        "PROACTIVE_CERTIFICATE_DIR": str(work / "certificates"),
        "PROACTIVE_SMS_LOG": str(work / "sms.jsonl"),
        "PROACTIVE_LOG_LEVEL": "ERROR",
    }


def _command(*args: str) -> list[str]:
    return [sys.executable, "-c", CONSOLE_SCRIPT, *args]


def _proactive(environment: dict[str, str], *args: str) -> None:
    subprocess.run(_command(*args), env=environment, check=True, capture_output=True)


def _first_visit_day(database: Path) -> str:
    with sqlite3.connect(database) as connection:
        (day,) = connection.execute("SELECT min(day) FROM tasks").fetchone()
    if day is None:
        raise SystemExit("the demo planned no visit: try more --residents")
    return str(day)


Run = tuple[float, float, int]  # wall seconds, CPU seconds, peak RSS in MB
Timing = tuple[float, float, int, float]  # medians of wall and CPU, largest RSS, fastest wall


def _measure(command: list[str], environment: dict[str, str], runs: int) -> Timing:
    """Medians of `runs` whole-process runs (after one warm-up); the largest peak RSS; the
    fastest wall time (on a shared machine, the nearest to what a quiet one would take)."""
    _run_once(command, environment)
    timed = [_run_once(command, environment) for _ in range(runs)]
    return (
        statistics.median(wall for wall, _, _ in timed),
        statistics.median(cpu for _, cpu, _ in timed),
        max(mb for _, _, mb in timed),
        min(wall for wall, _, _ in timed),
    )


def _run_once(command: list[str], environment: dict[str, str]) -> Run:
    started = time.perf_counter()
    process = subprocess.Popen(
        command, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    if status != 0:
        raise SystemExit(f"{' '.join(command)} failed")
    return seconds, usage.ru_utime + usage.ru_stime, round(usage.ru_maxrss / 1024)


def _report(results: dict[str, Timing], runs: int, residents: int) -> None:
    typer_seconds, typer_cpu, _, typer_fastest = results['python -c "import typer"']
    print(f"demo database: {residents} residents; medians of {runs} whole-process runs")
    print(
        f"load average (1 minute) after the runs: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    )
    print()
    print(
        "| command | wall s | ÷ import typer | fastest wall s | ÷ import typer "
        "| CPU s | ÷ import typer | peak RSS |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, (seconds, cpu, mb, fastest) in results.items():
        print(
            f"| `{name}` | {seconds:.3f} | {seconds / typer_seconds:.1f}× "
            f"| {fastest:.3f} | {fastest / typer_fastest:.1f}× "
            f"| {cpu:.3f} | {cpu / typer_cpu:.1f}× | {mb} MB |"
        )
    print()
    for label, column, typer_wall in (("median", 0, typer_seconds), ("fastest", 3, typer_fastest)):
        help_ratio = results["proactive --help"][column] / typer_wall
        runs_seconds = results["proactive runs"][column]
        print(
            f"{label}: proactive --help {help_ratio:.1f}× typer (target ≤ {HELP_RATIO:g}×), "
            f"{_met(help_ratio <= HELP_RATIO)}; proactive runs {runs_seconds:.2f} s "
            f"(target ≤ {RUNS_SECONDS:g} s), {_met(runs_seconds <= RUNS_SECONDS)}"
        )


def _met(ok: bool) -> str:
    return "met" if ok else "NOT met"


if __name__ == "__main__":
    main()
