"""Proactive programs, declared one TOML file each in jobs/: what triggers them, who is
eligible, what is verified, what is delivered. Loading and describing them is pure."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args

from proactive.errors import ProactiveError
from proactive.programs.ages import LeapDay

Residency = Literal["hukou", "permit"]
DeliveryKind = Literal["certificate", "visit", "notice"]
Visitor = Literal["worker", "supervisor"]


DEFAULT_NUMBER_FORMAT = "{district}-{year}-{code}-{serial:06d}"


class ProgramError(ProactiveError):
    """A program file in jobs/ is not valid"""


@dataclass(frozen=True)
class Program:
    id: str
    name_zh: str
    name_en: str
    code: str
    age: int
    leap_day: LeapDay
    residency: tuple[Residency, ...]
    checks: tuple[str, ...]
    blocking: frozenset[str]
    delivery: DeliveryKind
    visitor: Visitor
    sla_days: int
    certificate_template: str | None
    sms_templates: tuple[str, ...]
    number_format: str = DEFAULT_NUMBER_FORMAT
    issuing_office: str = ""

    def certificate_no(self, district: str, year: int, serial: int) -> str:
        return self.number_format.format(
            district=district, year=year, code=self.code, program=self.id, serial=serial
        )

    def describe(self) -> tuple[str, str]:
        """The rule in plain Chinese and English, for policy staff."""
        from proactive.programs.checks import CHECKS

        residency_zh = "或".join(
            {"hukou": "本区户籍在册", "permit": "持本区有效居住证"}[r] for r in self.residency
        )
        residency_en = " or ".join(
            {
                "hukou": "an active household registration (hukou) in the district",
                "permit": "a residence permit valid that day for an address in the district",
            }[r]
            for r in self.residency
        )
        leap_zh = "2月28日" if self.leap_day == "feb28" else "3月1日"
        leap_en = "28 February" if self.leap_day == "feb28" else "1 March"
        deliver_zh = {
            "certificate": "制证并由社工送证上门",
            "visit": "安排上门走访",
            "notice": "发送告知",
        }[self.delivery]
        deliver_en = {
            "certificate": "issues the certificate and a social worker brings it home",
            "visit": "arranges a home visit",
            "notice": "sends a notice",
        }[self.delivery]
        who_zh = "站点负责人" if self.visitor == "supervisor" else "社工"
        who_en = "the site supervisor" if self.visitor == "supervisor" else "a social worker"
        checks_zh = "、".join(CHECKS[c].zh for c in self.checks)
        checks_en = ", ".join(CHECKS[c].en for c in self.checks)
        zh = (
            f"【{self.name_zh}】居民年满{self.age}周岁当日（2月29日出生者在平年为{leap_zh}），"
            f"如仍在世、{residency_zh}，且此前未办理过本项（含窗口已发证），系统自动发现，"
            f"核验{checks_zh}后{deliver_zh}（{who_zh}负责），时限{self.sla_days}天。"
            f"核验不通过的转人工审核。"
        )
        en = (
            f"[{self.name_en}] On the day a resident turns {self.age} (people born on "
            f"29 February: {leap_en} in common years), if they are alive, have {residency_en}, "
            f"and have no earlier case or certificate for this program (window certificates "
            f"included), the system finds them itself, verifies {checks_en}, then {deliver_en} "
            f"({who_en}), within {self.sla_days} days. A failed check sends the case to a person "
            f"for review."
        )
        return zh, en


def load_program(path: Path) -> Program:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        return _program(data)
    except (tomllib.TOMLDecodeError, KeyError, TypeError, ValueError) as error:
        raise ProgramError(f"{path.name}: {error}") from error


NOT_PROGRAMS = {"schedule.toml", "holidays.toml"}  # the other files of jobs/


def load_catalog(directory: Path) -> dict[str, Program]:
    programs = [
        load_program(p) for p in sorted(directory.glob("*.toml")) if p.name not in NOT_PROGRAMS
    ]
    return {p.id: p for p in programs}


def _choice(value: Any, allowed: Any, what: str) -> Any:
    if value not in get_args(allowed):
        raise ValueError(f"{what} must be one of {get_args(allowed)}, not {value!r}")
    return value


def _program(data: dict[str, Any]) -> Program:
    from proactive.programs.checks import CHECKS

    checks = tuple(data["verification"]["checks"])
    blocking = frozenset(data["verification"].get("blocking", checks))
    unknown = (set(checks) | blocking) - set(CHECKS)
    if unknown:
        raise ValueError(f"unknown verification checks: {', '.join(sorted(unknown))}")
    if not blocking <= set(checks):
        raise ValueError("blocking checks must be listed in checks")
    age = int(data["trigger"]["age"])
    if not 0 < age < 130:
        raise ValueError(f"trigger age {age} is out of range")
    templates = data.get("templates", {})
    delivery = _choice(data["delivery"]["kind"], DeliveryKind, "delivery.kind")
    certificate = data.get("certificate", {})
    if delivery == "certificate" and not (
        certificate.get("issuing_office") and templates.get("certificate")
    ):
        raise ValueError("a certificate program needs [certificate] issuing_office and a template")
    number_format = str(certificate.get("number_format", DEFAULT_NUMBER_FORMAT))
    _check_number_format(number_format)
    return Program(
        id=str(data["id"]),
        name_zh=str(data["name_zh"]),
        name_en=str(data["name_en"]),
        code=str(data["code"]),
        age=age,
        leap_day=_choice(data["trigger"].get("leap_day", "feb28"), LeapDay, "leap_day"),
        residency=tuple(
            _choice(r, Residency, "residency") for r in data["eligibility"]["residency"]
        ),
        checks=checks,
        blocking=blocking,
        delivery=delivery,
        visitor=_choice(data["delivery"].get("visitor", "worker"), Visitor, "delivery.visitor"),
        sla_days=int(data["service_level"]["days"]),
        certificate_template=templates.get("certificate"),
        sms_templates=tuple(templates.get("sms", ())),
        number_format=number_format,
        issuing_office=str(certificate.get("issuing_office", "")),
    )


def _check_number_format(number_format: str) -> None:
    """Numbers must differ by year and serial, or the per-year sequence could repeat one."""
    if "{serial" not in number_format or "{year" not in number_format:
        raise ValueError("certificate.number_format needs {year} and {serial}")
    try:
        number_format.format(district="330108", year=2026, code="LN", program="p", serial=1)
    except (KeyError, IndexError, ValueError) as error:
        raise ValueError(f"certificate.number_format {number_format!r}: {error}") from error
