"""Who is eligible for a program on a day, condition by condition. Pure."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from proactive.programs.ages import anniversary
from proactive.programs.catalog import Program
from proactive.programs.checks import has_residency, is_alive
from proactive.registry.resident import Resident


@dataclass(frozen=True)
class Condition:
    name: str
    passed: bool
    zh: str
    en: str


@dataclass(frozen=True)
class Assessment:
    program: str
    day: dt.date
    reaches_age_on: dt.date
    conditions: tuple[Condition, ...]

    @property
    def eligible(self) -> bool:
        return all(c.passed for c in self.conditions)


def assess(
    resident: Resident, program: Program, day: dt.date, district: str, has_case: bool
) -> Assessment:
    reaches = anniversary(resident.birth_date, program.age, program.leap_day)
    alive = is_alive(resident)
    resident_here = has_residency(resident, day, district, program.residency)
    window = program.id in resident.window_programs
    conditions = (
        Condition(
            "alive",
            alive,
            "在世" if alive else "已登记死亡",
            "alive" if alive else "recorded as deceased",
        ),
        Condition(
            "residency",
            resident_here,
            "本区户籍在册或居住证有效" if resident_here else "无本区有效户籍或居住证",
            "lives in the district (hukou or valid permit)"
            if resident_here
            else "no active hukou or valid permit in the district",
        ),
        Condition(
            "age",
            reaches <= day,
            f"{reaches:%Y-%m-%d}年满{program.age}周岁",
            f"reaches {program.age} on {reaches:%Y-%m-%d}",
        ),
        Condition(
            "not_yet_served",
            not (has_case or window),
            "已在窗口领证" if window else "已有本项个案" if has_case else "尚未办理",
            "certificate already issued at a window"
            if window
            else "already has a case"
            if has_case
            else "not served yet",
        ),
    )
    return Assessment(program.id, day, reaches, conditions)
