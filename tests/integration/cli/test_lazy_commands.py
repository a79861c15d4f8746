"""Commands load only what they use: each runs in a fresh interpreter on a SQLite database, and
the modules it leaves in sys.modules are checked (tests/unit/cli/test_imports.py covers
`--help`). A list printed as JSON or CSV loads no PDF library, a run no plotting library, and
`proactive runs` not even the ORM."""

from __future__ import annotations

from pathlib import Path

import pytest

from proactive import db
from tests.factories import cli_env
from tests.unit.cli.test_imports import loaded_modules, packages

PDF = {"xhtml2pdf", "reportlab", "svglib", "pypdf"}
PLOTS = {"matplotlib"}
DAY = "2026-11-25"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return cli_env(tmp_path)


@pytest.mark.parametrize("fmt", ["json", "csv", "table"])
def test_a_task_list_as_data_loads_no_pdf_library(env: dict[str, str], fmt: str) -> None:
    loaded = loaded_modules(["tasks", "--date", DAY, "--format", fmt], env)
    assert "proactive.field.task_lists" in loaded  # the probe ran the command
    assert sorted(packages(loaded) & (PDF | PLOTS)) == []
    assert "proactive.field.sheets" not in loaded


def test_a_run_loads_no_plotting_library_and_not_the_demo(env: dict[str, str]) -> None:
    loaded = loaded_modules(["run", "--date", DAY], env)
    assert "proactive.nightly.run" in loaded
    assert sorted(packages(loaded) & PLOTS) == []
    assert not any(m.startswith("proactive.demo") for m in loaded)


def test_runs_loads_neither_the_orm_nor_the_models(env: dict[str, str]) -> None:
    engine = db.make_engine(env["PROACTIVE_DATABASE_URL"])
    db.upgrade(engine)  # a database in use: at head, no migration to load Alembic's models
    engine.dispose()
    loaded = loaded_modules(["runs"], env)
    assert "proactive.nightly.history" in loaded
    assert "sqlalchemy.orm" not in loaded
    assert "proactive.models" not in loaded
