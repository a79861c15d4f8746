"""Use case: load one shared-data extract directory into the registry, in one transaction.

Per file: read (file-level errors abort everything), resolve duplicate keys, skip rows whose
raw text is unchanged since the last load, validate the rest, write only what changed, and
record every problem. Nothing is written unless every file could be read.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections import Counter
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Engine, func, insert, select, text, update

from proactive.errors import ExtractMissingError
from proactive.models import IngestRun
from proactive.progress import SILENT, Progress
from proactive.registry import reader, validate
from proactive.registry import tables as store
from proactive.registry.extract_format import ALL, FileSpec
from proactive.registry.reader import ExtractFile
from proactive.registry.reasons import STALE_ROW, Reason
from proactive.registry.scan import parts, scan
from proactive.registry.validate import REJECTED, WARNING, Checked, Context, Finding
from proactive.time import Clock, local_text

log = logging.getLogger(__name__)


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
    same_file: bool = False  # byte-identical to the file last loaded: skipped whole
    refused: str = ""  # why the file was not loaded (older than the one last loaded)


ISSUE_SAMPLE = 1_000  # issues an IngestSummary holds; every one is in row_issues


@dataclass
class IngestSummary:
    run_id: int
    source: str
    files: list[FileSummary]
    issues: list[tuple[str, Finding]]  # the first ISSUE_SAMPLE (quarantine reads them all)
    delta: bool = False
    problems: Counter[tuple[Reason, str]] = field(default_factory=Counter)  # all, by severity

    def note(self, file: str, issues: list[Finding]) -> None:
        """Count the issues; keep the first few."""
        self.problems.update((issue.reason, issue.severity) for issue in issues)
        room = max(ISSUE_SAMPLE - len(self.issues), 0)
        self.issues += [(file, issue) for issue in issues[:room]]

    @property
    def rejected(self) -> int:
        return sum(f.rejected for f in self.files)

    def as_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "source": self.source,
            "kind": "delta" if self.delta else "full",
            "files": [asdict(f) for f in self.files],
        }


DELTA_MARKER = "DELTA"  # an extract directory holding a file of this name is a delta extract


@dataclass(frozen=True)
class IngestOptions:
    encoding: str | None = None
    column_map: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    delta: bool = False  # only changed rows; every file optional (also: a DELTA file in DIR)
    allow_older: bool = False  # load a file even if it was extracted before the last one loaded
    chunk_rows: int | None = None  # rows read and written at a time (None: reader.CHUNK_ROWS)


def ingest(
    engine: Engine,
    directory: Path,
    clock: Clock,
    options: IngestOptions = IngestOptions(),
    progress: Progress = SILENT,
) -> IngestSummary:
    """Load the extract in one transaction of its own."""
    with engine.begin() as conn:
        return ingest_on(conn, directory, clock, options, progress)


def ingest_on(
    conn: Connection,
    directory: Path,
    clock: Clock,
    options: IngestOptions = IngestOptions(),
    progress: Progress = SILENT,
) -> IngestSummary:
    """Load the extract inside the caller's transaction (the nightly run's); `progress` hears
    of each file (stage `ingest`, one unit a file) and of its rows (a stage named after the
    file, whose total is known once the file has been read through)."""
    if not directory.is_dir():
        raise ExtractMissingError(f"{directory} is not a directory")
    present = [spec for spec in ALL if (directory / spec.file).is_file()]
    delta = options.delta or (directory / DELTA_MARKER).is_file()
    missing = [spec.file for spec in ALL if spec.required and spec not in present]
    if missing and not delta:
        raise ExtractMissingError(f"{directory} has no {', '.join(missing)}")
    if not present:
        raise ExtractMissingError(f"{directory} holds no extract file ({ALL[0].file}, ...)")
    now = clock()
    run_id = _start_run(conn, directory, now)
    result = IngestSummary(run_id, str(directory), [], [], delta)
    progress.begin("ingest", len(present))
    for spec in present:
        progress.begin(spec.file)
        path = directory / spec.file
        summary = _load_file(conn, run_id, now, spec, path, options, result, progress)
        result.files.append(summary)
        log.info("ingest.file", extra={"run_id": run_id, **asdict(summary)})
        progress.end(spec.file, _file_counts(summary))
        progress.advance("ingest")
    rows = sum(s.rows for s in result.files)
    progress.end("ingest", {"rows": rows, "rejected": result.rejected})
    _finish_run(conn, result, clock)
    return result


def _file_counts(summary: FileSummary) -> dict[str, int]:
    return {
        "rows": summary.rows,
        "new": summary.inserted,
        "changed": summary.updated,
        "rejected": summary.rejected,
    }


def _start_run(conn: Connection, directory: Path, now: dt.datetime) -> int:
    result = conn.execute(
        insert(IngestRun).values(source=str(directory), started_at=now, summary="{}")
    )
    (run_id,) = result.inserted_primary_key or (0,)
    return int(run_id)


def _finish_run(conn: Connection, result: IngestSummary, clock: Clock) -> None:
    conn.execute(
        update(IngestRun)
        .where(IngestRun.id == result.run_id)
        .values(finished_at=clock(), summary=json.dumps(result.as_dict(), ensure_ascii=False))
    )
    _number_in_commit_order(conn, result.run_id)


_COMMIT_ORDER_KEY = "hashtextextended(current_schema() || ' proactive ingest commit order', 0)"


def _number_in_commit_order(conn: Connection, run_id: int) -> None:
    """Give the run the next commit_seq, last thing before its transaction commits. On
    PostgreSQL a transaction-scoped advisory lock, held until the commit, makes the numbers
    become visible in order (a second ingest waits here for the first to commit); on SQLite
    one writer at a time does the same. So "every ingest with commit_seq above W" never skips
    one that committed late: the nightly run's watermark is a commit_seq, not an id."""
    if conn.dialect.name == "postgresql":
        conn.execute(text(f"SELECT pg_advisory_xact_lock({_COMMIT_ORDER_KEY})"))
    following = select(func.coalesce(func.max(IngestRun.commit_seq), 0) + 1).scalar_subquery()
    conn.execute(update(IngestRun).where(IngestRun.id == run_id).values(commit_seq=following))


