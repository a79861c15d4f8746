"""The nightly run on real databases: exactly once, gaps, leap days, news, catch-up, the lock."""

import datetime as dt
import itertools
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import DatabaseError

from proactive.models import Case, CaseEvent, Run
from proactive.nightly import lock
from proactive.nightly.run import RunOptions, RunReport, run_nightly, summary_text
from proactive.programs import review
from proactive.programs.catalog import Program, load_catalog, load_program
from proactive.registry.ingest import ingest, ingest_on
from proactive.settings import ROOT
from tests.factories import household, senior, write_csv, write_extract

PROGRAMS = load_catalog(ROOT / "jobs")
SENIOR = {"senior_certificate": PROGRAMS["senior_certificate"]}
DISTRICT = "330108"
D = dt.date
ticks = itertools.count()


def clock() -> dt.datetime:
    return dt.datetime(2026, 11, 25, tzinfo=dt.UTC) + dt.timedelta(seconds=next(ticks))


def load(
    engine: Engine, directory: Path, rows: list[dict[str, str]], **files: list[dict[str, str]]
) -> None:
    write_extract(directory, rows, households=[household("HH1")])
    for name, file_rows in files.items():
        write_csv(directory / f"{name}.csv", file_rows)
    ingest(engine, directory, clock)


def run(
    engine: Engine, day: dt.date, programs: dict[str, Program] = SENIOR, **options: Any
) -> RunReport:
    return run_nightly(engine, programs, RunOptions(as_of=day, **options), clock, DISTRICT)


def cases(engine: Engine) -> dict[str, tuple[str, dt.date, str]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(Case.id_number, Case.status, Case.eligible_on, Case.program)
        ).all()
    return {r.id_number: (r.status, r.eligible_on, r.program) for r in rows}


def test_exactly_once_across_reruns(engine: Engine, tmp_path: Path) -> None:
    load(
        engine,
        tmp_path / "x",
        [senior(1, "1966-11-25"), senior(2, "1966-11-26"), senior(3, "1980-01-01")],
    )
    first = run(engine, D(2026, 11, 25))
    assert first.stages["detect"]["opened:senior_certificate"] == 1
    again = run(engine, D(2026, 11, 25))
    assert "opened:senior_certificate" not in again.stages["detect"]
    run(engine, D(2026, 11, 26))
    run(engine, D(2026, 11, 26))
    found = cases(engine)
    assert sorted(v[1] for v in found.values()) == [D(2026, 11, 25), D(2026, 11, 26)]
    assert {v[0] for v in found.values()} == {"approved"}


def test_a_gap_of_several_nights_is_covered(engine: Engine, tmp_path: Path) -> None:
    rows = [senior(n, f"1966-12-{n:02d}") for n in range(1, 11)]
    load(engine, tmp_path / "x", rows)
    run(engine, D(2026, 11, 30))
    report = run(engine, D(2026, 12, 7))  # the server was off for a week
    assert report.covered_from == D(2026, 12, 1)
    assert sorted(v[1] for v in cases(engine).values()) == [D(2026, 12, n) for n in range(1, 8)]
    with engine.connect() as conn:
        assert conn.execute(select(Run.status, Run.covered_from, Run.as_of).order_by(Run.id)).all()[
            -1
        ] == ("succeeded", D(2026, 12, 1), D(2026, 12, 7))


def test_leap_day_births_under_each_convention(engine: Engine, tmp_path: Path) -> None:
    text_ = (ROOT / "jobs" / "senior_certificate.toml").read_text(encoding="utf-8")
    (tmp_path / "p61.toml").write_text(
        text_.replace("age = 60", "age = 61").replace('"senior_certificate"', '"p61"'),
        encoding="utf-8",
    )
    (tmp_path / "p61m.toml").write_text(
        text_.replace("age = 60", "age = 61")
        .replace('"senior_certificate"', '"p61m"')
        .replace('leap_day = "feb28"', 'leap_day = "mar1"'),
        encoding="utf-8",
    )
    programs = {
        p.id: p for p in (load_program(tmp_path / "p61.toml"), load_program(tmp_path / "p61m.toml"))
    }
    leapling = senior(1, "1964-02-29")
    load(engine, tmp_path / "x", [leapling, senior(2, "1965-01-01")])
    run(engine, D(2025, 2, 27), programs)
    run(engine, D(2025, 2, 28), programs)
    with engine.connect() as conn:
        opened = conn.execute(
            select(Case.program, Case.eligible_on).where(Case.id_number == leapling["id_number"])
        ).all()
    assert opened == [("p61", D(2025, 2, 28))]
    run(engine, D(2025, 3, 1), programs)
    with engine.connect() as conn:
        opened = conn.execute(
            select(Case.program, Case.eligible_on)
            .where(Case.id_number == leapling["id_number"])
            .order_by(Case.program)
        ).all()
    assert opened == [("p61", D(2025, 2, 28)), ("p61m", D(2025, 3, 1))]
    # and in a leap year the day itself, under both conventions
    assert load_program(tmp_path / "p61.toml").leap_day == "feb28"


