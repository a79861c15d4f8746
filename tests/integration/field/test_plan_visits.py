"""Dispatch on real databases: planned once, on working days, in route order; withdrawn when
the case ends; re-dispatched when the person moves."""

from __future__ import annotations

import csv
import datetime as dt
import itertools
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from proactive.certificates import issued as certificates
from proactive.certificates.file_store import DirectoryStore
from proactive.certificates.issuing import Issuer
from proactive.field import outcomes, task_states
from proactive.field.forecast import write_forecast
from proactive.field.plan_visits import Dispatcher
from proactive.field.workdays import ChinaCalendar
from proactive.geo import Walking
from proactive.models import Case, Certificate, Message, OptOut, Person, Route, Task
from proactive.nightly import invariants
from proactive.nightly.run import RunOptions, RunReport, run_nightly
from proactive.programs.ages import anniversary
from proactive.programs.catalog import load_catalog
from proactive.registry.ingest import ingest
from proactive.settings import ROOT
from proactive.sms.outbox import Composer
from proactive.sms.wording import afternoon_before
from tests.factories import household, senior, site, worker, write_csv, write_extract

PROGRAMS = load_catalog(ROOT / "jobs")
DAY = dt.date(2026, 11, 25)  # a Wednesday
DISPATCHER = Dispatcher(Walking(), ChinaCalendar())
ticks = itertools.count()
NEAR_C1 = {"lat": "30.1905", "lon": "120.2005", "division_code": "330108002001"}
NEAR_C2 = {"lat": "30.2105", "lon": "120.2205", "division_code": "330108002002"}


def clock() -> dt.datetime:
    return dt.datetime(2026, 11, 25, tzinfo=dt.UTC) + dt.timedelta(seconds=next(ticks))


SITES = [
    site("S002", "street", "330108002000", 30.200, 120.210, 40),
    site("C1", "community", "330108002001", 30.190, 120.200, 10),
    site("C2", "community", "330108002002", 30.210, 120.220, 10),
]
WORKERS = [
    worker("W1", "C1", capacity=2),
    worker("W2", "C1", capacity=2),
    worker("W3", "C2"),
    worker("SUP1", "C1", role="supervisor"),
]


def load(
    engine: Engine, directory: Path, rows: list[dict[str, str]], homes: list[dict[str, str]]
) -> None:
    write_extract(directory, rows, households=homes)
    write_csv(directory / "sites.csv", SITES)
    write_csv(directory / "social_workers.csv", WORKERS)
    ingest(engine, directory, clock)


def run(engine: Engine, day: dt.date, issuer: Issuer) -> RunReport:
    options = RunOptions(as_of=day)
    return run_nightly(engine, PROGRAMS, options, clock, "330108", issuer, DISPATCHER)


def tasks(engine: Engine) -> list[Task]:
    with engine.connect() as conn:
        return list(conn.execute(select(Task).order_by(Task.id)).all())  # type: ignore[arg-type]


def homes_near_c1(count: int) -> list[dict[str, str]]:
    return [
        household(
            f"HH{n}",
            lat=f"{30.1900 + n * 0.0004:.4f}",
            lon="120.2003",
            division_code="330108002001",
        )
        for n in range(count)
    ]


