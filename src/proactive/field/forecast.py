"""How many home visits each site will have per week in the coming days, from birth dates
alone, and the social-worker days that takes against the days the site's workers have.

What: the programs of the catalog (jobs/*.toml) that end in a home visit (delivery
`certificate` or `visit`); `notice` programs need no visit. Who: a resident the nightly run
would find eligible on the day they reach the program's age (programs.eligibility.assess on
that day: alive, the program's residency, no window certificate; the registry as it stands,
so later deaths, moves and permit changes are not foreseen). A person reaches an age on the
anniversary of their birth; someone born on 29 February by the program's `leap_day` rule.

Where: the site dispatch would send, by the same functions (field.placement): the nearest
community site within the 15-minute circle from the home dispatch uses (registry.homes),
else the community's site, else the street office; then whoever goes for that site (its
workers, its supervisor, or the street office standing in). Failing all, "未分配站点".

Weeks are 7-day blocks from the first day; the last may be shorter. Work: one visit per person
and program, `per_worker_day` visits make one worker-day. Capacity: every active social worker
of role `worker` at the site (supervisors excluded) gives 5 working days a week, pro rata for
a short last week; leave, holidays and other duties are not taken off.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.ticker import MaxNLocator
from sqlalchemy import ColumnElement, Connection, Engine, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from proactive.field.coverage import Floats
from proactive.field.placement import Board, Circle, SiteInfo
from proactive.field.plan_visits import Dispatcher, load_sites
from proactive.field.plan_visits import load_workers as load_staff
from proactive.field.plots import chinese_figure, save_png
from proactive.geo import Point
from proactive.models import Person, ResidencePermit, SocialWorker
from proactive.output import write_csv
from proactive.programs.ages import BirthRange, anniversary, births_reaching
from proactive.programs.catalog import Program
from proactive.programs.eligibility import assess
from proactive.registry.binjiang import STREETS
from proactive.registry.resident import Resident
from proactive.registry.resident_reads import Home, homes, load_residents

VISITED = ("certificate", "visit")  # deliveries that send someone to the home
WORKING_DAYS_PER_WEEK = 5
UNASSIGNED = ""  # site id of people no site could be found for
UNASSIGNED_NAME = "未分配站点"
FIXED_COLUMNS = ("site_id", "site_name", "street", "week_start")
WORK_COLUMNS = ("worker_days_needed", "worker_days_capacity")
COLOURS = ("#6baed6", "#fd8d3c", "#d62728", "#74c476", "#9e9ac8", "#969696")


# -- pure core --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Week:
    start: dt.date
    days: int  # 7, or fewer for the last week


@dataclass(frozen=True)
class Event:
    """A visit to come: someone reaching a program's age on `day`, and where they live."""

    program: str
    day: dt.date
    visitor: str  # worker | supervisor
    division_code: str
    point: Point | None


@dataclass(frozen=True)
class SiteWeek:
    site_id: str
    site_name: str
    street: str
    week_start: dt.date
    reaching: tuple[int, ...]  # per program, in `visited_programs` order
    worker_days_needed: float
    worker_days_capacity: float


def visited_programs(catalog: Mapping[str, Program]) -> list[Program]:
    """The catalog's programs that end in a home visit, youngest age first."""
    return sorted(
        (p for p in catalog.values() if p.delivery in VISITED), key=lambda p: (p.age, p.id)
    )


def weeks(day: dt.date, days: int) -> list[Week]:
    """7-day blocks covering [day, day + days)."""
    return [
        Week(day + dt.timedelta(days=offset), min(7, days - offset)) for offset in range(0, days, 7)
    ]


def events(
    residents: Iterable[Resident],
    where: Mapping[str, Home],
    programs: Sequence[Program],
    day: dt.date,
    days: int,
    district: str,
) -> list[Event]:
    """Each program's visit for each resident it would find eligible on the day they reach its
    age, within [day, day + days)."""
    last = day + dt.timedelta(days=days - 1)
    found = []
    for resident in residents:
        home = where.get(resident.id_number)
        for program in programs:
            reached = anniversary(resident.birth_date, program.age, program.leap_day)
            if not day <= reached <= last:
                continue
            if not assess(resident, program, reached, district, has_case=False).eligible:
                continue
            code, point = (home.division_code, home.point) if home else ("", None)
            found.append(Event(program.id, reached, program.visitor, code, point))
    return found


