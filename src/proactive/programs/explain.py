"""Use case: why a person is or is not eligible, condition by condition, and their cases."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from proactive.masking import mask_id
from proactive.models import Case
from proactive.programs.case_queries import case_detail
from proactive.programs.catalog import Program
from proactive.programs.checks import verify
from proactive.programs.eligibility import assess
from proactive.registry.resident_reads import load_residents


def explain(
    engine: Engine,
    id_number: str,
    programs: Mapping[str, Program],
    day: dt.date,
    district: str,
    unmasked: bool = False,
) -> str:
    shown = id_number if unmasked else mask_id(id_number)
    with Session(engine) as session:
        resident = load_residents(session.connection(), [id_number]).get(id_number)
        cases = {
            c.program: c.id
            for c in session.scalars(select(Case).where(Case.id_number == id_number))
        }
    if resident is None:
        return f"{shown}: 登记中没有此人 / not in the registry"
    lines = [
        f"{shown} {resident.name[:1]}** 出生 {resident.birth_date:%Y-%m-%d}，"
        f"按 {day:%Y-%m-%d} 评估 / as of {day}"
    ]
    for program in programs.values():
        assessment = assess(resident, program, day, district, program.id in cases)
        verdict = "符合 eligible" if assessment.eligible else "不符合 not eligible"
        lines.append(f"\n[{program.id}] {program.name_zh}: {verdict}")
        for c in assessment.conditions:
            lines.append(f"  {'✓' if c.passed else '✗'} {c.name:<15} {c.zh} / {c.en}")
        checks = verify(resident, program.checks, program.blocking, day, district)
        for name, outcome in checks.results:
            blocking = "" if name in program.blocking else " (提示 non-blocking)"
            mark = "✓" if outcome.passed else "✗"
            lines.append(f"  {mark} check {name:<20}{outcome.detail}{blocking}")
        if program.id in cases:
            detail = case_detail(engine, cases[program.id], unmasked)
            assert detail is not None
            lines.append(f"  case #{detail['case_id']}: {detail['status']} — {detail['reason']}")
            for event in detail["events"]:
                lines.append(
                    f"    {event['at']} {event['actor']}: {event['from'] or '-'} → {event['to']} "
                    f"{event['reason']}"
                )
    return "\n".join(lines)