def test_each_certificate_is_planned_once_on_a_working_day_in_route_order(
    engine: Engine, issuer: Issuer, tmp_path: Path
) -> None:
    rows = [senior(n, "1966-11-25", household_id=f"HH{n}") for n in range(5)]
    load(engine, tmp_path / "x", rows, homes_near_c1(5))
    report = run(engine, DAY, issuer)
    assert report.stages["dispatch"]["planned"] == 5
    run(engine, DAY, issuer)
    run(engine, DAY + dt.timedelta(days=1), issuer)
    planned = tasks(engine)
    assert len(planned) == 5 and {t.status for t in planned} == {"planned"}
    by_day: dict[tuple[str, dt.date], list[Task]] = {}
    for t in planned:
        by_day.setdefault((t.worker_id, t.day), []).append(t)
        assert t.certificate_no.startswith("330108-2026-LN-") and len(t.code) == 4
        assert t.site_id == "C1" and not t.outside_circle and t.travel_minutes < 15
    # site cap 10, workers 2 a day each: 4 on Thursday 26th, 1 on Friday 27th
    assert sorted((w, d, len(ts)) for (w, d), ts in by_day.items()) == [
        ("W1", dt.date(2026, 11, 26), 2),
        ("W1", dt.date(2026, 11, 27), 1),
        ("W2", dt.date(2026, 11, 26), 2),
    ]
    for day_tasks in by_day.values():
        assert sorted(t.stop for t in day_tasks) == list(range(1, len(day_tasks) + 1))
        assert all(t.window.endswith(":00") for t in day_tasks)
    with engine.connect() as conn:
        routes = conn.execute(select(Route.worker_id, Route.day, Route.stops)).all()
        assert sorted(routes) == sorted((w, d, len(ts)) for (w, d), ts in by_day.items())
        assert set(conn.execute(select(Case.status)).scalars()) == {"scheduled"}


def test_visits_and_the_centenarian_goes_to_the_supervisor(
    engine: Engine, issuer: Issuer, tmp_path: Path
) -> None:
    rows = [
        senior(1, "1946-11-25", household_id="HH1"),  # 80: high-age allowance visit
        senior(2, "1926-11-25", household_id="HH2"),  # 100: centenarian visit
    ]
    load(engine, tmp_path / "x", rows, homes_near_c1(3))
    run(engine, DAY, issuer)
    found = {t.program: t for t in tasks(engine)}
    assert found["high_age_allowance"].kind == "visit"
    assert found["high_age_allowance"].worker_id in {"W1", "W2"}
    assert found["centenarian_visit"].worker_id == "SUP1"


def test_a_death_withdraws_the_visit_and_shortens_the_route(
    engine: Engine, issuer: Issuer, tmp_path: Path
) -> None:
    rows = [senior(n, "1966-11-25", household_id=f"HH{n}") for n in range(2)]
    load(engine, tmp_path / "x", rows, homes_near_c1(2))
    run(engine, DAY, issuer)
    dead = {
        **rows[0],
        "hukou_status": "deceased",
        "death_date": "2026-11-25",
        "updated_at": "2026-11-25 20:00:00",
    }
    load(engine, tmp_path / "y", [dead, rows[1]], homes_near_c1(2))
    report = run(engine, DAY + dt.timedelta(days=1), issuer)
    assert report.stages["dispatch"]["withdrawn"] == 1
    by_person = {t.id_number: t for t in tasks(engine)}
    assert (by_person[rows[0]["id_number"]].status, by_person[rows[0]["id_number"]].outcome) == (
        "withdrawn",
        "case_cancelled",
    )
    with engine.connect() as conn:
        assert conn.execute(select(Route.stops)).scalars().all() == [1]


def test_a_move_to_another_community_before_the_visit_redispatches(
    engine: Engine, issuer: Issuer, tmp_path: Path
) -> None:
    rows = [senior(1, "1966-11-25", household_id="HH1")]
    load(engine, tmp_path / "x", rows, [household("HH1", **NEAR_C1)])
    run(engine, DAY, issuer)
    moved = {**rows[0], "household_id": "HH9", "updated_at": "2026-11-25 20:00:00"}
    load(
        engine, tmp_path / "y", [moved], [household("HH1", **NEAR_C1), household("HH9", **NEAR_C2)]
    )
    report = run(engine, DAY + dt.timedelta(days=1), issuer)
    assert report.stages["dispatch"]["redispatched"] == 1
    first, second = tasks(engine)
    assert (first.status, first.outcome, first.site_id) == ("withdrawn", "moved", "C1")
    assert (second.status, second.site_id, second.worker_id, second.attempt) == (
        "planned",
        "C2",
        "W3",
        2,
    )
    assert second.certificate_no == first.certificate_no