def test_deceased_moved_out_and_window_issued_are_not_detected(
    engine: Engine, tmp_path: Path
) -> None:
    dead = senior(1, "1966-11-25", hukou_status="deceased", death_date="2026-11-01")
    gone = senior(2, "1966-11-25", hukou_status="moved_out")
    served = senior(3, "1966-11-25")
    certs = [
        {
            "id_number": served["id_number"],
            "program": "senior_certificate",
            "certificate_no": "W1",
            "issued_on": "2026-11-20",
        }
    ]
    load(
        engine,
        tmp_path / "x",
        [dead, gone, served, senior(4, "1966-11-25")],
        certificates_issued=certs,
    )
    run(engine, D(2026, 11, 25))
    assert list(cases(engine)) == [senior(4, "1966-11-25")["id_number"]]


@pytest.mark.parametrize(
    ("news", "reason"),
    [
        ({"hukou_status": "deceased", "death_date": "2026-11-25"}, "已死亡"),
        ({"hukou_status": "moved_out"}, "已迁出本区"),
        ({}, "已在窗口领证"),
    ],
)
def test_open_case_is_cancelled_when_the_news_arrives(
    engine: Engine, tmp_path: Path, news: dict[str, str], reason: str
) -> None:
    row = senior(1, "1966-11-25")
    load(engine, tmp_path / "a", [row])
    run(engine, D(2026, 11, 25))
    assert cases(engine)[row["id_number"]][0] == "approved"
    certs = (
        []
        if news
        else [
            {
                "id_number": row["id_number"],
                "program": "senior_certificate",
                "certificate_no": "W9",
                "issued_on": "2026-11-26",
            }
        ]
    )
    # the ingest's clock says 08:00 on 25 November in Shanghai: news cannot be dated later
    updated = {**row, **news, "updated_at": "2026-11-25 09:00:00"}
    load(engine, tmp_path / "b", [updated], **({"certificates_issued": certs} if certs else {}))
    report = run(engine, D(2026, 11, 26))
    status = cases(engine)[row["id_number"]][0]
    assert status == "cancelled"
    with engine.connect() as conn:
        case = conn.execute(select(Case)).one()
        assert case.reason.startswith(reason)
        trail = conn.execute(
            select(CaseEvent.from_status, CaseEvent.to_status, CaseEvent.actor).order_by(
                CaseEvent.id
            )
        ).all()
    assert [(f, t) for f, t, _ in trail] == [
        (None, "detected"),
        ("detected", "approved"),
        ("approved", "cancelled"),
    ]
    assert trail[-1][2] == f"run:{report.run_id}"


def test_movers_in_over_60_are_caught_up(engine: Engine, tmp_path: Path) -> None:
    load(engine, tmp_path / "a", [senior(1, "1980-01-01")])
    run(engine, D(2026, 11, 25))
    assert cases(engine) == {}
    newcomer = senior(2, "1950-03-03", updated_at="2026-11-26 08:00:00")
    load(engine, tmp_path / "b", [senior(1, "1980-01-01"), newcomer])
    report = run(engine, D(2026, 11, 26))
    assert cases(engine)[newcomer["id_number"]][:2] == ("approved", D(2026, 11, 26))
    assert report.stages["detect"]["catch_up"] == 1


def test_corrected_birth_date_is_caught_up(engine: Engine, tmp_path: Path) -> None:
    wrong = senior(1, "1966-11-25", birth_date="1976-11-25")  # flagged: disagrees with the ID
    load(engine, tmp_path / "a", [wrong])
    run(engine, D(2026, 11, 25))
    assert cases(engine) == {}
    load(
        engine,
        tmp_path / "b",
        [{**wrong, "birth_date": "1966-11-25", "updated_at": "2026-11-26 08:00:00"}],
    )
    run(engine, D(2026, 11, 26))
    assert cases(engine)[wrong["id_number"]][0] == "approved"


def test_failing_check_goes_to_review_and_a_person_decides(engine: Engine, tmp_path: Path) -> None:
    mismatch = senior(1, "1966-11-25", sex="女")
    load(engine, tmp_path / "x", [mismatch, senior(2, "1966-11-25")])
    run(engine, D(2026, 11, 25))
    with engine.connect() as conn:
        waiting = conn.execute(select(Case).where(Case.status == "needs_review")).one()
    assert waiting.id_number == mismatch["id_number"]
    assert "性别" in waiting.reason
    assert (
        review.decide(engine, waiting.id, True, "李芳", "户籍窗口核实性别登记有误，已更正", clock)
        == "approved"
    )
    with engine.connect() as conn:
        last = conn.execute(select(CaseEvent).order_by(CaseEvent.id.desc()).limit(1)).one()
    assert (last.actor, last.to_status) == ("user:李芳", "approved")
    assert "已更正" in last.reason
    with pytest.raises(review.NotInReview):
        review.decide(engine, waiting.id, False, "李芳", "again", clock)