def changes_since(conn: Connection, watermark: int) -> tuple[int, int]:
    """(since_ingest, new watermark) for a run whose predecessor saw the ingests up to commit
    `watermark`: rows with changed_run_id above since_ingest hold every change committed
    after it (and perhaps a few already seen, which the stages take again harmlessly)."""
    first, last = conn.execute(
        select(func.min(IngestRun.id), func.max(IngestRun.commit_seq)).where(
            IngestRun.commit_seq > watermark
        )
    ).one()
    if first is None or last is None:
        newest = conn.execute(select(func.max(IngestRun.id))).scalar()
        return int(newest or 0), watermark
    return int(first) - 1, int(last)


def _load_file(
    conn: Connection,
    run_id: int,
    now: dt.datetime,
    spec: FileSpec,
    path: Path,
    options: IngestOptions,
    result: IngestSummary,
    progress: Progress = SILENT,
) -> FileSummary:
    """One file, a chunk at a time: what changed is written. A full file is compared with
    every stored row's hash (8 bytes a row, held sorted); a delta file only with the stored
    rows of its own keys, so its cost follows the number of changes, not the size of the
    registry. The file is read whole once (`scan`) before anything is written, so an
    unreadable file is refused with nothing to undo."""
    column_map = options.column_map.get(spec.file.removesuffix(".csv"))
    source = ExtractFile(path)
    fingerprint = source.fingerprint(options.encoding, column_map)
    last = store.last_fingerprint(conn, spec.table)
    if last is not None and last.sha256 == fingerprint:
        return FileSummary(spec.file, "-", rows=last.rows, unchanged=last.rows, same_file=True)
    extracted = extracted_at(path)
    older = older_than_loaded(spec.file, extracted, last)
    if older and not options.allow_older:
        log.warning("ingest.file_refused", extra={"run_id": run_id, "file": spec.file})
        return FileSummary(spec.file, "-", refused=older)
    rows = options.chunk_rows or reader.CHUNK_ROWS
    found = scan(source, spec, options.encoding, column_map or {}, rows)
    summary = FileSummary(spec.file, found.encoding, rows=found.rows)
    progress.begin(spec.file, found.rows)
    if result.delta:
        target = _Target(conn, spec, now, None, store.count(conn, spec.table) == 0)
    else:
        known = store.known_hashes(conn, spec.table)
        target = _Target(conn, spec, now, known, len(known) == 0)
    written_rows = 0
    for part in parts(found, Context(now)):
        written, part_issues = _load_part(target, run_id, part)
        store.insert_issues(conn, run_id, spec.file, part_issues)
        _count(summary, written, part_issues)
        written_rows += written.inserted + written.updated
        result.note(spec.file, part_issues)
        progress.advance(spec.file, len(part.rows))
    store.record_fingerprint(
        conn, run_id, spec.table, spec.file, fingerprint, summary.rows, extracted
    )
    store.refresh_statistics(conn, spec.table, written_rows)
    return summary


@dataclass(frozen=True)
class _Target:
    """Where a file's parts go, and what is known there before the file."""

    conn: Connection
    spec: FileSpec
    now: dt.datetime
    known: np.ndarray | None  # a full file: every stored row hash, sorted
    first_load: bool  # the table was empty


def _load_part(target: _Target, run_id: int, part: Checked) -> tuple[Written, list[Finding]]:
    """Validate and write one part of a file (its keys are in no other part)."""
    conn, spec = target.conn, target.spec
    hashes = part.rows["_hash"].to_numpy()
    if target.known is None:
        stored = store.hashes_of(conn, spec.table, spec.key, part.rows[spec.key].tolist())
        seen = np.isin(hashes, stored)
    else:
        seen = _in_sorted(hashes, target.known)
    fresh = part.rows[~seen]
    context = _context(conn, spec, target.now, fresh) if len(fresh) else Context(target.now)
    checked = validate.normalise(fresh, spec, context)
    written = _write(conn, run_id, spec, checked, context, target.first_load)
    written.same += len(part.rows) - len(fresh)
    return written, part.issues + checked.issues + written.issues


