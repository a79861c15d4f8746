"""The systemd units under deploy/ start commands that exist, with options they accept."""

from __future__ import annotations

import configparser
import re
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from proactive.cli.main import app
from proactive.settings import ROOT

UNITS = sorted((ROOT / "deploy").glob("*.service"))


def proactive_args(unit: Path) -> list[str]:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.read(unit, encoding="utf-8")
    command = parser["Service"]["ExecStart"]
    words = shlex.split(re.sub(r'"?\$\(nproc\)"?', "2", command))
    inner = shlex.split(words[-1]) if words[0] == "/bin/sh" else words
    start = next(i for i, w in enumerate(inner) if w.endswith("/proactive"))
    return inner[start + 1 :]


def test_there_are_units_for_each_long_running_command() -> None:
    started = {" ".join(proactive_args(u)[:1]) for u in UNITS}
    assert {"schedule", "worker", "serve", "db", "certificates", "sms"} <= started


@pytest.mark.parametrize("unit", UNITS, ids=lambda u: u.name)
def test_each_unit_starts_a_command_that_accepts_its_options(unit: Path) -> None:
    args = proactive_args(unit)
    options = [a for a in args if a.startswith("--")]
    result = CliRunner().invoke(app, [*args[: len(args) - len(options) * 2 or None], "--help"])
    assert result.exit_code == 0, result.output
    for option in options:
        assert option in result.output
