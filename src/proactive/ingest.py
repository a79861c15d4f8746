"""Use case: load one shared-data extract directory into the registry, in one transaction.

Per file: read (file-level errors abort everything), resolve duplicate keys, skip rows whose
raw text is unchanged since the last load, validate the rest, write only what changed, and
record every problem. Nothing is written unless every file could be read.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Date, DateTime, Engine, insert, update

from proactive import registry_store as store
from proactive import validate
from proactive.errors import ExtractMissingError
from proactive.extract_spec import ALL, FileSpec
from proactive.models import IngestRun
from proactive.reader import RawFile, read_extract_file
from proactive.reasons import STALE_ROW
from proactive.validate import REJECTED, WARNING, Checked, Context, Issue

log = logging.getLogger(__name__)
Clock = Callable[[], dt.datetime]


@dataclass
class FileSummary:
    file: str
    encoding: str
    rows: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    warnings: int = 0
    reasons: dict[str, int] = field(default_factory=dict)


@dataclass
class IngestSummary:
    run_id: int
    source: str
    files: list[FileSummary]
    issues: list[tuple[str, Issue]]

    @property
    def rejected(self) -> int:
        return sum(f.rejected for f in self.files)

    def as_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "source": self.source,
            "files": [asdict(f) for f in self.files],
        }


@dataclass(frozen=True)
class IngestOptions:
    encoding: str | None = None
    column_map: Mapping[str, Mapping[str, str]] = field(default_factory=dict)


def ingest(
    engine: Engine,
    directory: Path,
    clock: Clock,
    options: IngestOptions = IngestOptions(),
    on_file: Callable[[str], None] = lambda _file: None,
) -> IngestSummary:
    if not directory.is_dir():
        raise ExtractMissingError(f"{directory} is not a directory")
    present = [spec for spec in ALL if (directory / spec.file).is_file()]
    missing = [spec.file for spec in ALL if spec.required and spec not in present]
    if missing:
        raise ExtractMissingError(f"{directory} has no {', '.join(missing)}")
    with engine.begin() as conn:
        run_id = _start_run(conn, directory, clock)
        summaries: list[FileSummary] = []
        issues: list[tuple[str, Issue]] = []
        for spec in present:
            on_file(spec.file)
            raw = read_extract_file(
                directory / spec.file,
                spec,
                options.encoding,
                options.column_map.get(spec.file.removesuffix(".csv")),
            )
            summary, file_issues = _load_file(conn, run_id, spec, raw)
            summaries.append(summary)
            issues += [(spec.file, issue) for issue in file_issues]
            log.info("ingest.file", extra={"run_id": run_id, **asdict(summary)})
        result = IngestSummary(run_id, str(directory), summaries, issues)
        _finish_run(conn, result, clock)
    return result


def _start_run(conn: Connection, directory: Path, clock: Clock) -> int:
    started = clock()
    result = conn.execute(
        insert(IngestRun).values(source=str(directory), started_at=started, summary="{}")
    )
    (run_id,) = result.inserted_primary_key or (0,)
    return int(run_id)


def _finish_run(conn: Connection, result: IngestSummary, clock: Clock) -> None:
    conn.execute(
        update(IngestRun)
        .where(IngestRun.id == result.run_id)
        .values(finished_at=clock(), summary=json.dumps(result.as_dict(), ensure_ascii=False))
    )


def _load_file(
    conn: Connection, run_id: int, spec: FileSpec, raw: RawFile
) -> tuple[FileSummary, list[Issue]]:
    summary = FileSummary(spec.file, raw.encoding, rows=len(raw.frame) + len(raw.issues))
    deduped = validate.resolve_duplicates(raw.frame, spec)
    fresh = deduped.rows[~deduped.rows["_hash"].isin(store.known_hashes(conn, spec.table))]
    summary.unchanged = len(deduped.rows) - len(fresh)
    checked = validate.normalise(fresh, spec, _context(conn, spec))
    written = _write(conn, run_id, spec, checked)
    issues = raw.issues + deduped.issues + checked.issues + written.issues
    store.insert_issues(conn, run_id, spec.file, issues)
    summary.inserted, summary.updated = written.inserted, written.updated
    summary.unchanged += written.same
    summary.rejected = sum(1 for i in issues if i.severity == REJECTED)
    summary.warnings = sum(1 for i in issues if i.severity == WARNING)
    for issue in issues:
        summary.reasons[issue.reason.code] = summary.reasons.get(issue.reason.code, 0) + 1
    return summary, issues


def _context(conn: Connection, spec: FileSpec) -> Context:
    if spec.table == "social_workers":
        return Context(sites=store.known_keys(conn, "sites", "site_id"))
    if spec.table == "persons" and store.count(conn, "households"):
        return Context(households=store.known_keys(conn, "households", "household_id"))
    return Context()


@dataclass
class Written:
    inserted: int = 0
    updated: int = 0
    same: int = 0
    issues: list[Issue] = field(default_factory=list)


def _write(conn: Connection, run_id: int, spec: FileSpec, checked: Checked) -> Written:
    rows = _python_values(
        checked.rows.drop(columns=["_line"]).rename(columns={"_hash": "row_hash"}), spec
    )
    old = (
        store.existing_rows(conn, spec.table, spec.key, rows[spec.key].tolist())
        if len(rows)
        else None
    )
    if old is None or old.empty:
        store.insert_rows(conn, spec.table, _records(rows, run_id, "*"))
        return Written(inserted=len(rows))
    old = old.set_index(spec.key)
    is_new = ~rows[spec.key].isin(old.index)
    new_rows, changed = rows[is_new], rows[~is_new]
    written = Written(inserted=len(new_rows))
    store.insert_rows(conn, spec.table, _records(new_rows, run_id, "*"))
    before = old.loc[changed[spec.key]]
    if "source_updated_at" in changed:
        stale = changed["source_updated_at"].to_numpy() < before["source_updated_at"].to_numpy()
        lines = checked.rows.loc[changed.index[stale], "_line"]
        written.issues = [
            Issue(int(line), "updated_at", STALE_ROW, WARNING, str(key))
            for line, key in zip(lines, changed.loc[stale, spec.key], strict=True)
        ]
        changed, before = changed[~stale], before[~stale]
    data_columns = [c for c in changed.columns if c not in (spec.key, "row_hash")]
    diffs = _differences(changed[data_columns], before[data_columns])
    updates: list[dict[str, Any]] = []
    for record, changed_fields in zip(_dicts(changed), diffs, strict=True):
        if changed_fields:
            record.update(changed_run_id=run_id, changed_fields=changed_fields)
        updates.append(record)
    written.updated = sum(1 for d in diffs if d)
    written.same = len(diffs) - written.updated
    store.update_rows(conn, spec.table, spec.key, updates)
    return written


def _differences(new: pd.DataFrame, old: pd.DataFrame) -> list[str]:
    """Per row, the comma-joined names of the columns whose value changed."""
    new_values = new.reset_index(drop=True)
    old_values = old.reset_index(drop=True)[new.columns]
    joined = pd.Series("", index=new_values.index, dtype=object)
    for column in new.columns:
        a, b = new_values[column], old_values[column]
        differs = (a != b) & ~(a.isna() & b.isna())
        joined[differs] = joined[differs] + column + ","
    return [value.rstrip(",") for value in joined]


def _python_values(frame: pd.DataFrame, spec: FileSpec) -> pd.DataFrame:
    """Database-ready values: date objects, naive datetimes, None for missing."""
    t = store.table(spec.table)
    out = pd.DataFrame(index=frame.index)
    for name in frame.columns:
        series = frame[name]
        kind = t.c[name].type
        if isinstance(kind, Date):
            values: pd.Series = pd.Series(
                [None if pd.isna(v) else v.date() for v in series], index=frame.index, dtype=object
            )
        elif isinstance(kind, DateTime):
            values = pd.Series(
                [None if pd.isna(v) else v.to_pydatetime() for v in series],
                index=frame.index,
                dtype=object,
            )
        else:
            values = series.astype(object).where(series.notna(), None)
        out[name] = values
    return out


def _dicts(rows: pd.DataFrame) -> list[dict[str, Any]]:
    return [{str(k): v for k, v in row.items()} for row in rows.to_dict("records")]


def _records(rows: pd.DataFrame, run_id: int, changed_fields: str) -> list[dict[str, Any]]:
    records = _dicts(rows)
    for record in records:
        record["changed_run_id"] = run_id
        record["changed_fields"] = changed_fields
    return records