def _in_sorted(values: np.ndarray, ordered: np.ndarray) -> np.ndarray:
    """Which values are in the sorted array."""
    if not len(ordered):
        return np.zeros(len(values), dtype=bool)
    at = np.searchsorted(ordered, values).clip(max=len(ordered) - 1)
    return np.asarray(ordered[at] == values)


def _count(summary: FileSummary, written: Written, issues: list[Finding]) -> None:
    summary.inserted += written.inserted
    summary.updated += written.updated
    summary.unchanged += written.same
    summary.rejected += sum(1 for i in issues if i.severity == REJECTED)
    summary.warnings += sum(1 for i in issues if i.severity == WARNING)
    for issue in issues:
        summary.reasons[issue.reason.code] = summary.reasons.get(issue.reason.code, 0) + 1


def extracted_at(path: Path) -> dt.datetime:
    """When the file was extracted: its modification time (keep it when copying extracts:
    `cp -p`, `rsync -t`)."""
    return dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC)


def older_than_loaded(file: str, extracted: dt.datetime, last: store.LastLoaded | None) -> str:
    """Why a file extracted at `extracted` must not replace the one last loaded ("" if it
    may): loading it would silently revert what the newer one said."""
    if last is None or last.extracted_at is None or extracted >= last.extracted_at:
        return ""
    return (
        f"{file} was extracted {local_text(extracted)}, before the one last loaded "
        f"(extracted {local_text(last.extracted_at)}): not loaded (--allow-older loads it)"
    )


def _context(conn: Connection, spec: FileSpec, now: dt.datetime, rows: pd.DataFrame) -> Context:
    """What validation checks references against: all sites, or the households the rows
    name."""
    if spec.table == "social_workers":
        return Context(now, sites=store.known_keys(conn, "sites", "site_id"))
    if spec.table == "persons" and store.count(conn, "households"):
        named = rows["household_id"].dropna().unique().tolist()
        return Context(now, households=store.known_keys(conn, "households", "household_id", named))
    return Context(now)


@dataclass
class Written:
    inserted: int = 0
    updated: int = 0
    same: int = 0
    issues: list[Finding] = field(default_factory=list)


def _write(
    conn: Connection,
    run_id: int,
    spec: FileSpec,
    checked: Checked,
    context: Context,
    first_load: bool,
) -> Written:
    """Insert new keys; for known keys, write the rows whose values changed (and record which
    columns), refresh the raw hash of rows whose text changed but not their values, and leave
    alone rows older than what is stored. A stored `updated_at` in the future (loaded before
    such rows were refused) is no reason to keep a real update out."""
    lines = checked.rows["_line"]
    rows = checked.rows.drop(columns=["_line"]).rename(columns={"_hash": "row_hash"})
    old = (
        pd.DataFrame(columns=[spec.key])
        if first_load or rows.empty
        else store.existing_rows(conn, spec.table, spec.key, rows[spec.key].tolist())
    )
    is_new = ~rows[spec.key].isin(old[spec.key])
    store.insert_frame(
        conn, spec.table, rows[is_new].assign(changed_run_id=run_id, changed_fields="*")
    )
    written = Written(inserted=int(is_new.sum()))
    changed = rows[~is_new]
    if changed.empty:
        return written
    before = old.set_index(spec.key).loc[changed[spec.key]].set_index(changed.index)
    if "source_updated_at" in changed:
        stored = before["source_updated_at"]
        stale = (changed["source_updated_at"] < stored) & (stored <= context.latest_update)
        written.issues = [
            Finding(int(lines[i]), "updated_at", STALE_ROW, WARNING, str(changed.at[i, spec.key]))
            for i in changed.index[stale]
        ]
        changed, before = changed[~stale], before[~stale]
    data_columns = [c for c in changed.columns if c not in (spec.key, "row_hash")]
    diffs = _differences(changed[data_columns], before[data_columns])
    differs = diffs != ""
    store.update_frame(
        conn,
        spec.table,
        spec.key,
        changed[differs].assign(changed_run_id=run_id, changed_fields=diffs[differs]),
    )
    store.update_frame(conn, spec.table, spec.key, changed.loc[~differs, [spec.key, "row_hash"]])
    written.updated = int(differs.sum())
    written.same = int((~differs).sum())
    return written


def _differences(new: pd.DataFrame, old: pd.DataFrame) -> pd.Series:
    """Per row, the comma-joined names of the columns whose value changed."""
    joined = pd.Series("", index=new.index, dtype=object)
    for column in new.columns:
        a, b = new[column], old[column]
        differs = (a != b) & ~(a.isna() & b.isna())
        joined[differs] = joined[differs] + column + ","
    return joined.str.rstrip(",")
