"""The command line end to end, in-process, against a SQLite file."""

import csv
import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from proactive.cli.main import app
from tests.factories import cli_env, migrated_sqlite, person, write_extract

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return cli_env(tmp_path)


def test_ingest_prints_summary_and_writes_report(env: dict[str, str], tmp_path: Path) -> None:
    bad = person(2, sex="X")
    directory = write_extract(tmp_path / "x", [person(1), bad])
    result = runner.invoke(
        app, ["ingest", str(directory), "--report-dir", str(tmp_path / "r")], env=env
    )
    assert result.exit_code == 0, result.output
    assert "persons.csv" in result.output
    report = tmp_path / "r" / "ingest-1"
    summary = json.loads((report / "summary.json").read_text(encoding="utf-8"))
    persons_summary = next(f for f in summary["files"] if f["file"] == "persons.csv")
    assert (persons_summary["inserted"], persons_summary["rejected"]) == (1, 1)
    with (report / "quarantine.csv").open(encoding="utf-8-sig") as handle:
        (row,) = list(csv.DictReader(handle))
    assert (row["line"], row["column"], row["reason_code"]) == ("3", "sex", "bad_sex")
    assert row["record_key"] == bad["id_number"][:6] + "********" + bad["id_number"][-4:]
    assert bad["id_number"] not in (report / "quarantine.csv").read_text(encoding="utf-8-sig")


def test_unreadable_file_gives_one_line_error_and_nonzero_exit(
    env: dict[str, str], tmp_path: Path
) -> None:
    directory = write_extract(tmp_path / "x", [person(1)])
    (directory / "households.csv").write_bytes(b"")
    result = runner.invoke(app, ["ingest", str(directory)], env=env)
    assert result.exit_code != 0
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert lines == ["error: The extract file cannot be read: households.csv: file is empty"]


def test_quarantine_formats_and_masking(env: dict[str, str], tmp_path: Path) -> None:
    bad = person(2, birth_date="1966-13-01")
    directory = write_extract(tmp_path / "x", [person(1), bad])
    assert (
        runner.invoke(
            app, ["ingest", str(directory), "--report-dir", str(tmp_path)], env=env
        ).exit_code
        == 0
    )
    masked = json.loads(runner.invoke(app, ["quarantine", "--format", "json"], env=env).output)
    assert [(r["line"], r["reason_code"]) for r in masked] == [(3, "bad_date")]
    assert bad["id_number"] not in json.dumps(masked)
    assert masked[0]["record_key"].startswith(bad["id_number"][:6] + "*")
    full = runner.invoke(app, ["quarantine", "--format", "json", "--unmasked"], env=env).output
    assert json.loads(full)[0]["record_key"] == bad["id_number"]
    table = runner.invoke(app, ["quarantine"], env=env).output
    assert "bad_date" in table and bad["id_number"] not in table
    rows = list(
        csv.DictReader(
            runner.invoke(app, ["quarantine", "--format", "csv"], env=env).output.splitlines()
        )
    )
    assert rows[0]["reason_zh"] == "日期格式错误（应为YYYY-MM-DD）"
    with_warnings = json.loads(
        runner.invoke(app, ["quarantine", "--format", "json", "--warnings"], env=env).output
    )
    assert len(with_warnings) == 1  # the good row had nothing to warn about


def section(output: str, heading: str) -> str:
    """The paragraph of a command's output that starts with `heading`."""
    start = output.find(heading)
    return output[start:].split("\n\n", 1)[0] if start >= 0 else f"(no {heading!r} in output)"