def test_outside_the_circle_goes_to_the_own_community_site_flagged(
    engine: Engine, issuer: Issuer, tmp_path: Path
) -> None:
    far = household("HH1", lat="30.2600", lon="120.2600", division_code="330108002002")
    load(engine, tmp_path / "x", [senior(1, "1966-11-25", household_id="HH1")], [far])
    report = run(engine, DAY, issuer)
    assert report.stages["dispatch"]["outside_circle"] == 1
    (task,) = tasks(engine)
    assert (task.site_id, task.outside_circle, task.assigned_by) == ("C2", True, "community")
    assert task.travel_minutes > 15


def test_a_backlog_is_spread_oldest_first_and_its_last_day_reported(
    engine: Engine, issuer: Issuer, tmp_path: Path
) -> None:
    # people already 61 to 66: one backlog of senior certificates (none reaches 80)
    rows = [senior(n, f"19{60 - n}-03-0{n + 1}", household_id=f"HH{n}") for n in range(6)]
    load(engine, tmp_path / "x", rows, homes_near_c1(6))
    report = run(engine, DAY, issuer)
    stage = report.stages["dispatch"]
    assert stage["planned"] == 6
    assert stage["last_day"] == "2026-11-27"  # 4 a day (two workers, two each)
    by_birth = sorted(tasks(engine), key=lambda t: t.id_number[6:14])
    assert [t.day.day for t in by_birth] == [26, 26, 26, 26, 27, 27]  # oldest first


def _session(engine: Engine) -> Session:
    return Session(engine, expire_on_commit=False)


def test_done_with_the_right_code_closes_the_case(
    engine: Engine, issuer: Issuer, tmp_path: Path
) -> None:
    load(engine, tmp_path / "x", [senior(1, "1966-11-25", household_id="HH0")], homes_near_c1(1))
    run(engine, DAY, issuer)
    (task,) = tasks(engine)
    wrong = "0000" if task.code != "0000" else "1111"
    with pytest.raises(outcomes.WrongCode), _session(engine) as s, s.begin():
        outcomes.done(s, task.id, wrong, "李芳", clock())
    full_width = "".join(chr(ord(digit) + 0xFEE0) for digit in task.code)  # １２３４
    with _session(engine) as s, s.begin():
        outcomes.done(s, task.id, f" {full_width} ", "李芳", clock())
    (after,) = tasks(engine)
    assert (after.status, after.outcome) == ("done", "delivered")
    with engine.connect() as conn:
        assert conn.execute(select(Case.status)).scalar_one() == "closed"
    with pytest.raises(outcomes.NotPlanned), _session(engine) as s, s.begin():
        outcomes.done(s, task.id, task.code, "李芳", clock())


def _fail(engine: Engine, task_id: int, reason: task_states.FailReason) -> Task | None:
    with _session(engine) as s, s.begin():
        return outcomes.failed(s, PROGRAMS, task_id, reason, "李芳", clock(), DAY, DISPATCHER)


def test_not_home_three_times_then_the_supervisor(
    engine: Engine, issuer: Issuer, tmp_path: Path
) -> None:
    load(engine, tmp_path / "x", [senior(1, "1966-11-25", household_id="HH0")], homes_near_c1(1))
    run(engine, DAY, issuer)
    (task,) = tasks(engine)
    seen = [(task.day, task.worker_id)]
    for _ in range(3):
        follow = _fail(engine, task.id, task_states.FailReason.not_home)
        assert follow is not None
        task = follow
        seen.append((task.day, task.worker_id))
    assert [d for d, _ in seen] == [
        dt.date(2026, 11, 26),
        dt.date(2026, 11, 27),
        dt.date(2026, 11, 30),  # the weekend skipped
        dt.date(2026, 12, 1),
    ]
    assert [w for _, w in seen][:3] != ["SUP1"] * 3 and seen[3][1] == "SUP1"
    assert "三次未遇" in task.note and task.attempt == 4
    assert [t.status for t in tasks(engine)] == ["failed", "failed", "failed", "planned"]


