"""`proactive certificates issue`: the approved cases' certificates issued outside the nightly
run, by one process or (PostgreSQL) several at once, with gap-free numbers and one file each."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from proactive.cli.main import app
from proactive.models import Case, Certificate
from tests.conftest import POSTGRES_URL
from tests.integration.certificates.test_issuing import DAY, load, run, seniors

runner = CliRunner()


def url_of(engine: Engine) -> str:
    """The URL a command needs to reach the test's database (its own schema on PostgreSQL)."""
    if engine.dialect.name == "sqlite":
        return engine.url.render_as_string(hide_password=False)
    with engine.connect() as conn:
        schema = conn.dialect.default_schema_name
    return f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"


@pytest.fixture
def env(engine: Engine, tmp_path: Path) -> dict[str, str]:
    """Forty approved cases waiting: the run detected and verified them, issued nothing."""
    load(engine, tmp_path / "x", seniors(40))
    run(engine, DAY, None)
    environment = {
        "PROACTIVE_DATABASE_URL": url_of(engine),
        "PROACTIVE_KEY_DIR": str(tmp_path / "keys"),
        "PROACTIVE_CERTIFICATE_DIR": str(tmp_path / "pdf"),
    }
    assert runner.invoke(app, ["keys", "init"], env=environment).exit_code == 0
    return environment


def issued_numbers(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return sorted(conn.execute(select(Certificate.certificate_no)).scalars())


def test_one_process_issues_every_waiting_certificate(
    engine: Engine, env: dict[str, str], tmp_path: Path
) -> None:
    result = runner.invoke(app, ["certificates", "issue", "--date", DAY.isoformat()], env=env)
    assert result.exit_code == 0, result.output
    assert "issued:senior_certificate=40" in result.output
    assert issued_numbers(engine) == [f"330108-2026-LN-{n:06d}" for n in range(1, 41)]
    assert len(list((tmp_path / "pdf").rglob("*.pdf"))) == 40
    again = runner.invoke(app, ["certificates", "issue"], env=env)
    assert "nothing to issue" in again.output and len(issued_numbers(engine)) == 40


@pytest.mark.parametrize("bare_engine", ["sqlite"], indirect=True)
def test_several_processes_on_sqlite_are_refused_in_one_line(
    engine: Engine, env: dict[str, str]
) -> None:
    result = runner.invoke(app, ["certificates", "issue", "--processes", "2"], env=env)
    assert result.exit_code == 2
    assert "PostgreSQL" in result.output and "Traceback" not in result.output
    assert issued_numbers(engine) == []


@pytest.mark.postgresql
@pytest.mark.parametrize("bare_engine", ["postgresql"], indirect=True)
def test_three_processes_share_the_work_without_a_gap_or_a_duplicate(
    engine: Engine, env: dict[str, str], tmp_path: Path
) -> None:
    result = runner.invoke(
        app, ["certificates", "issue", "--processes", "3", "--date", DAY.isoformat()], env=env
    )
    assert result.exit_code == 0, result.output
    assert "issued:senior_certificate=40" in result.output
    assert issued_numbers(engine) == [f"330108-2026-LN-{n:06d}" for n in range(1, 41)]
    files = sorted(p.stem for p in (tmp_path / "pdf").rglob("*.pdf"))
    assert files == issued_numbers(engine)
    with engine.connect() as conn:
        assert set(conn.execute(select(Case.status)).scalars()) == {"issued"}
