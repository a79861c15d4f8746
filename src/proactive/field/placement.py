"""Dispatch across the 15-minute circle, as pure functions over plain values: which site serves
a home, which worker visits on which working day, and when each stop of a day's walk falls.

Site: the community-kind site with the shortest walk from the home, if within the circle;
else the site of the home's community (by division code), marked outside the circle; a home
without coordinates goes by division code too, flagged. Staff: the site's active workers share
the visits by load; a site without one falls back to its supervisor, then to the street office.
Day: the first working day from the earliest allowed on which the site and a worker both have
room. Jobs are placed oldest resident first, so a backlog is spread over the coming working
days in that order and ends on a date known in advance.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from proactive.field.workdays import Calendar
from proactive.geo import Point, Walking

DAY_STARTS = 9 * 60  # 09:00, in minutes after midnight
LUNCH = (12 * 60, 13 * 60 + 30)
SERVICE_MINUTES = 15  # at each home


@dataclass(frozen=True)
class SiteInfo:
    site_id: str
    name: str
    kind: str  # street | community | platform
    division_code: str
    point: Point
    daily_capacity: int


@dataclass(frozen=True)
class WorkerInfo:
    worker_id: str
    site_id: str
    role: str  # worker | supervisor
    daily_capacity: int


@dataclass(frozen=True)
class Job:
    """A visit to plan."""

    case_id: int
    attempt: int
    birth_date: dt.date
    home: Point | None
    division_code: str
    earliest: dt.date
    visitor: str = "worker"  # worker | supervisor
    keep_site: str | None = None  # a retry stays with its site
    person: str = ""  # several programs for one person: visited together when there is room


@dataclass(frozen=True)
class SiteChoice:
    site_id: str
    minutes: float  # walk from the site to the home (0 when the home has no coordinates)
    outside_circle: bool
    located: bool
    assigned_by: str  # circle | community | street


@dataclass(frozen=True)
class Placement:
    job: Job
    choice: SiteChoice
    site_id: str  # whose staff goes: the chosen site, or its street office
    worker_id: str
    day: dt.date
    staffed_by: str  # worker | supervisor | street_office


class Circle:
    """The district's sites, indexed for choosing one per home."""

    def __init__(self, sites: Iterable[SiteInfo], walking: Walking) -> None:
        self.walking = walking
        self.sites = {s.site_id: s for s in sites}
        self.communities = [s for s in self.sites.values() if s.kind == "community"]
        self.by_division = {s.division_code: s for s in self.communities}
        self.street_offices = {
            s.division_code[:9]: s for s in self.sites.values() if s.kind == "street"
        }

    def choose(self, home: Point | None, division_code: str) -> SiteChoice | None:
        if home is not None and self.communities:
            nearest = min(self.communities, key=lambda s: self.walking.minutes(s.point, home))
            minutes = self.walking.minutes(nearest.point, home)
            if minutes <= self.walking.circle_minutes:
                return SiteChoice(nearest.site_id, minutes, False, True, "circle")
        own = self.by_division.get(division_code)
        how = "community"
        if own is None:
            own = self.street_offices.get(division_code[:9])
            how = "street"
        if own is None:
            return None
        if home is None:
            return SiteChoice(own.site_id, 0.0, False, False, how)
        return SiteChoice(own.site_id, self.walking.minutes(own.point, home), True, True, how)

    def street_office(self, site_id: str) -> SiteInfo | None:
        site = self.sites[site_id]
        office = self.street_offices.get(site.division_code[:9])
        return office if office is not None and office.site_id != site_id else None