def test_moved_or_deceased_at_the_door_ends_the_case_and_voids_the_certificate(
    engine: Engine, issuer: Issuer, tmp_path: Path
) -> None:
    rows = [senior(n, "1966-11-25", household_id=f"HH{n}") for n in range(2)]
    load(engine, tmp_path / "x", rows, homes_near_c1(2))
    run(engine, DAY, issuer)
    first = tasks(engine)[0]
    assert _fail(engine, first.id, task_states.FailReason.deceased) is None
    with engine.connect() as conn:
        status = conn.execute(select(Case.status).where(Case.id == first.case_id)).scalar_one()
        voided = conn.execute(
            select(Certificate.status, Certificate.revoked_reason).where(
                Certificate.case_id == first.case_id
            )
        ).one()
        stops = conn.execute(select(Route.stops)).scalars().all()
    assert status == "cancelled" and tuple(voided) == ("revoked", "deceased")
    assert stops == [1]


def test_a_wrong_address_goes_to_the_supervisor(
    engine: Engine, issuer: Issuer, tmp_path: Path
) -> None:
    load(engine, tmp_path / "x", [senior(1, "1966-11-25", household_id="HH0")], homes_near_c1(1))
    run(engine, DAY, issuer)
    (task,) = tasks(engine)
    follow = _fail(engine, task.id, task_states.FailReason.wrong_address)
    assert follow is not None and follow.worker_id == "SUP1" and "地址有误" in follow.note


COMPOSER = Composer.from_directory(str(ROOT / "templates"), "0571-12345", "21:00-08:00")
WITH_SMS = Dispatcher(Walking(), ChinaCalendar(), COMPOSER)


def at_two_am() -> dt.datetime:  # 02:00 on 25 November in Shanghai, when the run fires
    return dt.datetime(2026, 11, 24, 18, 0, tzinfo=dt.UTC) + dt.timedelta(seconds=next(ticks))


def messages(engine: Engine) -> list[Message]:
    with engine.connect() as conn:
        return list(conn.execute(select(Message).order_by(Message.id)).all())  # type: ignore[arg-type]


def test_planned_visits_queue_their_messages_once_after_the_quiet_hours(
    engine: Engine, issuer: Issuer, tmp_path: Path
) -> None:
    own = senior(1, "1966-11-25", household_id="HH0", mobile="13800138001")
    family = senior(2, "1966-11-25", household_id="HH1", mobile="")
    son = senior(3, "1990-05-01", household_id="HH1", mobile="13900139002")
    alone = senior(4, "1966-11-25", household_id="HH2", mobile="")
    load(engine, tmp_path / "x", [own, family, son, alone], homes_near_c1(3))
    with Session(engine) as s, s.begin():
        s.add(OptOut(number="+8613900139002", source="hotline", created_at=at_two_am()))
    for _ in range(2):
        run_nightly(engine, PROGRAMS, RunOptions(as_of=DAY), at_two_am, "330108", issuer, WITH_SMS)
    queued = messages(engine)
    by_person = {(m.to_number, m.kind): m for m in queued}
    assert len(queued) == 4  # two each for the own phone and the son's; none for `alone`
    notice = by_person[("+8613800138001", "scheduled")]
    assert notice.status == "queued" and notice.addressee == "self"
    assert notice.not_before == dt.datetime(2026, 11, 25, 0, 0, tzinfo=dt.UTC)  # 08:00
    assert "社工社工W" in notice.body and notice.segments <= 2
    (task,) = [t for t in tasks(engine) if t.id_number == own["id_number"]]
    assert task.code in notice.body and own["id_number"] not in notice.body
    reminder = by_person[("+8613800138001", "reminder")]
    assert reminder.not_before == afternoon_before(task.day)
    to_son = by_person[("+8613900139002", "scheduled")]
    assert (to_son.addressee, to_son.status, to_son.reason) == ("family", "withdrawn", "opted_out")
    assert "您家人王某某" in to_son.body
    (lonely,) = [t for t in tasks(engine) if t.id_number == alone["id_number"]]
    assert "无手机" in lonely.note


