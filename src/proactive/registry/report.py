"""Files written after an ingest commits: summary.json and quarantine.csv side by side."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from proactive.output import write_csv
from proactive.registry.ingest import IngestSummary
from proactive.registry.quarantine import COLUMNS, rejected_rows
from proactive.registry.reasons import Reason


def write_report(summary: IngestSummary, directory: Path, engine: Engine) -> Path:
    """Write the run's summary and its rejected rows (masked, read back from the database a
    batch at a time) under directory/ingest-<run>/."""
    target = directory / f"ingest-{summary.run_id}"
    target.mkdir(parents=True, exist_ok=True)
    (target / "summary.json").write_text(
        json.dumps(summary.as_dict(), ensure_ascii=False, indent=2), encoding="utf-8"
    )
    with (target / "quarantine.csv").open("w", encoding="utf-8-sig", newline="") as handle:
        rows = rejected_rows(engine, summary.run_id)
        write_csv(handle, COLUMNS, ([row[c] for c in COLUMNS] for row in rows))
    return target


def summary_text(summary: IngestSummary) -> str:
    lines = [
        f"ingest run {summary.run_id}{' (delta)' if summary.delta else ''}: {summary.source}",
        f"{'file':<26}{'rows':>9}{'new':>9}{'changed':>9}{'same':>9}{'rejected':>9}{'warned':>8}",
    ]
    for f in summary.files:
        lines.append(
            f"{f.file:<26}{f.rows:>9}{f.inserted:>9}{f.updated:>9}{f.unchanged:>9}"
            f"{f.rejected:>9}{f.warnings:>8}"
        )
    lines += [f"refused: {f.refused}" for f in summary.files if f.refused]
    reasons: dict[Reason, list[Any]] = {}
    for (reason, severity), count in summary.problems.items():
        reasons.setdefault(reason, [0, severity])[0] += count
    if reasons:
        lines.append("problems found (quarantined rows and warnings):")
        for reason, (count, severity) in sorted(reasons.items(), key=lambda kv: -kv[1][0]):
            lines.append(f"  {count:>6}  {severity:<8} {reason.code:<22} {reason.zh} / {reason.en}")
    return "\n".join(lines)
