"""The nightly schedule, read from jobs/schedule.toml and run by APScheduler 3.

APScheduler only fires the run: exactly-once, catch-up and the lock live in the database
(nightly.py), because APScheduler 3 skips a firing that starts later than its misfire grace and
runs a job once per process when several processes start it.
"""

from __future__ import annotations

import logging
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger

log = logging.getLogger(__name__)
TIMEZONE = "Asia/Shanghai"


@dataclass(frozen=True)
class NightlySchedule:
    hour: int = 2
    minute: int = 0
    misfire_grace_seconds: int = 3600


def load_schedule(path: Path) -> NightlySchedule:
    data = tomllib.loads(path.read_text(encoding="utf-8")).get("nightly", {})
    return NightlySchedule(**data)


def build_scheduler(schedule: NightlySchedule, job: Callable[[], None]) -> BlockingScheduler:
    scheduler = BlockingScheduler(timezone=TIMEZONE)

    def fire() -> None:
        log.info("schedule.fire")
        job()

    scheduler.add_job(
        fire,
        CronTrigger(hour=schedule.hour, minute=schedule.minute, timezone=TIMEZONE),
        id="nightly",
        misfire_grace_time=schedule.misfire_grace_seconds,
        coalesce=True,
        max_instances=1,
    )
    return scheduler