def test_a_death_withdraws_the_queued_messages(
    engine: Engine, issuer: Issuer, tmp_path: Path
) -> None:
    row = senior(1, "1966-11-25", household_id="HH0")
    load(engine, tmp_path / "x", [row], homes_near_c1(1))
    run_nightly(engine, PROGRAMS, RunOptions(as_of=DAY), at_two_am, "330108", issuer, WITH_SMS)
    dead = {
        **row,
        "hukou_status": "deceased",
        "death_date": "2026-11-25",
        "updated_at": "2026-11-25 20:00:00",
    }
    load(engine, tmp_path / "y", [dead], homes_near_c1(1))
    run_nightly(
        engine,
        PROGRAMS,
        RunOptions(as_of=DAY + dt.timedelta(days=1)),
        at_two_am,
        "330108",
        issuer,
        WITH_SMS,
    )
    assert {(m.status, m.reason) for m in messages(engine)} == {("withdrawn", "case_cancelled")}


def test_a_back_dated_run_plans_nothing_before_today(
    engine: Engine, issuer: Issuer, tmp_path: Path
) -> None:
    """`run --date` a week late: the visits start today (the clock's), not the day after the
    run's date; no message is dated before now, and no reminder for a visit today."""
    rows = [senior(n, "1966-11-18", household_id=f"HH{n}", mobile="13800138001") for n in (1, 2)]
    load(engine, tmp_path / "x", rows, homes_near_c1(3))

    def a_week_later() -> dt.datetime:  # 10:00 on Wednesday 25 November in Shanghai
        return dt.datetime(2026, 11, 25, 2, tzinfo=dt.UTC) + dt.timedelta(seconds=next(ticks))

    options = RunOptions(as_of=dt.date(2026, 11, 18))
    run_nightly(engine, PROGRAMS, options, a_week_later, "330108", issuer, WITH_SMS)
    planned = tasks(engine)
    assert len(planned) == 2
    assert {t.day for t in planned} == {dt.date(2026, 11, 25)}
    queued = messages(engine)
    assert {m.kind for m in queued} == {"scheduled"}  # no "tomorrow" reminder for today
    assert all(m.not_before >= dt.datetime(2026, 11, 25, 2, tzinfo=dt.UTC) for m in queued)


UNSTAFFED = [
    site("S002", "street", "330108002000", 30.200, 120.210, 40),
    site("C1", "community", "330108002001", 30.190, 120.200, 10),  # nobody works here
    site("C9", "community", "330108003009", 30.170, 120.150, 10),  # nor here, nor its street
]


def load_unstaffed(engine: Engine, directory: Path, rows: list[dict[str, str]]) -> None:
    homes = [household("HH1", **NEAR_C1), household("HH9", lat="30.1701", lon="120.1501")]
    homes[1]["division_code"] = "330108003009"
    write_extract(directory, rows, households=homes)
    write_csv(directory / "sites.csv", UNSTAFFED)
    write_csv(directory / "social_workers.csv", [worker("WS", "S002")])
    ingest(engine, directory, clock)


def test_a_new_mobile_keeps_the_street_office_visit(
    engine: Engine, issuer: Issuer, tmp_path: Path
) -> None:
    row = senior(1, "1966-11-25", household_id="HH1")
    load_unstaffed(engine, tmp_path / "x", [row])
    run_nightly(engine, PROGRAMS, RunOptions(as_of=DAY), at_two_am, "330108", issuer, WITH_SMS)
    (before,) = tasks(engine)
    assert (before.site_id, before.assigned_by) == ("S002", "street_office")
    new_phone = {**row, "mobile": "13900139009", "updated_at": "2026-11-25 20:00:00"}
    load_unstaffed(engine, tmp_path / "y", [new_phone])
    next_day = RunOptions(as_of=DAY + dt.timedelta(days=1))
    report = run_nightly(engine, PROGRAMS, next_day, at_two_am, "330108", issuer, WITH_SMS)
    assert report.stages["dispatch"].get("redispatched", 0) == 0
    (after,) = tasks(engine)
    assert (after.id, after.status, after.code) == (before.id, "planned", before.code)
    assert [m.kind for m in messages(engine)] == ["scheduled", "reminder"]


