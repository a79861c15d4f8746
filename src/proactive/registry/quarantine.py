"""Use case: list the rows an ingest rejected (and, on request, its warnings), masked."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Engine, func, select

from proactive.masking import mask_address, mask_id, mask_name, mask_phone
from proactive.models import RowIssue
from proactive.registry.validate import REJECTED

COLUMNS = (
    "run_id",
    "file",
    "line",
    "column",
    "severity",
    "reason_code",
    "reason_zh",
    "reason_en",
    "record_key",
    "raw",
)
BATCH = 10_000  # issues read at a time
_ID_FIELDS = {"id_number"}
_PHONE_FIELDS = {"mobile"}
_PLACE_FILES = {"sites.csv"}  # a site's name is a place, not a person


def list_issues(
    engine: Engine, run_id: int | None = None, warnings: bool = False, unmasked: bool = False
) -> list[dict[str, Any]]:
    """Issues of one ingest run (the latest by default), rejected rows only unless `warnings`."""
    with engine.connect() as conn:
        run = (
            run_id
            if run_id is not None
            else conn.execute(select(func.max(RowIssue.run_id))).scalar()
        )
        query = (
            select(RowIssue).where(RowIssue.run_id == run).order_by(RowIssue.file, RowIssue.line)
        )
        if not warnings:
            query = query.where(RowIssue.severity == REJECTED)
        rows = conn.execute(query).mappings().all()
    return [present(dict(row), unmasked) for row in rows]


def rejected_rows(engine: Engine, run_id: int) -> Iterator[dict[str, Any]]:
    """The rows one ingest rejected, masked, in the order they were found, a batch at a time
    (a large file's quarantine is never held whole)."""
    query = (
        select(RowIssue)
        .where(RowIssue.run_id == run_id, RowIssue.severity == REJECTED)
        .order_by(RowIssue.id)
        .execution_options(yield_per=BATCH)
    )
    with engine.connect() as conn:
        for row in conn.execute(query).mappings():
            yield present(dict(row), unmasked=False)


def present(row: dict[str, Any], unmasked: bool) -> dict[str, Any]:
    raw = json.loads(row["raw"]) if row["raw"] else {}
    if not unmasked:
        raw = {k: mask_value(k, v, row["file"]) for k, v in raw.items()}
        if row["file"] in ("persons.csv", "residence_permits.csv"):
            row["record_key"] = mask_id(row["record_key"])
    row["raw"] = json.dumps(raw, ensure_ascii=False) if raw else ""
    return {c: row[c] for c in COLUMNS}


def mask_value(column: str, value: str, file: str = "") -> str:
    """A raw cell as lists and reports show it: ID and phone numbers, people's names and
    addresses masked."""
    if column in _ID_FIELDS:
        return mask_id(value)
    if column in _PHONE_FIELDS:
        return mask_phone(value)
    if column == "name" and file not in _PLACE_FILES:
        return mask_name(value)
    if column == "address":
        return mask_address(value)
    if column == "fields":  # an unparsed line: which cell is what is unknown, mask them all
        return ",".join(_mask_unknown(v) for v in value.split(","))
    return value


def _mask_unknown(cell: str) -> str:
    """A cell of an unparsed line: long numbers as ID numbers, text with CJK characters (a name
    or an address) as a name."""
    if sum(ch.isdigit() for ch in cell) >= 11:
        return mask_id(cell)
    if any("\u3400" <= ch <= "\u9fff" or ch >= "\U00020000" for ch in cell):
        return mask_name(cell)
    return cell
