"""The issue-3 commands end to end: programs, preview, run, runs, cases, review, explain."""

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from proactive.cli.main import app
from proactive.nightly.schedule import build_scheduler, load_schedule
from proactive.settings import ROOT
from tests.factories import cli_env, household, make_id, person, write_extract

runner = CliRunner()
BIRTHDAY = make_id(birth="19661125", order=11)
MISMATCH = make_id(birth="19661125", order=13)


@pytest.fixture
def env(tmp_path: Path, database_url: Callable[[str], str]) -> dict[str, str]:
    """An extract loaded through the command line, on each backend."""
    environment = {**cli_env(tmp_path), "PROACTIVE_DATABASE_URL": database_url("cli")}
    rows = [
        person(1, id_number=BIRTHDAY, birth_date="1966-11-25", sex="男"),
        person(2, id_number=MISMATCH, birth_date="1966-11-25", sex="女"),
        person(3, id_number=make_id(birth="19900101", order=15), birth_date="1990-01-01", sex="男"),
    ]
    directory = write_extract(tmp_path / "x", rows, households=[household("HH1")])
    result = runner.invoke(
        app, ["ingest", str(directory), "--report-dir", str(tmp_path)], env=environment
    )
    assert result.exit_code == 0, result.output
    return environment


def invoke(env: dict[str, str], *args: str) -> str:
    result = runner.invoke(app, list(args), env=env)
    assert result.exit_code == 0, result.output
    return result.output


def test_programs_are_listed_in_plain_language(env: dict[str, str]) -> None:
    output = invoke(env, "programs")
    assert "senior_certificate" in output and "年满60周岁" in output and "turns 80" in output
    listed = json.loads(invoke(env, "programs", "--format", "json"))
    assert [p["program"] for p in listed] == [
        "centenarian_visit",
        "high_age_allowance",
        "senior_certificate",
    ]


def test_preview_counts_and_masks_before_anything_is_opened(env: dict[str, str]) -> None:
    output = invoke(env, "programs", "preview", "senior_certificate", "--date", "2026-11-25")
    assert "2 reach the age, 2 match the rule" in output
    assert BIRTHDAY not in output and BIRTHDAY[:6] + "********" + BIRTHDAY[-4:] in output
    assert json.loads(invoke(env, "cases", "--format", "json")) == []


def test_run_cases_review_and_explain(env: dict[str, str]) -> None:
    missing_key = runner.invoke(app, ["run", "--date", "2026-11-25"], env=env)
    assert missing_key.exit_code == 2 and "proactive keys init" in missing_key.output
    assert "key id" in invoke(env, "keys", "init")
    output = invoke(env, "run", "--date", "2026-11-25", "--dry-run")
    assert "dry run" in output
    assert json.loads(invoke(env, "cases", "--format", "json")) == []
    output = invoke(env, "run", "--date", "2026-11-25")
    assert "opened:senior_certificate=2" in output
    runs = json.loads(invoke(env, "runs", "--format", "json"))
    assert [(r["as_of"], r["status"]) for r in runs] == [("2026-11-25", "succeeded")]
    listed = json.loads(invoke(env, "cases", "--format", "json"))
    assert {c["status"] for c in listed} == {"issued", "needs_review"}
    assert all(
        set(c) >= {"id_number", "program", "status", "eligible_on", "reason", "updated_at"}
        for c in listed
    )
    assert BIRTHDAY not in json.dumps(listed)
    waiting = json.loads(invoke(env, "review", "list", "--format", "json"))
    assert len(waiting) == 1 and "性别" in waiting[0]["reason"]
    case_id = str(waiting[0]["case_id"])
    shown = json.loads(invoke(env, "review", "show", case_id))
    assert [e["to"] for e in shown["events"]] == ["detected", "needs_review"]
    assert "approved" in invoke(
        env, "review", "approve", case_id, "--user", "李芳", "--why", "户籍核实"
    )
    refused = runner.invoke(
        app, ["review", "reject", case_id, "--user", "李芳", "--why", "x"], env=env
    )
    assert refused.exit_code != 0 and "not waiting for review" in refused.output
    explained = invoke(
        env, "explain", BIRTHDAY, "--program", "senior_certificate", "--date", "2026-11-25"
    )
    assert "✓ age" in explained and "case #" in explained and BIRTHDAY not in explained
    young = invoke(env, "explain", make_id(birth="19900101", order=15), "--date", "2026-11-25")
    assert "✗ age" in young


def test_second_run_while_locked_exits_with_a_clear_message(env: dict[str, str]) -> None:
    import datetime as dt

    from proactive import bootstrap
    from proactive.nightly import lock
    from proactive.settings import Settings

    engine = bootstrap.engine(Settings.from_env(env))
    invoke(env, "keys", "init")
    with lock.held(engine, "nightly", dt.datetime(2026, 11, 25, tzinfo=dt.UTC)):
        result = runner.invoke(app, ["run", "--date", "2026-11-25"], env=env)
    engine.dispose()
    assert result.exit_code == 2
    assert "Another run is in progress: " in result.output  # who holds it: per backend


def test_schedule_fires_at_two_in_shanghai_with_grace_and_coalescing() -> None:
    schedule = load_schedule(ROOT / "jobs" / "schedule.toml")
    scheduler = build_scheduler(schedule, lambda: None)
    (job,) = scheduler.get_jobs()
    assert str(job.trigger) == "cron[hour='2', minute='0']"
    assert str(job.trigger.timezone) == "Asia/Shanghai"
    assert (job.misfire_grace_time, job.coalesce, job.max_instances) == (3600, True, 1)


def test_certificates_list_verify_and_reissue(env: dict[str, str], tmp_path: Path) -> None:
    invoke(env, "keys", "init")
    invoke(env, "run", "--date", "2026-11-25")
    (listed,) = json.loads(invoke(env, "certificates", "--format", "json"))
    assert set(listed) == {
        "certificate_no",
        "id_number",
        "program",
        "issued_on",
        "status",
        "pdf_path",
    }
    assert listed["id_number"] == BIRTHDAY[:6] + "********" + BIRTHDAY[-4:]
    assert BIRTHDAY in invoke(env, "certificates", "--format", "csv", "--unmasked")
    verdict = invoke(env, "certificates", "verify", listed["pdf_path"])
    assert verdict.startswith("有效 valid") and listed["certificate_no"] in verdict
    assert "王*" in verdict and BIRTHDAY not in verdict
    from proactive.certificates.reading import read_payload

    payload = read_payload(Path(listed["pdf_path"]).read_bytes())
    assert payload is not None
    altered = payload[:-3] + ("A" if payload[-3] != "A" else "B") + payload[-2:]
    refused = runner.invoke(app, ["certificates", "verify", altered], env=env)
    assert refused.exit_code == 1 and "无效" in refused.output
    output = invoke(env, "certificates", "reissue", listed["certificate_no"], "--reason", "lost")
    assert "330108-2026-LN-000002" in output
    revoked = runner.invoke(app, ["certificates", "verify", listed["pdf_path"]], env=env)
    assert revoked.exit_code == 1 and "revoked" in revoked.output
    offline = invoke(env, "certificates", "verify", "--offline", listed["pdf_path"])
    assert "valid" in offline
    statuses = json.loads(invoke(env, "certificates", "--format", "json"))
    assert [c["status"] for c in statuses] == ["revoked", "active"]
