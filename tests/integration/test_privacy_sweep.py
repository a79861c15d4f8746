"""The privacy sweep: a whole scenario through the command line and the web app, then every log
record, every free-text column, every report, listing and export searched for the synthetic
residents' full ID numbers, phone numbers and names; on SQLite and on PostgreSQL, whose error
texts and COPY paths differ.

Allowed to hold them, by purpose: the `--unmasked` outputs and the social worker's own task list
(not scanned: `tasks/`, the demo's printable lists); the extract itself and the certificates
(the printed card bears the holder's name); what goes to the resident (the console backend's
JSONL of sent messages stands in for the carrier); and the columns that identify a person or
reach them (a case's and a task's ID number, a message's number and the text sent to it, a
rejected row as it came, for `--unmasked`)."""

from __future__ import annotations

import csv
import datetime as dt
import json
import logging
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import String, Text, create_engine, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from proactive import logs
from proactive.cli.main import app
from proactive.models import Base, Message
from proactive.settings import Settings
from proactive.testing.twilio_standin import TwilioStandin
from proactive.web import app as web
from tests.factories import cli_env
from tests.integration.web.test_twilio_hooks import Twilio

runner = CliRunner()
DAY = "2026-11-25"
PUBLIC = "https://proactive.example.gov.cn"

SCANNED_TABLES = ("runs", "messages", "cases", "case_events", "row_issues", "tasks", "opt_outs")
ALLOWED_COLUMNS = {
    ("cases", "id_number"),  # whose case it is
    ("tasks", "id_number"),
    ("messages", "to_number"),  # where the message goes
    ("messages", "body"),  # what the resident (or their family) reads
    ("opt_outs", "number"),  # the number that asked for no messages
    ("row_issues", "record_key"),  # the rejected row as it came, for --unmasked
    ("row_issues", "raw"),
}


class Residents:
    """The synthetic residents' full ID numbers, phone numbers and names, from the extract."""

    def __init__(self, extract: Path) -> None:
        ids, phones, names = set(), set(), set()
        for file in ("persons.csv", "residence_permits.csv"):
            with (extract / file).open(encoding="utf-8") as handle:
                for row in csv.DictReader(handle):
                    ids.add(row["id_number"].strip().upper())
                    phones.update(re.findall(r"1[3-9][0-9]{9}", row.get("mobile", "")))
                    if len(row["name"].strip()) >= 2:
                        names.add(row["name"].strip())
        self.secrets = {s for s in ids | phones | names if s}

    def leaks(self, text: str) -> set[str]:
        return {s for s in self.secrets if s in text}


