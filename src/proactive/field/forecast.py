"""How many people each site will have reach 60, 80 and 100 per week, from birth dates alone,
and the social-worker days that takes against the days the site's workers have.

Who is counted: persons of active hukou, and holders of a residence permit valid on the first
day (later deaths, moves and permit changes are not foreseen). A person reaches an age on the
anniversary of their birth; someone born on 29 February reaches it on 28 February of a common
year (ages.anniversary, `feb28`).

Where: each person goes to the nearest community site by walking time from their home (the
household's coordinates, or the permit's); without coordinates, to the community site of their
division code; failing both, to no site ("未分配站点").

Weeks are 7-day blocks from the first day; the last may be shorter. Work: one visit per person
reaching an age, `per_worker_day` visits make one worker-day. Capacity: every active social
worker of role `worker` at the site (supervisors excluded) gives 5 working days a week, pro rata
for a short last week; leave, holidays and other duties are not taken off.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.ticker import MaxNLocator
from sqlalchemy import ColumnElement, Connection, Engine, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute

from proactive.field.coverage import (
    Floats,
    SitePoint,
    community_sites,
    coordinates,
    load_site_points,
    nearest,
)
from proactive.field.plots import chinese_figure, save_png
from proactive.geo import Point, Walking
from proactive.models import Household, Person, ResidencePermit, SocialWorker
from proactive.output import write_csv
from proactive.programs.ages import BirthRange, anniversary, births_reaching
from proactive.registry.binjiang import STREETS

AGES = (60, 80, 100)
WORKING_DAYS_PER_WEEK = 5
UNASSIGNED = ""  # site id of people no site could be found for
UNASSIGNED_NAME = "未分配站点"
CSV_COLUMNS = (
    "site_id",
    "site_name",
    "street",
    "week_start",
    "reach_60",
    "reach_80",
    "reach_100",
    "worker_days_needed",
    "worker_days_capacity",
)
AGE_COLOURS = {60: "#6baed6", 80: "#fd8d3c", 100: "#d62728"}


# -- pure core --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Week:
    start: dt.date
    days: int  # 7, or fewer for the last week


@dataclass(frozen=True)
class Birth:
    """Someone who may reach an age in the window, and where they live."""

    birth_date: dt.date
    division_code: str
    point: Point | None


@dataclass(frozen=True)
class SiteWeek:
    site_id: str
    site_name: str
    street: str
    week_start: dt.date
    reaching: tuple[int, ...]  # per age in AGES order
    worker_days_needed: float
    worker_days_capacity: float


def weeks(day: dt.date, days: int) -> list[Week]:
    """7-day blocks covering [day, day + days)."""
    return [
        Week(day + dt.timedelta(days=offset), min(7, days - offset)) for offset in range(0, days, 7)
    ]


def week_reached(birth: dt.date, age: int, day: dt.date, days: int) -> int | None:
    """The index of the week in which someone born on `birth` reaches `age`, if in the window."""
    offset = (anniversary(birth, age, "feb28") - day).days
    return offset // 7 if 0 <= offset < days else None


def assign(people: Sequence[Birth], sites: Sequence[SitePoint], walking: Walking) -> list[str]:
    """The site id of each person: the nearest community site, else their community's site."""
    community = community_sites(sites)
    by_code: dict[str, str] = {}
    for site in community:
        by_code.setdefault(site.division_code, site.site_id)
    chosen = [by_code.get(p.division_code, UNASSIGNED) for p in people]
    located = [i for i, p in enumerate(people) if p.point is not None]
    lat, lon = coordinates([p.point for p in people if p.point is not None])
    site_lat, site_lon = coordinates([s.point for s in community])
    _, index = nearest(lat, lon, site_lat, site_lon, walking)
    for person, site in zip(located, index.tolist(), strict=True):
        if site >= 0:
            chosen[person] = community[site].site_id
    return chosen


def tally(
    people: Iterable[tuple[str, int, dt.date]], day: dt.date, days: int, ages: Sequence[int]
) -> Counter[tuple[str, int, int]]:
    """(site id, week index, age) -> people, from (site id, age, birth date) triples; people
    who do not reach that age in the window are not counted."""
    counts: Counter[tuple[str, int, int]] = Counter()
    for site_id, age, birth in people:
        week = week_reached(birth, age, day, days)
        if week is not None:
            counts[site_id, week, age] += 1
    return counts


def site_weeks(
    counts: Counter[tuple[str, int, int]],
    sites: Sequence[SitePoint],
    workers: dict[str, int],
    calendar: Sequence[Week],
    per_worker_day: int,
    ages: Sequence[int] = AGES,
) -> list[SiteWeek]:
    """One row per community site and week (and per week for the unassigned, if any)."""
    rows: list[tuple[str, str, str]] = [
        (s.site_id, s.name, street_name(s.division_code)) for s in community_sites(sites)
    ]
    if any(site_id == UNASSIGNED for site_id, _, _ in counts):
        rows.append((UNASSIGNED, UNASSIGNED_NAME, ""))
    result = []
    for site_id, name, street in rows:
        for index, week in enumerate(calendar):
            reaching = tuple(counts[site_id, index, age] for age in ages)
            capacity = workers.get(site_id, 0) * WORKING_DAYS_PER_WEEK * week.days / 7
            needed = sum(reaching) / per_worker_day
            result.append(SiteWeek(site_id, name, street, week.start, reaching, needed, capacity))
    return result


