"""Print a list of records as a table, CSV or JSON: every list command goes through here, and
every CSV file the project writes for people is written by `write_csv`."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from enum import StrEnum
from typing import Any, TextIO

from rich.console import Console
from rich.table import Table

# A cell starting with one of these is a formula to Excel, LibreOffice or WPS (OWASP, "CSV
# Injection"); a leading tab or carriage return is stripped by some of them, revealing one.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class Format(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


def spreadsheet_safe(value: object) -> object:
    """OWASP's defence against formula injection: text starting like a formula gets a leading
    single quote, so a spreadsheet shows it as text. Only `str` cells are touched: numbers we
    write as int or float keep their sign, and text that merely looks like a negative number
    (it may come from a registry extract) is quoted like any other."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def write_csv(handle: TextIO, columns: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    """A header and rows, every cell made safe for spreadsheets. Lines end in CRLF (RFC 4180),
    which also makes the csv module quote a value holding a bare carriage return."""
    writer = csv.writer(handle, lineterminator="\r\n")
    writer.writerow(columns)
    writer.writerows([spreadsheet_safe(value) for value in row] for row in rows)


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
        write_csv(buffer, columns, ([r.get(c) for c in columns] for r in records))
        return buffer.getvalue()
    table = Table(title=title or None)
    for column in columns:
        table.add_column(column)
    for record in records:
        table.add_row(*("" if record.get(c) is None else str(record.get(c)) for c in columns))
    buffer = io.StringIO()
    Console(file=buffer, width=200, color_system=None).print(table)
    return buffer.getvalue()
