"""A worker's day as plain values: the stops in route order (`TaskLine`) and the sheet that
holds them (`TaskSheet`). Apart from `sheets`, which renders them to HTML and PDF, so the
listings (table, CSV, JSON) and the field app load no PDF library."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class TaskLine:
    """One stop of a worker's route: whom to visit, when, and what to do there."""

    task_id: int
    stop: int  # 1-based position on the route
    window: str  # e.g. "09:00–10:00"
    resident: str  # name (may contain 𠮷)
    id_number: str  # already masked (330108********1234) unless the user asked --unmasked
    address: str
    phone: str  # masked or full, or "" when the resident has no reachable phone
    program: str  # program id, e.g. "senior_certificate"
    task: str  # what to do, in Chinese: "送老年人优待证" / "高龄津贴上门核实" / "百岁老人走访"
    deliver: str  # the certificate number to hand over, or "" for a visit
    status: str  # planned | done | failed | withdrawn
    outside_circle: bool
    travel_minutes: float  # from the site to the home
    attempt: int  # 1..3


@dataclass(frozen=True)
class TaskSheet:
    """A worker's day: the site they start from and the stops in route order."""

    day: dt.date
    worker_id: str
    worker_name: str
    site_id: str
    site_name: str
    lines: tuple[TaskLine, ...]
    route_metres: float  # the walk, site -> stops -> site
    route_minutes: float