def test_audit_log_is_append_only(engine: Engine, tmp_path: Path) -> None:
    load(engine, tmp_path / "x", [senior(1, "1966-11-25")])
    run(engine, D(2026, 11, 25))
    for statement in ("UPDATE case_events SET reason = 'x'", "DELETE FROM case_events"):
        with pytest.raises(DatabaseError, match="append-only"), engine.begin() as conn:
            conn.execute(text(statement))


def test_dry_run_changes_nothing(engine: Engine, tmp_path: Path) -> None:
    load(engine, tmp_path / "x", [senior(1, "1966-11-25")])
    report = run(engine, D(2026, 11, 25), dry_run=True)
    assert report.stages["detect"]["opened:senior_certificate"] == 1
    assert cases(engine) == {}
    with engine.connect() as conn:
        assert conn.execute(select(Run)).all() == []


def test_two_runs_never_overlap(engine: Engine, tmp_path: Path) -> None:
    load(engine, tmp_path / "x", [senior(1, "1966-11-25")])
    with (
        lock.held(engine, "nightly", clock()),
        pytest.raises(lock.RunLocked, match="Another run is in progress"),
    ):
        run(engine, D(2026, 11, 25))
    assert cases(engine) == {}
    run(engine, D(2026, 11, 25))
    assert len(cases(engine)) == 1


HOLDER = """
import datetime as dt
import sys
import threading

from proactive import db
from proactive.nightly import lock, run
options = {"connect_args": {"options": sys.argv[2]}} if sys.argv[2] else {}
engine = db.make_engine(sys.argv[1], **options)
moment = dt.datetime(2026, 11, 25, tzinfo=dt.UTC)
with lock.held(engine, "nightly", moment):
    run._start(engine, dt.date(2026, 11, 25), dt.date(2026, 11, 25), lambda: moment)
    print("held", flush=True)
    threading.Event().wait(120)  # not time.sleep: it fails under libfaketime
"""


def test_a_killed_runs_lock_is_taken_over_at_once(engine: Engine, tmp_path: Path) -> None:
    load(engine, tmp_path / "x", [senior(1, "1966-11-25")])
    url = engine.url.render_as_string(hide_password=False)
    search_path = ""
    if engine.dialect.name == "postgresql":
        search_path = f"-csearch_path={engine.dialect.default_schema_name}"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, url, search_path],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    assert holder.stdout is not None and holder.stdout.readline() == "held\n"
    with pytest.raises(lock.RunLocked, match=f"process {holder.pid}|PostgreSQL session"):
        run(engine, D(2026, 11, 25))
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    holder.stdout.close()
    deadline = time.monotonic() + 5  # PostgreSQL notices the closed connection at once
    while True:
        try:
            run(engine, D(2026, 11, 25))
            break
        except lock.RunLocked:
            assert time.monotonic() < deadline, "the dead run's lock was not taken over"
            threading.Event().wait(0.1)  # not time.sleep: it fails under libfaketime
    with engine.connect() as conn:
        runs = conn.execute(select(Run.status, Run.error).order_by(Run.id)).all()
    assert [r.status for r in runs] == ["interrupted", "succeeded"]
    assert "ended before the run finished" in runs[0].error
    assert len(cases(engine)) == 1


def test_failed_run_is_recorded_and_the_next_covers_its_days(
    engine: Engine, tmp_path: Path
) -> None:
    load(engine, tmp_path / "x", [senior(1, "1966-11-25")])
    with pytest.raises(Exception, match="not a directory"):
        run(engine, D(2026, 11, 25), extract=tmp_path / "missing")
    with engine.connect() as conn:
        assert conn.execute(select(Run.status)).scalars().all() == ["failed"]
    assert cases(engine) == {}
    assert run(engine, D(2026, 11, 25)).covered_from == D(2026, 11, 25)
    assert len(cases(engine)) == 1


def test_ids_are_masked_in_listings(engine: Engine, tmp_path: Path) -> None:
    from proactive.programs.case_queries import list_cases

    row = senior(1, "1966-11-25")
    load(engine, tmp_path / "x", [row])
    run(engine, D(2026, 11, 25))
    (listed,) = list_cases(engine, None, None, unmasked=False)
    assert set(listed) >= {"id_number", "program", "status", "eligible_on", "reason", "updated_at"}
    assert listed["id_number"] == row["id_number"][:6] + "********" + row["id_number"][-4:]
    assert (
        list_cases(engine, "approved", "senior_certificate", unmasked=True)[0]["id_number"]
        == row["id_number"]
    )


