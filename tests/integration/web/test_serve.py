"""`proactive serve --workers N`: N processes answer on one port, each with an app of its own
built from the environment (PostgreSQL); on SQLite, one line refuses more than one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from proactive.cli.main import app
from proactive.processes import children
from tests.factories import cli_env
from tests.integration.web.chromium import free_port

runner = CliRunner()


def answering(url: str, process: subprocess.Popen[bytes], seconds: float = 60) -> bool:
    pause = threading.Event()
    for _ in range(int(seconds * 4)):
        if process.poll() is not None:
            return False
        try:
            if httpx.get(url, timeout=2).text == "ok":
                return True
        except httpx.TransportError:
            pass
        pause.wait(0.25)
    return False


@pytest.mark.postgresql
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_worker_processes_serve_one_port(
    database_url: Callable[[str], str], tmp_path: Path
) -> None:
    port = free_port()
    env = {**os.environ, **cli_env(tmp_path), "PROACTIVE_DATABASE_URL": database_url("web")}
    command = [sys.executable, "-m", "proactive.cli.main", "serve", "--port", str(port)]
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen([*command, "--workers", "2"], env=env, stderr=out)
    try:
        assert answering(f"http://127.0.0.1:{port}/healthz", process), log.read_text()
        workers = children(process.pid)
        assert len(workers) >= 2, workers  # uvicorn's worker processes (and spawn's tracker)
        pages = [httpx.get(f"http://127.0.0.1:{port}/login", timeout=5) for _ in range(10)]
        assert {page.status_code for page in pages} == {200}
        assert all("登录" in page.text for page in pages)
    finally:
        process.send_signal(signal.SIGINT)
        ended = stopped(process)
        if not ended:
            process.kill()
            process.wait()
    assert ended and not children(process.pid)


def stopped(process: subprocess.Popen[bytes], seconds: float = 30) -> bool:
    """Whether the process ended within `seconds`. Not Popen.wait(timeout): it sleeps with
    time.sleep, which fails (EINVAL) under libfaketime."""
    pause = threading.Event()
    for _ in range(int(seconds * 10)):
        if process.poll() is not None:
            return True
        pause.wait(0.1)
    return False


def test_more_than_one_worker_on_sqlite_is_one_line(tmp_path: Path) -> None:
    env = cli_env(tmp_path)
    result = runner.invoke(app, ["serve", "--workers", "2"], env=env)
    assert result.exit_code == 2, result.output
    assert result.output == (
        "error: Several processes need PostgreSQL (SQLite lets one writer at a time): "
        f"--workers 2 with {env['PROACTIVE_DATABASE_URL']}\n"
    )
