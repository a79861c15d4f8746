"""The dispatch commands end to end: tasks in every format, outcomes, coverage, forecast."""

import json
import re
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import create_engine, select
from typer.testing import CliRunner

from proactive.cli.main import app
from proactive.models import Task
from tests.factories import cli_env, household, senior, site, worker, write_csv, write_extract

runner = CliRunner()
ROWS = [
    senior(1, "1966-11-25", household_id="HH1", name="𠮷田"),
    senior(2, "1966-11-25", household_id="HH2", name="张㛃华"),
]


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    environment = cli_env(tmp_path)
    homes = [
        household("HH1", lat="30.1905", lon="120.2005", division_code="330108002001"),
        household("HH2", lat="30.1890", lon="120.1990", division_code="330108002001"),
    ]
    directory = write_extract(tmp_path / "x", ROWS, households=homes)
    write_csv(
        directory / "sites.csv",
        [
            site("S002", "street", "330108002000", 30.2, 120.21),
            site("C1", "community", "330108002001", 30.19, 120.2),
        ],
    )
    write_csv(
        directory / "social_workers.csv", [worker("W1", "C1"), worker("SUP1", "C1", "supervisor")]
    )
    for command in (["ingest", str(directory)], ["keys", "init"], ["run", "--date", "2026-11-25"]):
        result = runner.invoke(app, command, env=environment)
        assert result.exit_code == 0, result.output
    return environment


def invoke(env: dict[str, str], *args: str) -> str:
    result = runner.invoke(app, list(args), env=env)
    assert result.exit_code == 0, result.output
    return result.output


def test_task_lists_in_every_format(env: dict[str, str], tmp_path: Path) -> None:
    listed = json.loads(invoke(env, "tasks", "--date", "2026-11-26", "--format", "json"))
    assert [t["stop"] for t in listed] == [1, 2]
    required = {
        "task_id",
        "id_number",
        "program",
        "site_id",
        "worker_id",
        "date",
        "stop",
        "status",
        "outside_circle",
        "travel_minutes",
    }
    assert all(required <= set(t) for t in listed)
    full = ROWS[0]["id_number"]
    assert full not in json.dumps(listed) and full[:6] + "********" + full[-4:] in json.dumps(
        listed
    )
    assert full in invoke(env, "tasks", "--date", "2026-11-26", "--format", "csv", "--unmasked")
    table = invoke(env, "tasks", "--date", "2026-11-26", "--worker", "W1")
    assert "330108-2026-LN-00000" in table
    assert json.loads(invoke(env, "tasks", "--date", "2026-11-27", "--format", "json")) == []
    html_file, pdf_file = tmp_path / "list.html", tmp_path / "list.pdf"
    invoke(env, "tasks", "--date", "2026-11-26", "--format", "html", "--out", str(html_file))
    html = html_file.read_text(encoding="utf-8")
    assert "社工上门任务单" in html and "𠮷田" in html and "张㛃华" in html and full not in html
    invoke(env, "tasks", "--date", "2026-11-26", "--format", "pdf", "--out", str(pdf_file))
    text = "".join(page.extract_text() for page in PdfReader(pdf_file).pages)
    assert "𠮷田" in text and "张㛃华" in text
    assert "330108-2026-LN-\n000001" in text  # the number wraps inside its column


def test_outcomes_from_the_command_line(env: dict[str, str], tmp_path: Path) -> None:
    engine = create_engine(env["PROACTIVE_DATABASE_URL"])
    with engine.connect() as conn:
        first, second = conn.execute(select(Task.id, Task.code).order_by(Task.stop)).all()
    engine.dispose()
    wrong = runner.invoke(app, ["tasks", "done", str(first.id), "--code", "x"], env=env)
    assert wrong.exit_code == 2 and "confirmation code" in wrong.output
    assert "case closed" in invoke(env, "tasks", "done", str(first.id), "--code", first.code)
    output = invoke(env, "tasks", "failed", str(second.id), "--reason", "not_home")
    assert "next visit" in output and "2026-11-27" in output
    follow = re.search(r"next visit: task (\d+)", output)
    assert follow is not None
    ended = invoke(env, "tasks", "failed", follow.group(1), "--reason", "deceased")
    assert "case cancelled" in ended and "closed without delivery" not in ended


@pytest.mark.invariants_broken("the test breaks them to see doctor report it")
def test_doctor_passes_then_lists_what_is_broken(env: dict[str, str], tmp_path: Path) -> None:
    assert "all invariants hold" in invoke(env, "doctor")
    pdfs = sorted((tmp_path / "pdf").rglob("*.pdf"))
    pdfs[0].unlink()
    (pdfs[1].parent / "stray.pdf").write_bytes(b"%PDF-")
    (pdfs[1].parent / "tmpx.part").write_bytes(b"%PDF-")
    result = runner.invoke(app, ["doctor"], env=env)
    assert result.exit_code == 1
    assert f"certificates: {pdfs[0].stem}: PDF missing" in result.output
    assert "orphan PDF" in result.output and "temporary file" in result.output
    assert "3 problem(s)" in result.output


def test_coverage_and_forecast_pictures(env: dict[str, str], tmp_path: Path) -> None:
    output = invoke(env, "coverage", "--out", str(tmp_path / "cov"), "--date", "2026-11-25")
    assert "inside a circle 2" in output
    assert list((tmp_path / "cov").glob("*.png")) and list((tmp_path / "cov").glob("*.csv"))
    output = invoke(env, "forecast", "--days", "30", "--out", str(tmp_path / "fc"))
    assert "per site and week" in output and list((tmp_path / "fc").glob("*.png"))


def test_sms_listing_templates_and_opt_outs(env: dict[str, str]) -> None:
    templates = json.loads(invoke(env, "sms", "templates", "--format", "json"))
    assert len(templates) == 6 and all(t["segments"] <= 2 for t in templates)
    queued = json.loads(invoke(env, "sms", "--format", "json"))
    assert queued and {m["status"] for m in queued} == {"queued"}
    assert all("****" in m["to"] for m in queued)
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", m["not_before"]) for m in queued)
    assert "10:00:00" in {m["not_before"][11:] for m in queued}  # sent now: 02:00 UTC
    output = invoke(env, "optout", "add", "13800138000", "--note", "热线来电")
    assert "opted out" in output and "withdrawn" in output
    after = json.loads(invoke(env, "sms", "--format", "json", "--status", "withdrawn"))
    assert len(after) == len(queued)  # every test resident shares that number
    assert "+8613800138000" in invoke(env, "optout", "list", "--unmasked")
    assert "removed" in invoke(env, "optout", "remove", "13800138000")
    bad = runner.invoke(app, ["optout", "add", "12345"], env=env)
    assert bad.exit_code == 2 and "Not a valid phone number" in bad.output


def test_sms_commands_refuse_incomplete_settings_clearly(env: dict[str, str]) -> None:
    for command in (["worker", "--once"], ["sms", "reconcile"]):
        result = runner.invoke(app, command, env={**env, "PROACTIVE_SMS_BACKEND": "twilio"})
        assert result.exit_code == 2
        assert result.output.startswith("error: The SMS settings are incomplete")