@pytest.mark.parametrize(
    ("overrides", "permit_name", "status", "words"),
    [
        ({"sex": "女"}, None, "needs_review", "性别"),
        ({"birth_date": "1966-11-24"}, None, "needs_review", "出生日期"),
        ({}, "王方", "needs_review", "姓名不一致"),
        ({"mobile": ""}, None, "approved", "无有效手机号"),  # not blocking: a note on the approval
    ],
)
def test_each_verification_check_on_the_database(
    engine: Engine,
    tmp_path: Path,
    overrides: dict[str, str],
    permit_name: str | None,
    status: str,
    words: str,
) -> None:
    from tests.factories import permit

    row = senior(1, "1966-11-25", **overrides)
    files = {}
    if permit_name:
        files["residence_permits"] = [
            permit(1, id_number=row["id_number"], name=permit_name, sex="男")
        ]
    load(engine, tmp_path / "x", [row], **files)
    run(engine, D(2026, 11, 24) if overrides.get("birth_date") else D(2026, 11, 25))
    with engine.connect() as conn:
        case = conn.execute(select(Case)).one()
    assert case.status == status
    assert words in case.reason


def test_a_database_error_is_stored_without_id_numbers(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from proactive.bootstrap import upgraded_engine as configured_engine
    from proactive.nightly import history
    from proactive.programs import detect
    from proactive.settings import Settings

    row = senior(1, "1966-11-25")
    load(engine, tmp_path / "x", [row])
    insert = text("INSERT INTO cases (id_number, program) VALUES (:id_number, :program)")

    def failing(session: Any, _context: Any, **_: Any) -> Any:  # a constraint it breaks
        session.execute(insert, {"id_number": row["id_number"], "program": "x" * 5})

    monkeypatch.setattr(detect, "open_cases", failing)
    with pytest.raises(DatabaseError):
        run(engine, D(2026, 11, 25))
    with engine.connect() as conn:
        (stored,) = conn.execute(select(Run.error)).scalars().all()
    assert "IntegrityError" in stored
    assert row["id_number"] not in stored
    listed = repr(history.list_runs(engine))
    assert row["id_number"] not in listed
    assert configured_engine(
        Settings.from_env({"PROACTIVE_DATABASE_URL": "sqlite://"})
    ).hide_parameters


def test_an_ingest_committing_after_a_later_one_is_not_missed(
    engine: Engine, tmp_path: Path
) -> None:
    """Ingests run outside the run lock. A (started first, id 2) is still writing when B
    (id 3) commits and a night runs: the watermark must not pass A, whose new resident the
    next night has to find. With max(ingest_runs.id) as the watermark she was never seen."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite lets one writer at a time: ingests cannot commit out of order")
    load(engine, tmp_path / "base", [senior(9, "1950-01-01")])
    run(engine, D(2026, 11, 24))
    first = tmp_path / "a"
    write_extract(first, [senior(9, "1950-01-01"), senior(1, "1950-03-03")], [household("HH1")])
    second = tmp_path / "b"
    write_extract(second, [senior(9, "1950-01-01"), senior(2, "1950-04-04")], [household("HH1")])
    slow = engine.connect()
    transaction = slow.begin()
    ingest_on(slow, first, clock)  # A: written, not yet committed
    finished = threading.Event()
    later = threading.Thread(target=lambda: (ingest(engine, second, clock), finished.set()))
    later.start()
    finished.wait(3)  # B commits at once, or waits for A to commit first
    run(engine, D(2026, 11, 25))
    transaction.commit()
    slow.close()
    later.join()
    run(engine, D(2026, 11, 26))
    found = cases(engine)
    assert {senior(1, "1950-03-03")["id_number"], senior(2, "1950-04-04")["id_number"]} <= set(
        found
    ), found


def test_a_night_names_the_extract_files_it_refused_as_older(
    engine: Engine, tmp_path: Path
) -> None:
    """An unattended night (PROACTIVE_EXTRACT_DIR) loads what it can and says in its summary,
    the cron log, which file was older than the one last loaded."""
    directory = tmp_path / "extract"
    write_extract(directory, [senior(1, "1950-01-01")], households=[household("HH1")])
    run(engine, D(2026, 11, 24), extract=directory)
    write_csv(directory / "households.csv", [household("HH1", address="旧址")])
    week_ago = dt.datetime(2026, 11, 17, 2, tzinfo=dt.UTC).timestamp()
    os.utime(directory / "households.csv", (week_ago, week_ago))
    report = run(engine, D(2026, 11, 25), extract=directory)
    assert report.stages["ingest"]["refused_files"] == 1
    (line,) = [x for x in summary_text(report).splitlines() if "refused:" in x]
    assert line.startswith("  refused: households.csv was extracted 2026-11-17 10:00:00, before")
