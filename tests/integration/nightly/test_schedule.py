"""`proactive schedule`'s job, driven with a fake clock: the whole night, the same state as
`proactive run` for that night, and at most one run a night however many schedulers fire."""

import datetime as dt
import threading
from pathlib import Path
from typing import Any

import pytest
from apscheduler.schedulers.blocking import BlockingScheduler
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from proactive import bootstrap, db
from proactive.cli.main import app
from proactive.models import Case, Certificate, Message, Run, Task
from proactive.nightly.run import AlreadyRan
from proactive.settings import Settings
from proactive.time import SHANGHAI
from tests.factories import (
    household,
    migrated_sqlite,
    senior,
    site,
    worker,
    write_csv,
    write_extract,
)

runner = CliRunner()
NIGHT = dt.date(2026, 11, 25)
EVENING = dt.datetime(2026, 11, 24, 20, tzinfo=SHANGHAI)


def extract(directory: Path) -> Path:
    homes = [
        household("HH1", lat="30.1905", lon="120.2005", division_code="330108002001"),
        household("HH2", lat="30.1890", lon="120.1990", division_code="330108002001"),
    ]
    rows = [
        senior(1, "1966-11-25", household_id="HH1"),
        senior(2, "1966-11-25", household_id="HH2"),
    ]
    write_extract(directory, rows, households=homes)
    write_csv(
        directory / "sites.csv",
        [
            site("S002", "street", "330108002000", 30.2, 120.21),
            site("C1", "community", "330108002001", 30.19, 120.2),
        ],
    )
    write_csv(directory / "social_workers.csv", [worker("W1", "C1")])
    return directory


def environment(where: Path, extract_dir: Path, database_url: str = "") -> dict[str, str]:
    env = {
        "PROACTIVE_DATABASE_URL": database_url or migrated_sqlite(where / "night.db"),
        "PROACTIVE_KEY_DIR": str(where.parent / "keys"),
        "PROACTIVE_CERTIFICATE_DIR": str(where / "pdf"),
        "PROACTIVE_EXTRACT_DIR": str(extract_dir),
    }
    where.mkdir(parents=True, exist_ok=True)
    return env


def scheduled_job(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Any:
    """Start `proactive schedule` with the scheduler's start captured; returns its job."""
    started: list[BlockingScheduler] = []
    monkeypatch.setattr(BlockingScheduler, "start", lambda self: started.append(self))
    result = runner.invoke(app, ["schedule"], env=env)
    assert result.exit_code == 0, result.output
    (job,) = started[0].get_jobs()
    return job


FIRE = dt.datetime(2026, 11, 25, 2, tzinfo=SHANGHAI)


def at_fire_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fake clock: the moment the trigger fires after EVENING (checked by the tests)."""
    monkeypatch.setattr(bootstrap, "utc_now", lambda: FIRE.astimezone(dt.UTC))


def fires_at_two(job: Any) -> None:
    assert job.trigger.get_next_fire_time(None, EVENING) == FIRE


def state(url: str) -> dict[str, list[tuple[Any, ...]]]:
    engine = db.make_engine(url)
    with engine.connect() as conn:
        found = {
            "cases": conn.execute(
                select(Case.id_number, Case.program, Case.status).order_by(Case.id_number)
            ).all(),
            "certificates": conn.execute(
                select(
                    Certificate.certificate_no, Certificate.id_number, Certificate.status
                ).order_by(Certificate.certificate_no)
            ).all(),
            "tasks": conn.execute(
                select(Task.id_number, Task.worker_id, Task.day, Task.stop, Task.status).order_by(
                    Task.day, Task.stop
                )
            ).all(),
            "messages": conn.execute(
                select(
                    Message.kind, Message.to_number, Message.status, Message.not_before
                ).order_by(Message.kind, Message.to_number)
            ).all(),
            "runs": conn.execute(select(Run.as_of, Run.status)).all(),
        }
    engine.dispose()
    return {name: [tuple(row) for row in rows] for name, rows in found.items()}


def test_the_scheduled_job_runs_the_whole_night_like_proactive_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    directory = extract(tmp_path / "extract")
    scheduled = environment(tmp_path / "scheduled", directory)
    by_hand = environment(tmp_path / "by_hand", directory)
    assert runner.invoke(app, ["keys", "init"], env=scheduled).exit_code == 0
    at_fire_time(monkeypatch)
    job = scheduled_job(scheduled, monkeypatch)
    fires_at_two(job)
    job.func()
    night = state(scheduled["PROACTIVE_DATABASE_URL"])
    assert night["runs"] == [(NIGHT, "succeeded")]
    assert len(night["certificates"]) == 2 and {c[2] for c in night["certificates"]} == {"active"}
    assert len(night["tasks"]) == 2 and {t[1] for t in night["tasks"]} == {"W1"}
    assert {m[0] for m in night["messages"]} >= {"scheduled"}
    result = runner.invoke(app, ["run"], env=by_hand)
    assert result.exit_code == 0, result.output
    assert state(by_hand["PROACTIVE_DATABASE_URL"]) == night


def test_a_night_that_already_ran_is_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    env = environment(tmp_path / "db", extract(tmp_path / "extract"))
    assert runner.invoke(app, ["keys", "init"], env=env).exit_code == 0
    at_fire_time(monkeypatch)
    job = scheduled_job(env, monkeypatch)
    job.func()
    job.func()
    assert "run skipped: The night already ran: run 1" in capsys.readouterr().err
    assert state(env["PROACTIVE_DATABASE_URL"])["runs"] == [(NIGHT, "succeeded")]


@pytest.mark.postgresql
def test_several_schedulers_on_postgresql_run_the_night_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, engine: Engine
) -> None:
    url = engine.url.render_as_string(hide_password=False)
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only")
    schema = engine.dialect.default_schema_name
    options = {"connect_args": {"options": f"-csearch_path={schema}"}}
    env = environment(tmp_path / "db", extract(tmp_path / "extract"), url)
    assert runner.invoke(app, ["keys", "init"], env=env).exit_code == 0
    moment = FIRE.astimezone(dt.UTC)
    settings = Settings.from_env(env)
    outcomes: list[str] = []
    barrier = threading.Barrier(4)

    def scheduler_process() -> None:
        own = db.make_engine(url, **options)
        night = bootstrap.scheduled_night(settings, own, lambda: moment)
        barrier.wait()
        try:
            night()
            outcomes.append("ran")
        except AlreadyRan:
            outcomes.append("already ran")
        except Exception as error:  # the lock: another is running
            outcomes.append(type(error).__name__)
        own.dispose()

    threads = [threading.Thread(target=scheduler_process) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("ran") == 1, outcomes
    assert set(outcomes) <= {"ran", "already ran", "RunLocked"}
    with engine.connect() as conn:
        assert conn.execute(select(Run.as_of, Run.status)).all() == [(NIGHT, "succeeded")]
        assert len(conn.execute(select(Certificate.id)).all()) == 2
