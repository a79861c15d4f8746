"""The command line answers at once: importing it, and asking it for help, loads no heavy library.

Each check runs in a fresh interpreter, as the console script does, so what other tests imported
does not hide an eager import.
"""

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[3] / "src"

HEAVY = (
    "pandas",
    "pyarrow",
    "numpy",
    "matplotlib",
    "reportlab",
    "svglib",
    "ortools",
    "xhtml2pdf",
    "zxingcpp",
    "twilio",
    "sqlalchemy",
    "alembic",
    "cryptography",
    "lxml",
    "PIL",
    "jinja2",
    "chinese_calendar",
    "boto3",
    "apscheduler",
    "starlette",
    "uvicorn",
)

PROBE = """
import contextlib, io, json, sys
from proactive.cli.main import app
args = json.loads(sys.argv[1])
if args:
    with contextlib.suppress(SystemExit), contextlib.redirect_stdout(io.StringIO()):
        app(args)
print(json.dumps(sorted(sys.modules)))
"""


def loaded_modules(args: list[str], settings: dict[str, str] | None = None) -> set[str]:
    """Every module a fresh interpreter holds after running `proactive ARGS` (output dropped)."""
    env = {**os.environ, **(settings or {}), "PYTHONPATH": str(SRC)}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(args)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return set(json.loads(done.stdout.splitlines()[-1]))


def packages(modules: set[str]) -> set[str]:
    return {m.split(".")[0] for m in modules}


@pytest.mark.parametrize(
    "args", [[], ["--help"], ["cases", "--help"], ["tasks", "--help"], ["sms", "--help"]]
)
def test_the_cli_loads_no_heavy_library(args: list[str]) -> None:
    loaded = packages(loaded_modules(args))
    assert "typer" in loaded  # the probe saw the import
    assert sorted(loaded.intersection(HEAVY)) == []


@pytest.mark.parametrize("name", HEAVY)
def test_each_guarded_name_is_an_installed_module(name: str) -> None:
    assert importlib.util.find_spec(name) is not None
