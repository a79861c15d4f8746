"""Check and normalise the rows of one extract file. Pure: DataFrames in, DataFrames out.

A raw frame has one text column per extract column plus `_line` (the row's line in the file)
and `_hash` (a hash of its raw text). The result keeps good rows under their database column
names, and lists every problem as an `Finding`: `rejected` rows are quarantined, `warning`s keep
the row (a field dropped, a flag for review, a duplicate merged).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from proactive.registry import parsers, reasons
from proactive.registry.extract_format import FileSpec
from proactive.registry.reasons import Reason
from proactive.time import SHANGHAI

REJECTED = "rejected"
WARNING = "warning"
META = ["_line", "_hash"]
EARLIEST_BIRTH = pd.Timestamp("1900-01-01")
# How far in the future an `updated_at` may lie (clocks and time zones of the sending systems).
UPDATE_TOLERANCE = dt.timedelta(days=1)
CLIP = 200  # characters of a rejected value kept with its issue


@dataclass(frozen=True)
class Finding:
    line: int
    column: str
    reason: Reason
    severity: str
    key: str
    raw: dict[str, str] | None = None

    def as_row(self, run_id: int, file: str) -> dict[str, Any]:
        """The issue as a row_issues record: values clipped, control characters escaped."""
        raw = {k: _clip(v) for k, v in self.raw.items()} if self.raw is not None else None
        return {
            "run_id": run_id,
            "file": file,
            "line": self.line,
            "column": self.column,
            "severity": self.severity,
            "reason_code": self.reason.code,
            "reason_zh": self.reason.zh,
            "reason_en": self.reason.en,
            "record_key": _clip(re.sub(parsers.CONTROLS, "", self.key)),
            "raw": json.dumps(raw, ensure_ascii=False) if raw is not None else None,
        }


def _clip(value: str) -> str:
    return value if len(value) <= CLIP else f"{value[:CLIP]}…(+{len(value) - CLIP})"


@dataclass(frozen=True)
class Context:
    """When the ingest runs, and what rows may refer to: keys already known from the database
    or earlier files."""

    now: dt.datetime  # the ingest's clock, aware
    sites: frozenset[str] = frozenset()
    households: frozenset[str] | None = None  # None: not checked

    @property
    def today(self) -> pd.Timestamp:
        """The calendar day in Shanghai."""
        return pd.Timestamp(self.now.astimezone(SHANGHAI).date())

    @property
    def latest_update(self) -> pd.Timestamp:
        """The latest plausible `updated_at` (local time, as extracts write it)."""
        return pd.Timestamp(self.now.astimezone(SHANGHAI).replace(tzinfo=None) + UPDATE_TOLERANCE)


@dataclass
class Checked:
    rows: pd.DataFrame
    issues: list[Finding] = field(default_factory=list)


def row_key(raw: pd.DataFrame, spec: FileSpec) -> pd.Series:
    """The key as it will be stored: controls removed, folded, legacy ID numbers upgraded."""
    values, _ = parsers.without_controls(raw[spec.key])
    return parsers.id_key(values) if spec.key == "id_number" else parsers.folded(values)


Mask = pd.Series | np.ndarray


def _issues(
    raw: pd.DataFrame, mask: Mask | None, column: str, reason: Reason, severity: str, key: str
) -> list[Finding]:
    """One issue per row of `raw` picked by `mask` (every row when None)."""
    picked = raw if mask is None else raw[np.asarray(mask, dtype=bool)]
    if picked.empty:
        return []
    data_columns = [c for c in picked.columns if not c.startswith("_")]  # ours: _line, _key…
    with_raw = severity == REJECTED
    return [
        Finding(
            line=int(row["_line"]),
            column=column,
            reason=reason,
            severity=severity,
            key=str(row[key]),
            raw={c: str(row[c]) for c in data_columns} if with_raw else None,
        )
        for row in picked.to_dict("records")
    ]


def resolve_duplicates(raw: pd.DataFrame, spec: FileSpec) -> Checked:
    """One row per key: the latest `updated_at` wins; identical copies merge; a tie conflicts."""
    keys = row_key(raw, spec)
    dup = keys.duplicated(keep=False) & (keys != "")
    if not dup.any():
        return Checked(raw)
    drop = pd.Series(False, index=raw.index)
    issues: list[Finding] = []
    group = raw[dup].assign(_key=keys[dup])
    if spec.updated_at:
        group["_when"] = parsers.timestamp(group[spec.updated_at]).values
    else:
        group["_when"] = pd.Timestamp(0)
    for _, rows in group.groupby("_key", sort=False):
        latest = rows["_when"].max()
        winners = rows[rows["_when"] == latest] if pd.notna(latest) else rows
        losers = rows.drop(winners.index)
        drop[losers.index] = True
        issues += _issues(
            losers,
            None,
            spec.updated_at or spec.key,
            reasons.SUPERSEDED,
            WARNING,
            spec.key,
        )
        if len(winners) == 1:
            continue
        if winners["_hash"].nunique() == 1:
            extra = winners.index[1:]
            drop[extra] = True
            issues += _issues(
                winners.loc[extra],
                None,
                spec.key,
                reasons.DUPLICATE_ROW,
                WARNING,
                spec.key,
            )
        else:
            drop[winners.index] = True
            issues += _issues(
                winners,
                None,
                spec.key,
                reasons.DUPLICATE_CONFLICT,
                REJECTED,
                spec.key,
            )
    return Checked(raw[~drop], issues)


def reject_future(raw: pd.DataFrame, spec: FileSpec, context: Context) -> Checked:
    """Quarantine rows whose `updated_at` lies beyond tomorrow: such a row would win every
    later comparison and make every real update of its key, a death included, a `stale_row`.
    Runs before duplicates are resolved, so a future row never supersedes a real one."""
    if spec.updated_at is None or raw.empty:
        return Checked(raw)
    latest = context.latest_update
    text, _ = parsers.without_controls(raw[spec.updated_at].fillna(""))
    stamps = parsers.folded(text)
    maybe = stamps.str.slice(0, 10) >= f"{latest:%Y-%m-%d}"  # ISO dates sort as text
    when = parsers.timestamp(stamps[maybe]).values
    future = pd.Series(False, index=raw.index)
    future[maybe] = when > latest
    issues = _issues(raw, future, spec.updated_at, reasons.FUTURE_UPDATE, REJECTED, spec.key)
    return Checked(raw[~future], issues)


def normalise(raw: pd.DataFrame, spec: FileSpec, context: Context) -> Checked:
    """Parse every column, reject or drop bad values, then apply the cross-field checks."""
    out = pd.DataFrame(index=raw.index)
    rejected = pd.Series(False, index=raw.index)
    issues: list[Finding] = []
    controlled: list[tuple[str, pd.Series]] = []
    for column in spec.columns:
        if column.name not in raw.columns:
            out[column.db_name] = None
            continue
        text, found = parsers.without_controls(raw[column.name].fillna(""))
        controlled.append((column.name, found))
        empty = parsers.blank(text)
        parsed = column.parse(text.where(~empty, ""))
        bad = parsed.bad & ~empty
        values = parsed.values.where(~empty & ~bad, None)
        if column.required:
            issues += _issues(
                raw, empty & ~rejected, column.name, reasons.MISSING_VALUE, REJECTED, spec.key
            )
            rejected |= empty
        for reason, mask in _by_reason(parsed.problems, bad & ~rejected):
            severity = REJECTED if column.on_invalid == "reject" else WARNING
            issues += _issues(raw, mask, column.name, reason, severity, spec.key)
        if column.on_invalid == "reject":
            rejected |= bad
        out[column.db_name] = values
    for name, found in controlled:
        issues += _issues(
            raw, found & ~rejected, name, reasons.CONTROL_CHARACTERS, WARNING, spec.key
        )
    checked = _cross_checks(out[~rejected], raw[~rejected], spec, context)
    checked.rows[META] = raw.loc[checked.rows.index, META]
    return Checked(checked.rows, issues + checked.issues)


def _by_reason(problems: pd.Series, mask: pd.Series) -> Iterable[tuple[Reason, pd.Series]]:
    chosen = problems[mask]
    for reason in {r for r in chosen if r is not None}:
        yield reason, mask & (problems == reason)


def _cross_checks(
    rows: pd.DataFrame, raw: pd.DataFrame, spec: FileSpec, context: Context
) -> Checked:
    rows = rows.copy()
    flags: list[tuple[pd.Series, str, Reason]] = []
    rejects: list[tuple[pd.Series, str, Reason]] = []
    warnings: list[tuple[pd.Series, str, Reason]] = []
    if "id_number" in rows and "birth_date" in rows and "sex" in rows and spec.flags:
        flags.append(
            (
                parsers.id_birth_date(rows["id_number"]) != rows["birth_date"],
                "birth_date",
                reasons.ID_BIRTH_MISMATCH,
            )
        )
        flags.append(
            (parsers.id_sex(rows["id_number"]) != rows["sex"], "sex", reasons.ID_SEX_MISMATCH)
        )
    if "birth_date" in rows:
        outside = (rows["birth_date"] < EARLIEST_BIRTH) | (rows["birth_date"] > context.today)
        rejects.append((outside, "birth_date", reasons.BIRTH_DATE_RANGE))
    if "death_date" in rows:
        rejects.append((rows["death_date"] > context.today, "death_date", reasons.FUTURE_DEATH))
        before_birth = rows["death_date"] < rows["birth_date"]
        rejects.append((before_birth, "death_date", reasons.DEATH_BEFORE_BIRTH))
    if "hukou_status" in rows:
        deceased = rows["hukou_status"] == "deceased"
        has_death = rows["death_date"].notna()
        flags.append((deceased & ~has_death, "death_date", reasons.DEATH_DATE_MISSING))
        flags.append((~deceased & has_death, "death_date", reasons.DEATH_DATE_UNEXPECTED))
        if context.households is not None:
            unknown = ~rows["household_id"].isin(context.households)
            flags.append((unknown, "household_id", reasons.UNKNOWN_HOUSEHOLD))
    if "valid_to" in rows:
        rejects.append((rows["valid_to"] < rows["valid_from"], "valid_to", reasons.BAD_PERIOD))
    if spec.table == "sites":
        rows["phone"] = rows["phone"].fillna("")
    if spec.table == "social_workers":
        rejects.append((~rows["site_id"].isin(context.sites), "site_id", reasons.UNKNOWN_SITE))
        rows["role"] = rows["role"].fillna("worker")
        rows["daily_capacity"] = rows["daily_capacity"].fillna(DEFAULT_WORKER_CAPACITY)
    if "lat" in rows:
        half = rows["lat"].isna() != rows["lon"].isna()
        warnings.append((half, "lat", reasons.BAD_COORDS))
        rows.loc[half, ["lat", "lon"]] = None
    issues: list[Finding] = []
    rejected = pd.Series(False, index=rows.index)
    for mask, column, reason in rejects:
        issues += _issues(raw, mask & ~rejected, column, reason, REJECTED, spec.key)
        rejected |= mask
    for mask, column, reason in warnings + flags:
        issues += _issues(raw, mask & ~rejected, column, reason, WARNING, spec.key)
    if spec.flags:
        rows["review_flags"] = _join_flags(rows.index, flags)
    return Checked(rows[~rejected], issues)


DEFAULT_WORKER_CAPACITY = 8  # visits a social worker makes in a day, when the extract is silent


def _join_flags(index: pd.Index, flags: list[tuple[pd.Series, str, Reason]]) -> pd.Series:
    joined = pd.Series("", index=index, dtype=object)
    for mask, _, reason in flags:
        joined[mask] = joined[mask] + reason.code + ","
    return joined.str.rstrip(",")