class Board:
    """Room left per site and worker on each working day, and the staff who can go."""

    def __init__(
        self,
        circle: Circle,
        workers: Iterable[WorkerInfo],
        calendar: Calendar,
        first: dt.date,
        horizon_days: int = 730,
    ) -> None:
        self.circle = circle
        self.staff: dict[tuple[str, str], list[WorkerInfo]] = defaultdict(list)
        for w in sorted(workers, key=lambda w: w.worker_id):
            self.staff[(w.site_id, w.role)].append(w)
        self.days = [
            first + dt.timedelta(days=n)
            for n in range(horizon_days)
            if calendar.is_workday(first + dt.timedelta(days=n))
        ]
        self.used_site: Counter[tuple[str, dt.date]] = Counter()
        self.used_worker: Counter[tuple[str, dt.date]] = Counter()
        self.cursor: dict[tuple[str, str], int] = {}  # per staff group: first day maybe free

    def book(self, site_id: str, worker_id: str, day: dt.date, count: int = 1) -> None:
        """Count visits already planned (from earlier runs) or just placed."""
        self.used_site[(site_id, day)] += count
        self.used_worker[(worker_id, day)] += count

    def team(self, site_id: str, visitor: str) -> tuple[str, str, list[WorkerInfo]] | None:
        """Who goes for a site: its workers (or supervisor for supervisor visits), else its
        supervisor, else the street office's people."""
        roles = ("supervisor",) if visitor == "supervisor" else ("worker", "supervisor")
        for role in roles:
            if self.staff.get((site_id, role)):
                return site_id, role, self.staff[(site_id, role)]
        office = self.circle.street_office(site_id)
        if office is not None:
            for role in (*roles, "worker"):
                if self.staff.get((office.site_id, role)):
                    return office.site_id, "street_office", self.staff[(office.site_id, role)]
        return None

    def serves(self, site_id: str, chosen: str) -> bool:
        """Whether staff of `site_id` are the ones who go to a home whose site is `chosen`
        (the site itself, or whoever stands in for its missing staff)."""
        if site_id == chosen:
            return True
        teams = (self.team(chosen, visitor) for visitor in ("worker", "supervisor"))
        return any(team is not None and team[0] == site_id for team in teams)

    def place(
        self, job: Job, choice: SiteChoice, along: Placement | None = None
    ) -> Placement | None:
        """The first day with room from the job's earliest; with `along` (the same person's
        other visit), that day and worker first, if they have room."""
        team = self.team(job.keep_site or choice.site_id, job.visitor)
        if team is None:
            return None
        site_id, staffed_by, people = team
        if along is not None and along.day >= job.earliest:
            same = [w for w in people if w.worker_id == along.worker_id] or people
            worker = self._free(site_id, same, along.day)
            if worker is not None:
                self.book(site_id, worker.worker_id, along.day)
                return Placement(job, choice, site_id, worker.worker_id, along.day, staffed_by)
        key = (site_id, staffed_by)
        index = max(self.cursor.get(key, 0), bisect.bisect_left(self.days, job.earliest))
        at_cursor = index == self.cursor.get(key, 0)
        while index < len(self.days):
            day = self.days[index]
            worker = self._free(site_id, people, day)
            if worker is not None:
                self.book(site_id, worker.worker_id, day)
                return Placement(job, choice, site_id, worker.worker_id, day, staffed_by)
            if at_cursor:
                self.cursor[key] = index + 1
            index += 1
        return None

    def _free(self, site_id: str, people: Sequence[WorkerInfo], day: dt.date) -> WorkerInfo | None:
        """The least-loaded of `people` with room on `day`, if the site has room too."""
        if self.used_site[(site_id, day)] >= self.circle.sites[site_id].daily_capacity:
            return None
        load = {w.worker_id: self.used_worker[(w.worker_id, day)] for w in people}
        free = [w for w in people if load[w.worker_id] < w.daily_capacity]
        return min(free, key=lambda w: load[w.worker_id]) if free else None


def plan(jobs: Iterable[Job], circle: Circle, board: Board) -> tuple[list[Placement], list[Job]]:
    """Place every job, oldest resident first; return the placements and what did not fit."""
    placed: list[Placement] = []
    left: list[Job] = []
    together: dict[str, Placement] = {}
    for job in sorted(jobs, key=lambda j: (j.birth_date, j.person, j.case_id)):
        choice = circle.choose(job.home, job.division_code)
        along = together.get(job.person) if job.person else None
        placement = board.place(job, choice, along) if choice is not None else None
        if placement is None:
            left.append(job)
        else:
            placed.append(placement)
            together.setdefault(job.person, placement)
    return placed, left


def windows(legs_minutes: Sequence[float]) -> list[str]:
    """The hour in which each stop of a walk is reached ("09:00–10:00"), from the minutes of
    each leg; a stop takes SERVICE_MINUTES and lunch is 12:00–13:30."""
    clock = float(DAY_STARTS)
    found: list[str] = []
    for minutes in legs_minutes:
        clock += minutes
        if LUNCH[0] <= clock < LUNCH[1]:
            clock = LUNCH[1]
        hour = int(clock // 60)
        found.append(f"{hour:02d}:00–{hour + 1:02d}:00")
        clock += SERVICE_MINUTES
    return found
