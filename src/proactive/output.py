"""Print a list of records as a table, CSV or JSON: every list command goes through here."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from enum import StrEnum
from typing import Any

from rich.console import Console
from rich.table import Table


class Format(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


def render(
    records: Sequence[dict[str, Any]], columns: Sequence[str], fmt: Format, title: str = ""
) -> str:
    if fmt is Format.json:
        return json.dumps(
            [{c: r.get(c) for c in columns} for r in records],
            ensure_ascii=False,
            indent=2,
            default=str,
        )
    if fmt is Format.csv:
        buffer = io.StringIO()
        writer = csv.DictWriter(
            buffer, fieldnames=list(columns), extrasaction="ignore", lineterminator="\n"
        )
        writer.writeheader()
        writer.writerows(records)
        return buffer.getvalue()
    table = Table(title=title or None)
    for column in columns:
        table.add_column(column)
    for record in records:
        table.add_row(*("" if record.get(c) is None else str(record.get(c)) for c in columns))
    buffer = io.StringIO()
    Console(file=buffer, width=200, color_system=None).print(table)
    return buffer.getvalue()
