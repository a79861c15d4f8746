"""Dispatch rules as pure functions: the circle, capacity, working days, the backlog."""

import datetime as dt
import random
from collections import Counter

from proactive.field.placement import Board, Circle, Job, SiteInfo, WorkerInfo, plan, windows
from proactive.field.workdays import ChinaCalendar
from proactive.geo import Point, Walking

D = dt.date
SITE = Point(30.2000, 120.2000)
WALK = Walking()
STREET = SiteInfo(
    "S001", "西兴街道便民服务中心", "street", "330108001000", Point(30.21, 120.22), 40
)
NEAR = SiteInfo("C001", "甲社区服务站", "community", "330108001001", SITE, 4)
FAR = SiteInfo("C002", "乙社区服务站", "community", "330108001002", Point(30.26, 120.2), 4)


def north(metres: float) -> Point:
    return Point(SITE.lat + metres / 111_195, SITE.lon)


def job(n: int, home: Point | None = None, code: str = "330108001001", **kw: object) -> Job:
    fields: dict = {
        "case_id": n,
        "attempt": 1,
        "birth_date": D(1950, 1, 1) + dt.timedelta(days=n),
        "home": home if home is not None else north(100),
        "division_code": code,
        "earliest": D(2026, 11, 26),
    }
    fields.update(kw)
    return Job(**fields)


def test_the_circle_and_its_fallbacks() -> None:
    circle = Circle([STREET, NEAR, FAR], WALK)
    inside = circle.choose(north(800), "330108001002")  # 800 m * 1.3 / 75 = 13.9 min
    assert inside is not None and (inside.site_id, inside.assigned_by) == ("C001", "circle")
    assert not inside.outside_circle and inside.minutes < 15
    outside = circle.choose(north(900), "330108001002")  # 15.6 min: too far from both
    assert outside is not None and (outside.site_id, outside.assigned_by) == ("C002", "community")
    assert outside.outside_circle and outside.located
    unknown = circle.choose(None, "330108001002")
    assert unknown is not None and (unknown.site_id, unknown.located) == ("C002", False)
    no_site = circle.choose(None, "330108001099")
    assert no_site is not None and (no_site.site_id, no_site.assigned_by) == ("S001", "street")
    assert circle.choose(None, "330108009001") is None


def test_capacity_is_never_exceeded_and_load_is_shared() -> None:
    rng = random.Random(7)
    workers = [
        WorkerInfo("W1", "C001", "worker", 3),
        WorkerInfo("W2", "C001", "worker", 2),
        WorkerInfo("W3", "C002", "worker", 8),
    ]
    circle = Circle([STREET, NEAR, FAR], WALK)
    board = Board(circle, workers, ChinaCalendar(), D(2026, 11, 26))
    board.book("C001", "W1", D(2026, 11, 26), 2)  # planned by an earlier run
    jobs = [job(n, north(rng.uniform(0, 700))) for n in range(60)]
    placed, left = plan(jobs, circle, board)
    assert left == [] and len(placed) == 60
    per_site = Counter((p.site_id, p.day) for p in placed)
    per_worker = Counter((p.worker_id, p.day) for p in placed)
    per_worker[("W1", D(2026, 11, 26))] += 2
    per_site[("C001", D(2026, 11, 26))] += 2
    assert max(per_site.values()) <= 4
    assert all(n <= {"W1": 3, "W2": 2}[w] for (w, _), n in per_worker.items())
    first_day = [p.worker_id for p in placed if p.day == D(2026, 11, 27)]
    assert sorted(first_day) == ["W1", "W1", "W2", "W2"]  # shared by load, site cap 4


def test_days_skip_holidays_and_use_make_up_working_days() -> None:
    circle = Circle([STREET, NEAR], WALK)
    workers = [WorkerInfo("W1", "C001", "worker", 1)]
    board = Board(circle, workers, ChinaCalendar(), D(2026, 9, 29))
    placed, _ = plan([job(n, earliest=D(2026, 9, 29)) for n in range(3)], circle, board)
    assert [p.day for p in placed] == [D(2026, 9, 29), D(2026, 9, 30), D(2026, 10, 8)]
    board = Board(circle, workers, ChinaCalendar(), D(2026, 2, 27))
    placed, _ = plan([job(n, earliest=D(2026, 2, 27)) for n in range(2)], circle, board)
    assert [p.day for p in placed] == [D(2026, 2, 27), D(2026, 2, 28)]  # a working Saturday


def test_a_backlog_is_spread_oldest_first_and_ends_on_a_known_day() -> None:
    circle = Circle([STREET, NEAR], WALK)
    workers = [WorkerInfo("W1", "C001", "worker", 8), WorkerInfo("W2", "C001", "worker", 8)]
    board = Board(circle, workers, ChinaCalendar(), D(2026, 11, 26))
    jobs = [job(n) for n in range(40)]
    placed, _ = plan(reversed(jobs), circle, board)
    days = sorted({p.day for p in placed})
    assert days == [
        D(2026, 11, 26),
        D(2026, 11, 27),
        D(2026, 11, 30),
        D(2026, 12, 1),
        D(2026, 12, 2),
        D(2026, 12, 3),
        D(2026, 12, 4),
        D(2026, 12, 7),
        D(2026, 12, 8),
        D(2026, 12, 9),
    ]  # 4 a day (site cap), weekends skipped
    by_age = sorted(placed, key=lambda p: p.job.birth_date)
    assert [p.day for p in by_age] == sorted(p.day for p in placed)  # oldest first


def test_no_worker_goes_to_supervisor_then_street_office() -> None:
    circle = Circle([STREET, NEAR, FAR], WALK)
    workers = [
        WorkerInfo("SUP1", "C001", "supervisor", 8),
        WorkerInfo("SW1", "S001", "worker", 8),
    ]
    board = Board(circle, workers, ChinaCalendar(), D(2026, 11, 26))
    placed, _ = plan([job(1), job(2, north(5600), code="330108001002")], circle, board)
    staffed = {p.job.case_id: (p.site_id, p.worker_id, p.staffed_by) for p in placed}
    assert staffed[1] == ("C001", "SUP1", "supervisor")
    assert staffed[2] == ("S001", "SW1", "street_office")


def test_windows_follow_the_walk_and_skip_lunch() -> None:
    assert windows([10, 10, 100, 20, 5]) == [
        "09:00–10:00",
        "09:00–10:00",
        "11:00–12:00",
        "13:00–14:00",
        "13:00–14:00",
    ]


def test_one_persons_visits_go_together_when_there_is_room() -> None:
    circle = Circle([STREET, NEAR], WALK)
    workers = [
        WorkerInfo("W1", "C001", "worker", 8),
        WorkerInfo("W2", "C001", "worker", 8),
        WorkerInfo("SUP1", "C001", "supervisor", 8),
    ]
    board = Board(circle, workers, ChinaCalendar(), D(2026, 11, 26))
    same = {"birth_date": D(1926, 11, 25), "person": "330108192611250011"}
    jobs = [
        job(1, **same),  # senior certificate
        job(2, **same),  # high-age allowance
        job(3, visitor="supervisor", **same),  # centenarian visit
        job(4),  # someone else, younger
    ]
    placed, _ = plan(jobs, circle, board)
    by_case = {p.job.case_id: (p.worker_id, p.day) for p in placed}
    assert by_case[1] == by_case[2]  # one worker, one trip, though load would split them
    assert by_case[3] == ("SUP1", by_case[1][1])  # the supervisor comes the same day
    assert by_case[4][0] != by_case[1][0]  # the next person goes to the less-loaded worker
