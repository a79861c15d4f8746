"""Files written after an ingest commits: summary.json and quarantine.csv side by side."""

from __future__ import annotations

import json
from pathlib import Path

from proactive.output import Format, render
from proactive.registry.ingest import IngestSummary
from proactive.registry.quarantine import COLUMNS, present
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