def test_demo_generates_loads_and_summarises(env: dict[str, str], tmp_path: Path) -> None:
    demo = tmp_path / "demo"
    result = runner.invoke(app, ["demo", "--workdir", str(demo), "--residents", "600"], env=env)
    assert result.exit_code == 0, result.output
    assert "persons.csv" in result.output
    for street in ("西兴街道", "长河街道", "浦沿街道"):
        assert street in result.output
    assert "id_checksum" in result.output  # the sprinkled bad rows are reported
    assert "created a demo signing key" in result.output
    assert f"in {demo / 'keys'}/" in result.output
    issued = section(result.output, "certificates issued")
    assert "330108-2026-LN-000001" in issued, issued
    assert str(demo / "certificates") in issued.replace("\n", ""), issued
    assert re.search(r"^QR of \S+\.pdf checked: valid$", issued, re.M), issued
    assert "visits planned:" in result.output and "task lists for" in result.output
    assert "through the console backend: sent=" in result.output
    codes = re.findall(
        r"demo-(worker|supervisor|admin) \((\w+)[^)]*\): one-time code (\S+)", result.output
    )
    assert [(name, role) for name, role, _ in codes] == [
        ("worker", "worker"),
        ("supervisor", "supervisor"),
        ("admin", "admin"),
    ]
    assert "/setup" in result.output
    assert (tmp_path / "demo" / "sms.jsonl").read_text(encoding="utf-8").count("\n") > 0
    for folder, pattern in (
        ("tasks", "*.pdf"),
        ("tasks", "*.html"),
        ("coverage", "*.png"),
        ("forecast", "*.png"),
    ):
        assert list((tmp_path / "demo" / folder).glob(pattern)), folder
    doctor = runner.invoke(app, ["doctor"], env=env)  # what an operator runs after the demo
    assert doctor.exit_code == 0 and "all invariants hold" in doctor.output, doctor.output
    again = runner.invoke(
        app, ["demo", "--workdir", str(tmp_path / "demo"), "--residents", "600"], env=env
    )
    assert again.exit_code == 0
    assert "demo-admin (admin): exists already" in again.output
    persons_line = next(
        line for line in again.output.splitlines() if line.startswith("persons.csv")
    )
    rows, new, changed, same = persons_line.split()[1:5]
    assert (new, changed) == ("0", "0")
    assert same == rows  # the same extract again: nothing written


def test_demo_stays_in_its_own_directory(env: dict[str, str], tmp_path: Path) -> None:
    """With PROACTIVE_DATABASE_URL and PROACTIVE_KEY_DIR set (a production host), the demo
    leaves the configured database untouched and creates no key there; the lines it prints
    point the other commands at its own database."""
    production = Path(env["PROACTIVE_DATABASE_URL"].removeprefix("sqlite:///"))
    before = production.read_bytes()
    demo = tmp_path / "demo"
    result = runner.invoke(app, ["demo", "--workdir", str(demo), "--residents", "300"], env=env)
    assert result.exit_code == 0, result.output
    assert production.read_bytes() == before
    assert not (tmp_path / "keys").exists() and not (tmp_path / "pdf").exists()
    assert (demo / "demo.db").exists() and (demo / "keys" / "district.key").exists()
    exported = dict(re.findall(r"^  export (PROACTIVE_\w+)='([^']*)'$", result.output, re.M))
    assert exported == {
        "PROACTIVE_DATABASE_URL": f"sqlite:///{demo / 'demo.db'}",
        "PROACTIVE_KEY_DIR": str(demo / "keys"),
        "PROACTIVE_CERTIFICATE_DIR": str(demo / "certificates"),
    }
    doctor = runner.invoke(app, ["doctor"], env={**env, **exported})
    assert doctor.exit_code == 0, doctor.output
    listed = json.loads(runner.invoke(app, ["cases", "--format", "json"], env=env).output)
    assert listed == []  # nothing synthetic in the configured database


def test_demo_uses_a_database_and_key_dir_only_when_told(
    env: dict[str, str], tmp_path: Path
) -> None:
    chosen = migrated_sqlite(tmp_path / "chosen.db")
    args = ["demo", "--workdir", str(tmp_path / "demo"), "--residents", "300"]
    args += ["--database", chosen, "--key-dir", str(tmp_path / "chosen-keys")]
    result = runner.invoke(app, args, env=env)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "chosen-keys" / "district.key").exists()
    assert not (tmp_path / "demo" / "demo.db").exists()
    cases = runner.invoke(
        app, ["cases", "--format", "json"], env={**env, "PROACTIVE_DATABASE_URL": chosen}
    )
    assert json.loads(cases.output)
