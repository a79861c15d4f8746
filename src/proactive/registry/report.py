"""Files written after an ingest commits: summary.json and quarantine.csv side by side."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from proactive.output import Format, render
from proactive.registry.ingest import IngestSummary
from proactive.registry.quarantine import COLUMNS, present
from proactive.registry.reasons import Reason
from proactive.registry.validate import REJECTED


def write_report(summary: IngestSummary, directory: Path) -> Path:
    """Write the run's summary and its rejected rows (masked) under directory/ingest-<run>/."""
    target = directory / f"ingest-{summary.run_id}"
    target.mkdir(parents=True, exist_ok=True)
    (target / "summary.json").write_text(
        json.dumps(summary.as_dict(), ensure_ascii=False, indent=2), encoding="utf-8"
    )
    records = [
        present(issue.as_row(summary.run_id, file), unmasked=False)
        for file, issue in summary.issues
        if issue.severity == REJECTED
    ]
    (target / "quarantine.csv").write_text(
        render(records, COLUMNS, Format.csv), encoding="utf-8-sig"
    )
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
    for _, issue in summary.issues:
        reasons.setdefault(issue.reason, [0, issue.severity])[0] += 1
    if reasons:
        lines.append("problems found (quarantined rows and warnings):")
        for reason, (count, severity) in sorted(reasons.items(), key=lambda kv: -kv[1][0]):
            lines.append(f"  {count:>6}  {severity:<8} {reason.code:<22} {reason.zh} / {reason.en}")
    return "\n".join(lines)