def test_a_move_that_cannot_be_placed_waits_for_the_next_run(
    engine: Engine, issuer: Issuer, tmp_path: Path
) -> None:
    row = senior(1, "1966-11-25", household_id="HH1")
    load_unstaffed(engine, tmp_path / "x", [row])
    run(engine, DAY, issuer)
    moved = {**row, "household_id": "HH9", "updated_at": "2026-11-25 20:00:00"}
    load_unstaffed(engine, tmp_path / "y", [moved])
    report = run(engine, DAY + dt.timedelta(days=1), issuer)
    assert report.stages["dispatch"]["redispatched"] == 1
    assert report.stages["dispatch"]["unplaced"] == 1
    (withdrawn,) = tasks(engine)
    assert withdrawn.status == "withdrawn"
    with engine.connect() as conn:  # back in the dispatch queue, not `scheduled` for ever
        assert conn.execute(select(Case.status)).scalar_one() == "issued"


def test_a_failed_visit_that_cannot_be_followed_up_waits_for_the_next_run(
    engine: Engine, issuer: Issuer, tmp_path: Path
) -> None:
    near_c2 = household("HH1", **NEAR_C2)
    load(engine, tmp_path / "x", [senior(1, "1966-11-25", household_id="HH1")], [near_c2])
    run(engine, DAY, issuer)
    (task,) = tasks(engine)
    assert task.site_id == "C2"  # W3 only: no supervisor there nor at the street office
    assert _fail(engine, task.id, outcomes.FailReason.wrong_address) is None
    with engine.connect() as conn:
        assert conn.execute(select(Case.status)).scalar_one() == "issued"


def test_a_reissue_before_the_visit_puts_the_new_number_on_the_task(
    engine: Engine, issuer: Issuer, tmp_path: Path
) -> None:
    load(engine, tmp_path / "x", [senior(1, "1966-11-25", household_id="HH0")], homes_near_c1(1))
    run(engine, DAY, issuer)
    (task,) = tasks(engine)
    new = certificates.reissue(
        engine,
        PROGRAMS,
        task.certificate_no,
        certificates.ReissueReason.damaged,
        issuer,
        DAY,
        "李芳",
        clock(),
    )
    with engine.connect() as conn:
        found = invariants.check_all(conn, DirectoryStore(tmp_path / "pdf"))
    assert [v.check for v in found] == ["tasks"]  # until a run (or the command) carries it
    run(engine, DAY + dt.timedelta(days=1), issuer)
    (after,) = tasks(engine)
    assert (after.id, after.status, after.certificate_no) == (
        task.id,
        "planned",
        new.certificate_no,
    )