def street_name(division_code: str) -> str:
    names = {s.code: s.name for s in STREETS}
    return names.get(division_code[:9], division_code[:9])


# -- reading the registry ---------------------------------------------------------------------
def load_births(conn: Connection, age: int, day: dt.date, last: dt.date) -> list[Birth]:
    """Active-hukou persons and valid permit holders whose birth date falls in the range of
    people reaching `age` between `day` and `last`: a range query on the birth_date index."""
    births = births_reaching(age, day, last)

    persons = conn.execute(
        select(Person.birth_date, Household.division_code, Household.lat, Household.lon)
        .outerjoin(Household, Household.household_id == Person.household_id)
        .where(Person.hukou_status == "active")
        .where(_born_in(Person.birth_date, births))
    ).all()
    permits = conn.execute(
        select(
            ResidencePermit.birth_date,
            ResidencePermit.division_code,
            ResidencePermit.lat,
            ResidencePermit.lon,
        )
        .where(ResidencePermit.valid_from <= day, ResidencePermit.valid_to >= day)
        .where(_born_in(ResidencePermit.birth_date, births))
    ).all()
    return [
        Birth(r.birth_date, r.division_code or "", _point(r.lat, r.lon))
        for r in [*persons, *permits]
    ]


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


def _point(lat: float | None, lon: float | None) -> Point | None:
    return None if lat is None or lon is None else Point(lat, lon)


# -- the table and the charts -----------------------------------------------------------------
@dataclass(frozen=True)
class ForecastResult:
    csv: Path
    charts: dict[str, Path]  # street name -> PNG
    people: int  # reaching an age in the window
    unassigned: int  # of whom no site could be found for


def write_forecast(
    engine: Engine,
    out: Path,
    day: dt.date,
    days: int,
    walking: Walking,
    per_worker_day: int = 8,
) -> ForecastResult:
    """Write forecast-<day>.csv (per community site and week) and one chart per street,
    forecast-<day>-<street code>.png, into `out`. `day` is a calendar date in Asia/Shanghai;
    the window is [day, day + days)."""
    if days < 1:
        raise ValueError(f"a forecast needs at least one day, not {days}")
    last = day + dt.timedelta(days=days - 1)
    with engine.connect() as conn:
        sites, workers = load_site_points(conn), load_workers(conn)
        people = [(age, b) for age in AGES for b in load_births(conn, age, day, last)]
    site_ids = assign([b for _, b in people], sites, walking)
    counts = tally(
        ((site, age, b.birth_date) for site, (age, b) in zip(site_ids, people, strict=True)),
        day,
        days,
        AGES,
    )
    rows = site_weeks(counts, sites, workers, weeks(day, days), per_worker_day)
    out.mkdir(parents=True, exist_ok=True)
    table = write_table(rows, out / f"forecast-{day:%Y-%m-%d}.csv")
    charts = {
        street: draw_street(
            street, street_rows, day, days, out / f"forecast-{day:%Y-%m-%d}-{code}.png"
        )
        for code, street, street_rows in by_street(rows, sites)
    }
    unassigned = sum(n for (site, _, _), n in counts.items() if site == UNASSIGNED)
    return ForecastResult(table, charts, sum(counts.values()), unassigned)


def by_street(
    rows: Sequence[SiteWeek], sites: Sequence[SitePoint]
) -> list[tuple[str, str, list[SiteWeek]]]:
    """(street code, street name, rows) for every street with a community site."""
    codes = {street_name(s.division_code): s.division_code[:9] for s in community_sites(sites)}
    return [
        (code, name, [r for r in rows if r.street == name])
        for name, code in sorted(codes.items(), key=lambda item: item[1])
    ]


def write_table(rows: Sequence[SiteWeek], path: Path) -> Path:
    """UTF-8 with a byte-order mark, so Excel reads the Chinese names."""
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        write_csv(
            handle,
            CSV_COLUMNS,
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
    rows: Sequence[SiteWeek],
) -> tuple[list[dt.date], Floats, Floats, Floats]:
    """Week starts, people per (week, age), worker-days needed and capacity, summed over the
    street's sites."""
    starts = sorted({r.week_start for r in rows})
    index = {start: i for i, start in enumerate(starts)}
    reaching = np.zeros((len(starts), len(AGES)))
    needed, capacity = np.zeros(len(starts)), np.zeros(len(starts))
    for r in rows:
        reaching[index[r.week_start]] += r.reaching
        needed[index[r.week_start]] += r.worker_days_needed
        capacity[index[r.week_start]] += r.worker_days_capacity
    return starts, reaching, needed, capacity


def draw_street(street: str, rows: Sequence[SiteWeek], day: dt.date, days: int, path: Path) -> Path:
    starts, reaching, needed, capacity = street_totals(rows)
    x = np.arange(len(starts), dtype=float)
    with chinese_figure(12, 8) as figure:
        top, bottom = figure.subplots(2, 1, sharex=True)
        _draw_people(top, x, reaching)
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


def _draw_people(ax: Axes, x: Floats, reaching: Floats) -> None:
    bottom = np.zeros(len(x))
    for column, age in enumerate(AGES):
        ax.bar(
            x,
            reaching[:, column],
            width=0.8,
            bottom=bottom,
            color=AGE_COLOURS[age],
            label=f"满{age}周岁",
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
