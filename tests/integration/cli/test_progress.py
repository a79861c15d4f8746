"""Long work shows its progress to a person at a terminal, and writes clean lines into a log.

The commands run as whole processes: once under a pseudo-terminal (what a person sees), once
with stdout and stderr piped (what cron or systemd records).
"""

import fcntl
import json
import os
import pty
import re
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
DAY = "2026-11-26"
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")  # all but tab and newline
STAGES = ("ingest", "cancel", "revoke", "detect", "issue", "dispatch")


@pytest.fixture(scope="module")
def extract(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("extract")
    _proactive(_env(out), "synth", "--out", str(out), "--residents", "200", "--date", DAY)
    return out


def _env(work: Path) -> dict[str, str]:
    plain = {k: v for k, v in os.environ.items() if k not in ("FORCE_TERMINAL", "TTY_COMPATIBLE")}
    return {
        **plain,
        "PYTHONPATH": str(ROOT / "src"),
        "TERM": "xterm-256color",
        "PROACTIVE_DATABASE_URL": f"sqlite:///{work / 'proactive.db'}",
        "PROACTIVE_KEY_DIR": str(work / "keys"),
        "PROACTIVE_CERTIFICATE_DIR": str(work / "certificates"),
    }


def _command(*args: str) -> list[str]:
    return [sys.executable, "-m", "proactive.cli.main", *args]


def _proactive(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(_command(*args), env=env, capture_output=True, text=True, check=True)


def _under_a_terminal(env: dict[str, str], *args: str) -> str:
    """Everything the command writes to a 120-column pseudo-terminal, as one text."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    process = subprocess.Popen(
        _command(*args), env=env, stdin=follower, stdout=follower, stderr=follower
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the follower side closed: the process is done writing
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    assert process.wait() == 0  # no timeout: its polling sleep fails under libfaketime
    return b"".join(chunks).decode("utf-8", errors="replace")


def test_a_run_on_a_terminal_shows_each_stage_with_its_counts(
    extract: Path, tmp_path: Path
) -> None:
    env = _env(tmp_path)
    _proactive(env, "db", "upgrade")
    _proactive(env, "keys", "init")
    seen = _under_a_terminal(env, "run", "--date", DAY, "--extract", str(extract))
    assert "\x1b[" in seen  # drawn as a live display
    for stage in STAGES:
        assert stage in seen, stage
    assert re.search(r"persons\.csv\s.*rows=\d+, new=\d+", seen)  # each file's rows
    issued = re.search(r"issue\s.*?(\d+)/(\d+)", seen)  # certificates done of N
    assert issued and int(issued.group(2)) > 0
    assert re.search(r"detect\s.*opened=[1-9]", seen)  # cases opened, all programs
    assert re.search(r"dispatch\s.*planned=[1-9]", seen)


def test_a_piped_run_writes_one_plain_line_per_stage(extract: Path, tmp_path: Path) -> None:
    env = _env(tmp_path)
    _proactive(env, "db", "upgrade")
    _proactive(env, "keys", "init")
    done = _proactive(env, "run", "--date", DAY, "--extract", str(extract))
    for output in (done.stdout, done.stderr):
        assert not CONTROL.search(output), repr(CONTROL.search(output))
    lines = done.stdout.splitlines()
    for stage in STAGES:
        assert sum(1 for line in lines if line.startswith(f"  {stage} ")) == 1, stage
    assert "rows=" not in done.stdout + done.stderr  # no per-file progress in a log


def test_a_bulk_reissue_shows_a_bar_on_a_terminal_and_a_summary_in_a_log(
    extract: Path, tmp_path: Path
) -> None:
    env = _env(tmp_path)
    _proactive(env, "db", "upgrade")
    _proactive(env, "keys", "init")
    _proactive(env, "run", "--date", DAY, "--extract", str(extract))
    listed = json.loads(_proactive(env, "certificates", "--format", "json").stdout)
    numbers = [c["certificate_no"] for c in listed if c["status"] == "active"][:4]
    assert len(numbers) == 4
    seen = _under_a_terminal(env, "certificates", "reissue", "--reason", "damaged", *numbers[:2])
    assert "\x1b[" in seen and re.search(r"reissue\s.*2/2", seen)
    assert "reissued 2 of 2 (0 failed)" in seen
    batch = tmp_path / "numbers.txt"
    batch.write_text(f"# misprinted\n{numbers[2]}\n\nNO-SUCH-NUMBER\n{numbers[3]}\n", "utf-8")
    piped = subprocess.run(
        _command("certificates", "reissue", "--reason", "damaged", "--from-file", str(batch)),
        env=env,
        capture_output=True,
        text=True,
    )
    assert piped.returncode == 1  # one number failed; the others were reissued
    assert "reissued 2 of 3 (1 failed)" in piped.stdout
    assert "error: NO-SUCH-NUMBER: " in piped.stderr
    assert f"{numbers[3]} revoked (damaged); new certificate" in piped.stdout
    for output in (piped.stdout, piped.stderr):
        assert not CONTROL.search(output), repr(CONTROL.search(output))
