"""The pure core reads no clock and touches no file: import-linter checks its imports (see
pyproject.toml); this checks the calls that an import contract cannot see."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

import proactive

PACKAGE = Path(proactive.__file__).parent
ROOT = PACKAGE.parents[1]
WALL_CLOCK = {"now", "today", "utcnow", "time.time", "time.monotonic", "time.perf_counter"}
FILES = {"open", "read_text", "read_bytes", "write_text", "write_bytes", "unlink", "mkdir"}


def pure_modules() -> list[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    (pure,) = [c for c in contracts if c["type"] == "forbidden"]
    return list(pure["source_modules"])


def calls(module: str) -> set[str]:
    path = PACKAGE.joinpath(*module.split(".")[1:]).with_suffix(".py")
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            owner = getattr(func, "value", None)
            found.add(f"{owner.id}.{name}" if isinstance(owner, ast.Name) else name)
            found.add(name)
    return found


def test_the_pure_modules_are_listed() -> None:
    assert "proactive.programs.eligibility" in pure_modules()
    assert len(pure_modules()) >= 10


def test_pure_modules_read_no_clock_and_no_file() -> None:
    offenders = {m: calls(m) & (WALL_CLOCK | FILES) for m in pure_modules()}
    assert {m: sorted(c) for m, c in offenders.items() if c} == {}


def test_only_the_kernel_sits_at_the_top_of_the_package() -> None:
    top = sorted(p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__")
    kernel = ["batching", "bootstrap", "db", "errors", "geo", "logs", "masking", "models"]
    assert top == [*kernel, "output", "processes", "progress", "settings", "sqltypes", "time"]