def site_of(event: Event, circle: Circle, staff: Board) -> str:
    """The site dispatch would send: the circle's choice (placement.Circle.choose), or the site
    whose staff go for it (placement.Board.team)."""
    choice = circle.choose(event.point, event.division_code)
    if choice is None:
        return UNASSIGNED
    team = staff.team(choice.site_id, event.visitor)
    return team[0] if team is not None else choice.site_id


def tally(
    found: Iterable[tuple[str, Event]], day: dt.date, days: int
) -> Counter[tuple[str, int, str]]:
    """(site id, week index, program) -> visits, from (site id, event) pairs; events outside
    the window are not counted."""
    counts: Counter[tuple[str, int, str]] = Counter()
    for site_id, event in found:
        offset = (event.day - day).days
        if 0 <= offset < days:
            counts[site_id, offset // 7, event.program] += 1
    return counts


def site_weeks(
    counts: Counter[tuple[str, int, str]],
    sites: Sequence[SiteInfo],
    workers: dict[str, int],
    calendar: Sequence[Week],
    per_worker_day: int,
    programs: Sequence[str],
) -> list[SiteWeek]:
    """One row per week for every community site and every other site with visits (a street
    office standing in), then for the unassigned, if any."""
    busy = {site_id for site_id, _, _ in counts}
    rows: list[tuple[str, str, str]] = [
        (s.site_id, s.name, street_name(s.division_code))
        for s in sites
        if s.kind == "community" or s.site_id in busy
    ]
    if UNASSIGNED in busy:
        rows.append((UNASSIGNED, UNASSIGNED_NAME, ""))
    result = []
    for site_id, name, street in rows:
        for index, week in enumerate(calendar):
            reaching = tuple(counts[site_id, index, program] for program in programs)
            capacity = workers.get(site_id, 0) * WORKING_DAYS_PER_WEEK * week.days / 7
            needed = sum(reaching) / per_worker_day
            result.append(SiteWeek(site_id, name, street, week.start, reaching, needed, capacity))
    return result


def street_name(division_code: str) -> str:
    names = {s.code: s.name for s in STREETS}
    return names.get(division_code[:9], division_code[:9])


# -- reading the registry ---------------------------------------------------------------------
def load_events(
    conn: Connection, programs: Sequence[Program], day: dt.date, days: int, district: str
) -> list[Event]:
    """The events of the window, from persons and permit holders whose birth date falls in the
    range of a program's age (a range query on the birth_date index)."""
    last = day + dt.timedelta(days=days - 1)
    ids: set[str] = set()
    for program in programs:
        births = births_reaching(program.age, day, last)
        for table in (Person, ResidencePermit):
            query = select(table.id_number).where(_born_in(table.birth_date, births))
            ids.update(conn.execute(query).scalars())
    residents = load_residents(conn, ids)
    return events(residents.values(), homes(conn, sorted(ids)), programs, day, days, district)


def load_workers(conn: Connection) -> dict[str, int]:
    """Active social workers (not supervisors) per site."""
    rows = conn.execute(
        select(SocialWorker.site_id, func.count())
        .where(SocialWorker.active.is_(True), SocialWorker.role == "worker")
        .group_by(SocialWorker.site_id)
    ).all()
    return {site_id: int(count) for site_id, count in rows}


def _born_in(column: InstrumentedAttribute[dt.date], births: BirthRange) -> ColumnElement[bool]:
    return or_(column.between(births.low, births.high), column.in_(births.leap_days))


# -- the table and the charts -----------------------------------------------------------------
@dataclass(frozen=True)
class ForecastResult:
    csv: Path
    charts: dict[str, Path]  # street name -> PNG
    visits: dict[str, int]  # program id -> people reaching its age in the window
    unassigned: int  # visits no site could be found for


def write_forecast(
    engine: Engine,
    out: Path,
    day: dt.date,
    days: int,
    dispatcher: Dispatcher,
    catalog: Mapping[str, Program],
    district: str,
    per_worker_day: int = 8,
) -> ForecastResult:
    """Write forecast-<day>.csv (per site and week) and one chart per street,
    forecast-<day>-<street code>.png, into `out`. `day` is a calendar date in Asia/Shanghai;
    the window is [day, day + days)."""
    outlook = look_ahead(engine, day, days, dispatcher, catalog, district, per_worker_day)
    programs = outlook.programs
    out.mkdir(parents=True, exist_ok=True)
    table = write_table(outlook.rows, programs, out / f"forecast-{day:%Y-%m-%d}.csv")
    charts = {
        street: draw_street(
            street, street_rows, programs, day, days, out / f"forecast-{day:%Y-%m-%d}-{code}.png"
        )
        for code, street, street_rows in by_street(outlook.rows, outlook.sites)
    }
    return ForecastResult(table, charts, outlook.visits, outlook.unassigned)


@dataclass(frozen=True)
class Outlook:
    """The forecast's figures, for the CSV and the charts or for a page."""

    programs: list[Program]  # the visited ones, in the rows' `reaching` order
    rows: list[SiteWeek]
    sites: list[SiteInfo]
    visits: dict[str, int]  # program id -> people reaching its age in the window
    unassigned: int  # visits no site could be found for


def look_ahead(
    engine: Engine,
    day: dt.date,
    days: int,
    dispatcher: Dispatcher,
    catalog: Mapping[str, Program],
    district: str,
    per_worker_day: int = 8,
) -> Outlook:
    """The visits to come per site and week in [day, day + days)."""
    if days < 1:
        raise ValueError(f"a forecast needs at least one day, not {days}")
    programs = visited_programs(catalog)
    with engine.connect() as conn:
        found = load_events(conn, programs, day, days, district)
        workers = load_workers(conn)
        with Session(conn) as session:
            sites, staff = load_sites(session), load_staff(session)
    circle = Circle(sites, dispatcher.walking)
    board = Board(circle, staff, dispatcher.calendar, day, horizon_days=0)
    counts = tally(((site_of(e, circle, board), e) for e in found), day, days)
    ids = [p.id for p in programs]
    rows = site_weeks(counts, sites, workers, weeks(day, days), per_worker_day, ids)
    unassigned = sum(n for (site, _, _), n in counts.items() if site == UNASSIGNED)
    visits = {p.id: sum(n for (_, _, id), n in counts.items() if id == p.id) for p in programs}
    return Outlook(programs, rows, list(sites), visits, unassigned)


def summary(result: ForecastResult) -> str:
    """ "123 home visits to come (senior_certificate 100, ...)"."""
    each = ", ".join(f"{program} {n}" for program, n in result.visits.items())
    return f"{sum(result.visits.values())} home visits to come ({each})"


def by_street(
    rows: Sequence[SiteWeek], sites: Sequence[SiteInfo]
) -> list[tuple[str, str, list[SiteWeek]]]:
    """(street code, street name, rows) for every street with a site in the table."""
    shown = {r.site_id for r in rows}
    codes = {street_name(s.division_code): s.division_code[:9] for s in sites if s.site_id in shown}
    return [
        (code, name, [r for r in rows if r.street == name])
        for name, code in sorted(codes.items(), key=lambda item: item[1])
    ]


def columns(programs: Sequence[Program]) -> tuple[str, ...]:
    """The CSV header: one column per visited program, named by its id."""
    return (*FIXED_COLUMNS, *(p.id for p in programs), *WORK_COLUMNS)


def write_table(rows: Sequence[SiteWeek], programs: Sequence[Program], path: Path) -> Path:
    """UTF-8 with a byte-order mark, so Excel reads the Chinese names."""
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        write_csv(
            handle,
            columns(programs),
            (
                (
                    r.site_id,
                    r.site_name,
                    r.street,
                    f"{r.week_start:%Y-%m-%d}",
                    *r.reaching,
                    f"{r.worker_days_needed:.2f}",
                    f"{r.worker_days_capacity:.2f}",
                )
                for r in rows
            ),
        )
    return path


def street_totals(
    rows: Sequence[SiteWeek], programs: int
) -> tuple[list[dt.date], Floats, Floats, Floats]:
    """Week starts, visits per (week, program), worker-days needed and capacity, summed over
    the street's sites."""
    starts = sorted({r.week_start for r in rows})
    index = {start: i for i, start in enumerate(starts)}
    reaching = np.zeros((len(starts), programs))
    needed, capacity = np.zeros(len(starts)), np.zeros(len(starts))
    for r in rows:
        reaching[index[r.week_start]] += r.reaching
        needed[index[r.week_start]] += r.worker_days_needed
        capacity[index[r.week_start]] += r.worker_days_capacity
    return starts, reaching, needed, capacity


def draw_street(
    street: str,
    rows: Sequence[SiteWeek],
    programs: Sequence[Program],
    day: dt.date,
    days: int,
    path: Path,
) -> Path:
    starts, reaching, needed, capacity = street_totals(rows, len(programs))
    x = np.arange(len(starts), dtype=float)
    with chinese_figure(12, 8) as figure:
        top, bottom = figure.subplots(2, 1, sharex=True)
        _draw_people(top, x, reaching, programs)
        _draw_work(bottom, x, needed, capacity)
        ticks = week_ticks(starts)
        bottom.set_xticks(
            [float(i) for i in ticks], [tick_label(starts[i], i == ticks[0]) for i in ticks]
        )
        bottom.set_xlim(-0.6, len(starts) - 0.4)
        figure.suptitle(
            f"{street}：未来{days}天每周到龄人数与社工人日（{day:%Y年%m月%d日}起，"
            f"共 {int(reaching.sum())} 人）"
        )
        return save_png(figure, path)


def week_ticks(starts: Sequence[dt.date]) -> list[int]:
    """Every week when there are few; else the first week and the first week starting in each
    month, leaving out the first week when the next tick is within two weeks of it."""
    if len(starts) <= 13:
        return list(range(len(starts)))
    months = [i for i in range(1, len(starts)) if starts[i].month != starts[i - 1].month]
    return months if months and months[0] <= 2 else [0, *months]


def tick_label(start: dt.date, first: bool) -> str:
    return (
        f"{start:%Y-%m-%d}" if first or (start.month == 1 and start.day <= 7) else f"{start:%m-%d}"
    )


def _draw_people(ax: Axes, x: Floats, reaching: Floats, programs: Sequence[Program]) -> None:
    bottom = np.zeros(len(x))
    for column, program in enumerate(programs):
        ax.bar(
            x,
            reaching[:, column],
            width=0.8,
            bottom=bottom,
            color=COLOURS[column % len(COLOURS)],
            label=f"{program.name_zh}（满{program.age}周岁）",
        )
        bottom += reaching[:, column]
    ax.set_ylim(0, max(1.0, float(np.max(reaching.sum(axis=1), initial=0))) * 1.25)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel("人数")
    ax.set_title("每周到龄人数", fontsize=11)
    ax.legend(loc="upper right", fontsize=9)
    ax.grid(True, axis="y", linewidth=0.3, alpha=0.6)


def _draw_work(ax: Axes, x: Floats, needed: Floats, capacity: Floats) -> None:
    over = needed > capacity
    ax.bar(x, np.where(over, 0, needed), width=0.8, color="#9ecae1", label="需要的社工人日")
    if over.any():
        ax.bar(
            x,
            np.where(over, needed, 0),
            width=0.8,
            color="#d62728",
            label="需要的社工人日（超出现有能力）",
        )
    if len(x):
        ax.step(
            np.append(x - 0.5, x[-1] + 0.5),
            np.append(capacity, capacity[-1]),
            where="post",
            color="#1b7f3b",
            linewidth=2,
            label="现有能力（在岗社工×每周5个工作日）",
        )
    ax.set_ylim(
        0, max(1.0, float(np.max(needed, initial=0)), float(np.max(capacity, initial=0))) * 1.3
    )
    ax.set_ylabel("社工人日")
    ax.set_xlabel("周（起始日，月-日）")
    ax.set_title("需要的社工人日与现有能力", fontsize=11)
    ax.legend(loc="upper right", fontsize=9)
    ax.grid(True, axis="y", linewidth=0.3, alpha=0.6)