@pytest.fixture
def logged(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Every record of every command at DEBUG reaches caplog (the commands' own handler off)."""
    monkeypatch.setattr(logs, "configure", lambda _level: None)
    with caplog.at_level(logging.DEBUG):
        yield


def invoke(env: dict[str, str], *args: str, code: int = 0) -> str:
    result = runner.invoke(app, list(args), env=env)
    assert result.exit_code == code, (args, result.output)
    assert "Traceback" not in result.output
    return result.output


def scenario(env: dict[str, str], tmp_path: Path, standin: TwilioStandin) -> list[str]:
    """Ingest with bad rows, run, fail a visit, send through Twilio with errors, receive
    webhooks, reissue; the listings and exports made on the way."""
    extract, reports = tmp_path / "extract", tmp_path / "reports"
    outputs = [invoke(env, "synth", "--out", str(extract), "--residents", "400", "--date", DAY)]
    invoke(env, "keys", "init")
    outputs.append(invoke(env, "ingest", str(extract), "--report-dir", str(reports)))
    outputs.append(invoke(env, "run", "--date", DAY))
    tasks = json.loads(invoke(env, "tasks", "--date", "2026-11-26", "--format", "json"))
    if not tasks:
        tasks = json.loads(invoke(env, "tasks", "--format", "json"))
    failed = str(tasks[0]["task_id"]) if tasks else ""
    if failed:
        outputs.append(invoke(env, "tasks", "failed", failed, "--reason", "not_home"))
    engine = create_engine(env["PROACTIVE_DATABASE_URL"])
    with Session(engine) as session, session.begin():
        queued = session.scalars(select(Message).where(Message.status == "queued")).all()
        assert queued, "the run queued no message"
        for message, wrong in zip(queued, ("86", "+15005550001", "+15005550004"), strict=False):
            message.to_number = (
                message.to_number[1:] if wrong == "86" else wrong
            )  # Twilio quotes it
    twilio_env = {
        **env,
        "PROACTIVE_SMS_BACKEND": "twilio",
        "TWILIO_ACCOUNT_SID": standin.account_sid,
        "TWILIO_AUTH_TOKEN": standin.auth_token,
        "TWILIO_FROM": "+15005550006",
        "TWILIO_API_BASE": standin.url,
        "PROACTIVE_PUBLIC_URL": PUBLIC,
        "PROACTIVE_QUIET_HOURS": "",
    }
    outputs.append(invoke(twilio_env, "worker", "--once"))
    hooks = Twilio(
        web.create_app(engine, Settings.from_env(twilio_env), lambda: dt.datetime.now(dt.UTC)),
        standin.auth_token,
        PUBLIC,
    )
    with Session(engine) as session:
        sent = session.scalars(select(Message).where(Message.provider_sid != "")).all()
        number = sent[0].to_number
        for message in sent[:5]:
            hooks.post(
                "/twilio/status",
                {
                    "MessageSid": message.provider_sid,
                    "MessageStatus": "undelivered",
                    "ErrorCode": "30003",
                    "To": message.to_number,
                    "AccountSid": "AC1",
                },
            )
    for body in ("2", "1", "退订"):
        hooks.post(
            "/twilio/inbound",
            {"MessageSid": "SMin", "From": number, "To": "+15005550006", "Body": body},
        )
    hooks.post("/twilio/inbound", {"MessageSid": "SMin", "From": "+8613700000000", "Body": "你好"})
    certificates = json.loads(invoke(env, "certificates", "--format", "json"))
    assert certificates, "the run issued no certificate"
    outputs.append(
        invoke(
            env, "certificates", "reissue", certificates[0]["certificate_no"], "--reason", "lost"
        )
    )
    revoked = certificates[0]["pdf_path"]
    outputs.append(invoke(env, "certificates", "verify", revoked, code=1))
    engine.dispose()
    return outputs


def listings(env: dict[str, str]) -> list[str]:
    """Every masked listing, in every format."""
    shown = []
    for command in (
        ["quarantine"],
        ["quarantine", "--warnings"],
        ["cases"],
        ["review", "list"],
        ["certificates"],
        ["runs"],
        ["sms"],
        ["optout", "list"],
    ):
        for fmt in ("table", "csv", "json"):
            shown.append(invoke(env, *command, "--format", fmt))
    cases = json.loads(invoke(env, "cases", "--format", "json"))
    shown.append(invoke(env, "review", "show", str(cases[0]["case_id"])))
    shown.append(invoke(env, "programs", "preview", "senior_certificate", "--date", DAY))
    shown.append(invoke(env, "sms", "templates"))
    return shown


def columns(engine_url: str) -> list[tuple[str, str, str]]:
    """(table, column, value) of every text column of the scanned tables."""
    engine = create_engine(engine_url)
    found = []
    with engine.connect() as conn:
        for name in SCANNED_TABLES:
            table = Base.metadata.tables[name]
            texts = [c for c in table.columns if isinstance(c.type, String | Text)]
            for row in conn.execute(select(*texts)).mappings():
                found += [(name, k, str(v)) for k, v in row.items() if v]
    engine.dispose()
    return found


def test_nothing_personal_leaks(
    tmp_path: Path,
    database_url: Callable[[str], str],
    logged: None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    env = {
        **cli_env(tmp_path),
        "PROACTIVE_DATABASE_URL": database_url("sweep"),
        "PROACTIVE_LOG_LEVEL": "DEBUG",
    }
    with TwilioStandin() as standin:
        outputs = scenario(env, tmp_path, standin)
    outputs += listings(env)
    (tmp_path / "demo").mkdir()
    demo_env = {
        **cli_env(tmp_path / "demo"),
        "PROACTIVE_DATABASE_URL": database_url("demo"),
        "PROACTIVE_LOG_LEVEL": "DEBUG",
    }
    outputs.append(
        invoke(demo_env, "demo", "--workdir", str(tmp_path / "demo"), "--residents", "400")
    )
    residents = Residents(tmp_path / "extract")
    demo_residents = Residents(next((tmp_path / "demo").glob("**/persons.csv")).parent)
    leaks: dict[str, set[str]] = {}

    def check(where: str, text: str, who: Residents = residents) -> None:
        found = who.leaks(text)
        if found:
            leaks[where] = found

    formatter = logs.KeyValueFormatter()
    for record in caplog.records:
        check(f"log {record.getMessage()}", formatter.format(record))
        check(f"log {record.getMessage()}", formatter.format(record), demo_residents)
    for n, output in enumerate(outputs):
        check(f"output {n}", output)
        check(f"output {n}", output, demo_residents)
    for table, column, value in columns(env["PROACTIVE_DATABASE_URL"]):
        if (table, column) not in ALLOWED_COLUMNS:
            check(f"{table}.{column}", value)
    for table, column, value in columns(f"sqlite:///{tmp_path / 'demo' / 'demo.db'}"):
        if (table, column) not in ALLOWED_COLUMNS:
            check(f"demo {table}.{column}", value, demo_residents)
    extract_files = {p for p in (tmp_path / "extract").iterdir()}
    extract_files |= set(demo_residents_dir(tmp_path).iterdir())
    for path in sorted(tmp_path.rglob("*")):
        if not path.is_file() or path in extract_files or path.suffix in {".pdf", ".db", ".png"}:
            continue
        if (
            path.name.endswith(("-wal", "-shm", ".pub", ".key", "sms.jsonl"))
            or "tasks" in path.parts
        ):
            continue
        text = path.read_text(encoding="utf-8-sig", errors="replace")
        check(f"file {path.relative_to(tmp_path)}", text)
        check(f"file {path.relative_to(tmp_path)}", text, demo_residents)
    assert len(caplog.records) > 20 and len(residents.secrets) > 1000
    found = {where: [*sorted(what)[:3], f"({len(what)} in all)"] for where, what in leaks.items()}
    assert leaks == {}, json.dumps(found, ensure_ascii=False, indent=1)


def demo_residents_dir(tmp_path: Path) -> Path:
    return next((tmp_path / "demo").glob("**/persons.csv")).parent