def planned_for(engine: Engine, day: dt.date) -> Counter[tuple[str, str]]:
    """Planned visits per site and program of the people who reached the program's age on
    `day` (a first run also catches up on older people: the forecast does not)."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(Task.site_id, Task.program, Person.birth_date).join(
                Person, Person.id_number == Task.id_number
            )
        ).all()
    return Counter(
        (site_id, program)
        for site_id, program, birth in rows
        if anniversary(birth, PROGRAMS[program].age) == day
    )


def forecast_by_site(engine: Engine, out: Path, day: dt.date) -> Counter[tuple[str, str]]:
    result = write_forecast(engine, out, day, 1, DISPATCHER, PROGRAMS, "330108")
    with result.csv.open(encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    return Counter({(r["site_id"], p): int(r[p]) for r in rows for p in result.visits if int(r[p])})


def test_the_forecast_of_a_day_places_its_visits_where_dispatch_did(
    engine: Engine, issuer: Issuer, tmp_path: Path
) -> None:
    homes = [
        household("HH1", **NEAR_C1),
        household("HH2", **NEAR_C2),
        household("HH3", lat="30.1600", lon="120.1700", division_code="330108002002"),  # far
        household("HH4", lat="30.2100", lon="120.2200", division_code="330108002001"),  # by C2
        household("HH5", lat="", lon="", division_code="330108002001"),  # no coordinates
    ]
    rows = [
        senior(1, "1966-11-25", household_id="HH1"),
        senior(2, "1966-11-25", household_id="HH2"),
        senior(3, "1946-11-25", household_id="HH3"),  # 80: nearest C1, out of its circle: C2
        senior(4, "1926-11-25", household_id="HH1"),  # 100: the supervisor goes
        senior(5, "1966-11-25", household_id="HH4"),  # the circle wins over the community
        senior(6, "1966-11-25", household_id="HH5"),
    ]
    load(engine, tmp_path / "x", rows, homes)
    run(engine, DAY, issuer)
    planned = planned_for(engine, DAY)
    assert sum(planned.values()) == 6 and {s for s, _ in planned} == {"C1", "C2"}
    assert forecast_by_site(engine, tmp_path / "fc", DAY) == planned


def test_the_forecast_counts_a_street_office_standing_in_as_dispatch_does(
    engine: Engine, issuer: Issuer, tmp_path: Path
) -> None:
    load_unstaffed(engine, tmp_path / "x", [senior(1, "1966-11-25", household_id="HH1")])
    run(engine, DAY, issuer)
    planned = planned_for(engine, DAY)
    assert planned == Counter({("S002", "senior_certificate"): 1})
    assert forecast_by_site(engine, tmp_path / "fc", DAY) == planned


def test_a_worker_set_inactive_has_her_visits_planned_again_with_others(
    engine: Engine, issuer: Issuer, tmp_path: Path
) -> None:
    """social_workers.csv says W1 left: her planned visits go back to dispatch and are planned
    with the staff still there (W2, within her daily capacity of 2); her visits' notices are
    withdrawn and the new visits' notices queued, as for a resident who moved."""
    rows = [
        senior(n, "1966-11-25", household_id=f"HH{n}", mobile=f"1380013800{n}") for n in range(4)
    ]
    load(engine, tmp_path / "x", rows, homes_near_c1(4))
    night = dt.datetime(2026, 11, 25, 18, tzinfo=dt.UTC)  # 02:00 on the 26th in Shanghai
    run_nightly(engine, PROGRAMS, RunOptions(as_of=DAY), at_two_am, "330108", issuer, WITH_SMS)
    hers = [t for t in tasks(engine) if t.worker_id == "W1"]
    assert len(hers) == 2 and all(t.status == "planned" for t in hers)
    extract = tmp_path / "y"
    extract.mkdir()
    write_csv(
        extract / "social_workers.csv",
        [{**worker("W1", "C1", capacity=2), "active": "false"}, *WORKERS[1:]],
    )
    write_extract(extract, rows, households=homes_near_c1(4))
    report = run_nightly(
        engine,
        PROGRAMS,
        RunOptions(as_of=DAY + dt.timedelta(days=1), extract=extract),
        lambda: night,
        "330108",
        issuer,
        WITH_SMS,
    )
    assert report.stages["dispatch"]["redispatched"] == 2
    after = {t.id: t for t in tasks(engine)}
    assert {(after[t.id].status, after[t.id].outcome) for t in hers} == {
        ("withdrawn", "worker_inactive")
    }
    live = [t for t in after.values() if t.status == "planned"]
    assert len(live) == 4 and {t.worker_id for t in live} == {"W2"}
    per_day = Counter(t.day for t in live)
    assert max(per_day.values()) <= 2, per_day  # W2's capacity
    assert {t.case_id for t in live} == {t.case_id for t in tasks(engine)}
    by_task = {m.task_id: m for m in messages(engine) if m.kind == "scheduled"}
    assert {(by_task[t.id].status, by_task[t.id].reason) for t in hers} == {
        ("withdrawn", "worker_inactive")
    }
    again = [t for t in live if t.case_id in {h.case_id for h in hers}]
    assert len(again) == 2 and all(t.attempt == 2 for t in again)
    assert all(by_task[t.id].status == "queued" and t.code in by_task[t.id].body for t in again)
    with engine.connect() as conn:
        assert not invariants.check_all(conn, DirectoryStore(tmp_path / "pdf"))
