"""Bad settings, bad dates and an unreachable database: one line `error: ...`, exit 2, and
never a traceback, whichever command meets them."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import ProgrammingError
from typer.testing import CliRunner

from proactive import db
from proactive.cli.main import app
from proactive.testing.hostile_pdfs import write_hostile_files
from tests.factories import cli_env

runner = CliRunner()
# Commands refused before they touch the database: most of these tests leave none to check.
pytestmark = pytest.mark.invariants_broken


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return cli_env(tmp_path)


def one_line_error(args: list[str], env: dict[str, str]) -> str:
    """Run a command that must fail cleanly; return its one line."""
    result = runner.invoke(app, args, env=env)
    text = result.output
    assert "Traceback" not in text, text
    assert result.exit_code == 2, text
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), text
    return lines[0]


DATE_COMMANDS = [
    ["run", "--date", "2026-02-30"],
    ["explain", "110101196001011234", "--date", "2026-02-30"],
    ["programs", "preview", "senior_certificate", "--date", "2026-02-30"],
    ["tasks", "--date", "2026-02-30"],
    ["coverage", "--date", "2026-02-30"],
    ["forecast", "--date", "2026-02-30"],
    ["synth", "--out", "x", "--date", "2026-02-30"],
]


@pytest.mark.parametrize("args", DATE_COMMANDS, ids=lambda a: a[0])
def test_impossible_date_is_one_line(args: list[str], env: dict[str, str]) -> None:
    line = one_line_error(args, env)
    assert "--date" in line and "2026-02-30" in line and "YYYY-MM-DD" in line


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("PROACTIVE_QUIET_HOURS", "21-8", "HH:MM-HH:MM"),
        ("PROACTIVE_LOG_LEVEL", "VERBOSE", "DEBUG, INFO, WARNING or ERROR"),
        ("PROACTIVE_SMS_RATE", "fast", "a positive number"),
        ("PROACTIVE_SMS_DAILY_CAP", "３", "a whole number"),
        ("PROACTIVE_DISTRICT_CODE", "33010", "6 digits"),
        ("PROACTIVE_SMS_BACKEND", "pigeon", "console or twilio"),
        ("PROACTIVE_DATABASE_URL", "not a url", "SQLAlchemy URL"),
    ],
)
def test_bad_setting_names_variable_and_form(
    variable: str, value: str, expected: str, env: dict[str, str]
) -> None:
    line = one_line_error(["runs"], {**env, variable: value})
    assert variable in line and expected in line


def test_settings_are_checked_even_by_commands_without_a_database(
    env: dict[str, str], tmp_path: Path
) -> None:
    line = one_line_error(
        ["synth", "--out", str(tmp_path / "x")], {**env, "PROACTIVE_QUIET_HOURS": "21-8"}
    )
    assert "PROACTIVE_QUIET_HOURS" in line


def test_missing_column_map_is_one_line(env: dict[str, str], tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.toml"
    line = one_line_error(["run"], {**env, "PROACTIVE_COLUMN_MAP": str(missing)})
    assert "PROACTIVE_COLUMN_MAP" in line and "nowhere.toml" in line


@pytest.mark.parametrize(
    "content",
    ["persons = [", "persons = 3", "[persons]\n身份证号 = 1\n", b"\xff\xfe".decode("latin-1")],
    ids=["syntax", "not_a_table", "not_a_name", "bytes"],
)
def test_invalid_column_map_is_one_line(content: str, env: dict[str, str], tmp_path: Path) -> None:
    path = tmp_path / "map.toml"
    path.write_text(content, encoding="utf-8")
    line = one_line_error(["ingest", str(tmp_path)], {**env, "PROACTIVE_COLUMN_MAP": str(path)})
    assert "PROACTIVE_COLUMN_MAP" in line


def test_unreachable_postgresql_names_url_without_password(env: dict[str, str]) -> None:
    url = "postgresql+psycopg://district:s3cret-pw@127.0.0.1:1/registry"
    line = one_line_error(["runs"], {**env, "PROACTIVE_DATABASE_URL": url})
    assert "s3cret-pw" not in line
    assert "postgresql+psycopg://district:***@127.0.0.1:1/registry" in line


def test_unreachable_sqlite_file_is_one_line(env: dict[str, str], tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/no/such/dir/x.db"
    line = one_line_error(["cases"], {**env, "PROACTIVE_DATABASE_URL": url})
    assert "x.db" in line


def test_verify_from_another_directory_says_no_keys_found(
    env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert (
        runner.invoke(app, ["keys", "init"], env={**env, "PROACTIVE_KEY_DIR": "keys"}).exit_code
        == 0
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    line = one_line_error(
        ["certificates", "verify", "--offline", "PC1:ANYTHING"],
        {**env, "PROACTIVE_KEY_DIR": "keys"},
    )
    assert f"no keys found in {elsewhere / 'keys'}" in line
    assert "unknown_key" not in line


def test_issuing_with_a_key_others_can_read_stops_with_one_line(
    env: dict[str, str], tmp_path: Path
) -> None:
    assert runner.invoke(app, ["keys", "init"], env=env).exit_code == 0
    (tmp_path / "keys" / "district.key").chmod(0o644)
    line = one_line_error(["run", "--date", "2026-11-25"], env)
    assert "district.key" in line and "0644" in line


@pytest.mark.parametrize("kind", ["empty", "truncated", "not_a_pdf", "content_bomb", "oversized"])
def test_verify_of_a_hostile_file_says_unreadable(
    kind: str, env: dict[str, str], tmp_path: Path
) -> None:
    assert runner.invoke(app, ["keys", "init"], env=env).exit_code == 0
    genuine = b"%PDF-1.7\n" + b"0" * 4096
    path = write_hostile_files(tmp_path / "hostile", genuine)[kind]
    result = runner.invoke(app, ["certificates", "verify", "--offline", str(path)], env=env)
    assert "Traceback" not in result.output
    assert (result.exit_code, result.output) == (1, "无效 unreadable\n")


# Every kind of command that opens the database: listings, ingest, the night, the services.
DATABASE_COMMANDS = [
    ["runs"],
    ["cases"],
    ["ingest", "."],
    ["run", "--date", "2026-11-25"],
    ["doctor"],
    ["tasks"],
    ["worker", "--once"],
    ["serve"],
    ["schedule"],
    ["users", "list"],
    ["optout", "list"],
]


@pytest.mark.parametrize("args", DATABASE_COMMANDS, ids=lambda a: "-".join(a[:2]))
def test_a_database_without_schema_is_refused_naming_db_upgrade(
    args: list[str], env: dict[str, str], tmp_path: Path
) -> None:
    """Only `proactive db upgrade` migrates; a missing SQLite file is not created either."""
    where = tmp_path / "fresh.db"
    line = one_line_error(args, {**env, "PROACTIVE_DATABASE_URL": f"sqlite:///{where}"})
    assert line == (
        f"error: The database does not match this version of proactive: sqlite:///{where} "
        "does not exist: run `proactive db upgrade` to create it"
    )
    assert not where.exists()
    sqlite3.connect(where).execute("CREATE TABLE unrelated (x)").connection.close()
    line = one_line_error(args, {**env, "PROACTIVE_DATABASE_URL": f"sqlite:///{where}"})
    assert line.endswith(f"sqlite:///{where} has no schema yet: run `proactive db upgrade`")


def test_a_database_behind_the_code_is_refused_until_db_upgrade(env: dict[str, str]) -> None:
    engine = db.make_engine(env["PROACTIVE_DATABASE_URL"])
    known, heads = db.code_revisions()
    (head,) = heads
    previous = sorted(known)[-2]
    db.downgrade(engine, previous)
    engine.dispose()
    line = one_line_error(["cases"], env)
    assert line.endswith(
        f"is behind the code (at {previous}, needs {head}): run `proactive db upgrade`"
    )
    upgraded = runner.invoke(app, ["db", "upgrade"], env=env)
    assert (upgraded.exit_code, upgraded.output) == (0, f"database at head ({head})\n")
    assert runner.invoke(app, ["cases"], env=env).exit_code == 0


def test_db_upgrade_without_ddl_rights_is_one_line(
    env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refused(*_args: object) -> None:
        raise ProgrammingError("CREATE TABLE", {}, Exception("permission denied for schema public"))

    monkeypatch.setattr(db, "upgrade", refused)
    line = one_line_error(["db", "upgrade"], env)
    assert line.endswith("could not be migrated (permission denied for schema public)")


@pytest.mark.parametrize(
    ("statement", "args", "missing"),
    [
        ("DROP TABLE cases", ["cases"], "table cases"),
        ("ALTER TABLE runs DROP COLUMN stats", ["runs"], "column runs.stats"),
    ],
    ids=["table", "column"],
)
def test_a_schema_changed_behind_the_migrations_back_is_one_line(
    statement: str,
    args: list[str],
    missing: str,
    database_url: Callable[[str], str],
    env: dict[str, str],
) -> None:
    """Marked as migrated to head, but a table or column dropped by hand (or a migration run
    without a transaction, killed half-way): one line naming what is missing, not a traceback
    and not "cannot reach the database"."""
    url = database_url("damaged")
    engine = db.make_engine(url)
    cascade = " CASCADE" if engine.dialect.name == "postgresql" else ""  # drop what depends on it
    with engine.begin() as conn:
        conn.execute(text(statement + cascade))
    engine.dispose()
    line = one_line_error(args, {**env, "PROACTIVE_DATABASE_URL": url})
    assert line.startswith("error: The database's schema is incomplete: ")
    assert missing in line and "outside `proactive db upgrade`" in line
