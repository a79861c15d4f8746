"""Reads and writes of the registry tables, in bulk, on an open connection.

Bulk writes bypass the ORM: rows go to the driver as tuples (executemany on SQLite, COPY on
PostgreSQL), with dates and times as ISO text, the form SQLAlchemy itself stores on SQLite and
PostgreSQL parses on input.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import (
    Boolean,
    ColumnElement,
    Connection,
    Date,
    DateTime,
    Float,
    Integer,
    Table,
    any_,
    bindparam,
    func,
    insert,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY

from proactive.batching import chunks
from proactive.models import Base, LoadedFile, RowIssue
from proactive.registry.validate import Finding

BATCH = 50_000  # rows converted and written at a time
DATE_FORMAT = "%Y-%m-%d"
DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S.%f"


def table(name: str) -> Table:
    return Base.metadata.tables[name]


def known_hashes(conn: Connection, name: str) -> np.ndarray:
    """Every stored row hash of the table, sorted: 8 bytes a row, fetched a batch at a time
    (a server-side cursor on PostgreSQL, so the driver never holds them all as tuples)."""
    quote = conn.dialect.identifier_preparer.quote
    cursor = _cursor(conn, server_side=True)
    cursor.execute(f"SELECT row_hash FROM {quote(name)}")
    parts: list[np.ndarray] = []
    while batch := cursor.fetchmany(BATCH):
        parts.append(np.fromiter((h for (h,) in batch), dtype=np.int64, count=len(batch)))
    cursor.close()
    hashes = np.concatenate(parts) if parts else np.empty(0, dtype=np.int64)
    hashes.sort()
    return hashes


def _cursor(conn: Connection, server_side: bool = False) -> Any:
    """A DBAPI cursor inside the connection's transaction (`server_side`: rows fetched as
    asked for, on PostgreSQL)."""
    dbapi = conn.connection.dbapi_connection
    if server_side and conn.dialect.name == "postgresql":
        return dbapi.cursor(name="proactive_known_hashes")  # type: ignore[union-attr]  # open
    return dbapi.cursor()  # type: ignore[union-attr]  # open


def hashes_of(conn: Connection, name: str, key: str, keys: Sequence[str]) -> np.ndarray:
    """The stored row hashes of these keys only (a delta extract's rows)."""
    column = table(name).c
    found = [
        h
        for among in _matching(conn, column[key], keys)
        for h in conn.execute(select(column.row_hash).where(among)).scalars()
    ]
    return np.array(found, dtype=np.int64)


def known_keys(
    conn: Connection, name: str, key: str, among: Sequence[str] | None = None
) -> frozenset[str]:
    """The table's keys; with `among`, only those of them that are stored."""
    column = table(name).c[key]
    if among is None:
        return frozenset(conn.execute(select(column)).scalars())
    return frozenset(
        k
        for matching in _matching(conn, column, among)
        for k in conn.execute(select(column).where(matching)).scalars()
    )


PG_KEYS = 100_000  # keys sent as one array parameter on PostgreSQL


def _matching(
    conn: Connection, column: ColumnElement[Any], keys: Sequence[str]
) -> Iterator[ColumnElement[bool]]:
    """Conditions that together pick these keys: `= ANY(array)` on PostgreSQL (one round trip
    for a whole chunk of an extract), IN lists small enough for every backend elsewhere."""
    if conn.dialect.name == "postgresql":
        for part in chunks(keys, PG_KEYS):
            yield column == any_(bindparam(None, list(part), type_=ARRAY(column.type)))
        return
    for part in chunks(keys):
        yield column.in_(part)


def count(conn: Connection, name: str) -> int:
    return int(conn.execute(select(func.count()).select_from(table(name))).scalar_one())


def existing_rows(conn: Connection, name: str, key: str, keys: Sequence[str]) -> pd.DataFrame:
    """The stored rows for these keys, typed as `typed()` types an incoming frame."""
    t = table(name)
    rows = [
        row
        for matching in _matching(conn, t.c[key], keys)
        for row in conn.execute(select(t).where(matching)).mappings()
    ]
    return typed(pd.DataFrame(rows, columns=list(t.c.keys())), name)


def typed(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    """Dates and times as datetime64, numbers as floats: comparable across sources."""
    out = frame.copy()
    for column in out.columns:
        kind = table(name).c[column].type if column in table(name).c else None
        if isinstance(kind, Date | DateTime):
            out[column] = pd.to_datetime(out[column])
        elif isinstance(kind, Float):
            out[column] = pd.to_numeric(out[column])
    return out


def _driver_values(frame: pd.DataFrame, name: str) -> list[tuple[Any, ...]]:
    """Row tuples of driver-ready values: ISO text for dates, None for missing."""
    columns: list[list[Any]] = []
    for column in frame.columns:
        series = frame[column]
        kind = table(name).c[column].type
        if isinstance(kind, Date):
            values = series.dt.strftime(DATE_FORMAT)
        elif isinstance(kind, DateTime):
            values = series.dt.strftime(DATETIME_FORMAT)
        elif isinstance(kind, Boolean):
            values = series.astype(object)
        elif isinstance(kind, Integer) and series.notna().all():
            columns.append([int(v) for v in series])
            continue
        else:
            values = series.astype(object)
        columns.append(values.astype(object).where(series.notna(), None).tolist())
    return list(zip(*columns, strict=True))


def insert_frame(conn: Connection, name: str, frame: pd.DataFrame) -> None:
    """Insert every row, a batch at a time (memory stays flat): COPY on PostgreSQL,
    executemany elsewhere."""
    quote = conn.dialect.identifier_preparer.quote
    names = ", ".join(quote(c) for c in frame.columns)
    cursor = _cursor(conn)
    if conn.dialect.name == "postgresql":
        with cursor.copy(f"COPY {quote(name)} ({names}) FROM STDIN") as copy:
            for batch in _batches(frame):
                for row in _driver_values(batch, name):
                    copy.write_row(row)
        return
    marks = ", ".join(_marks(conn, len(frame.columns)))
    for batch in _batches(frame):
        cursor.executemany(
            f"INSERT INTO {quote(name)} ({names}) VALUES ({marks})", _driver_values(batch, name)
        )


def _batches(frame: pd.DataFrame) -> Iterator[pd.DataFrame]:
    for start in range(0, len(frame), BATCH):
        yield frame.iloc[start : start + BATCH]


def update_frame(conn: Connection, name: str, key: str, frame: pd.DataFrame) -> None:
    """Rewrite the given columns of the rows with these keys."""
    if frame.empty:
        return
    columns = [c for c in frame.columns if c != key]
    quote = conn.dialect.identifier_preparer.quote
    marks = _marks(conn, len(columns) + 1)
    assignments = ", ".join(f"{quote(c)} = {m}" for c, m in zip(columns, marks, strict=False))
    statement = f"UPDATE {quote(name)} SET {assignments} WHERE {quote(key)} = {marks[-1]}"
    conn.exec_driver_sql(statement, _driver_values(frame[[*columns, key]], name))


def _marks(conn: Connection, n: int) -> list[str]:
    return ["?" if conn.dialect.paramstyle == "qmark" else "%s"] * n


def insert_issues(conn: Connection, run_id: int, file: str, issues: Iterable[Finding]) -> None:
    rows = [issue.as_row(run_id, file) for issue in issues]
    if rows:
        conn.execute(insert(RowIssue), rows)


def last_fingerprint(conn: Connection, name: str) -> LastLoaded | None:
    """What is known of the file last loaded into this table."""
    row = conn.execute(
        select(LoadedFile.sha256, LoadedFile.rows, LoadedFile.extracted_at)
        .where(LoadedFile.table_name == name)
        .order_by(LoadedFile.id.desc())
        .limit(1)
    ).first()
    return LastLoaded(row[0], row[1], row[2]) if row else None


@dataclass(frozen=True)
class LastLoaded:
    sha256: str
    rows: int
    extracted_at: dt.datetime | None  # None: loaded before extract dates were kept


def record_fingerprint(
    conn: Connection,
    run_id: int,
    name: str,
    file: str,
    sha256: str,
    rows: int,
    extracted_at: dt.datetime | None = None,
) -> None:
    conn.execute(
        insert(LoadedFile).values(
            run_id=run_id,
            table_name=name,
            file=file,
            sha256=sha256,
            rows=rows,
            extracted_at=extracted_at,
        )
    )


ANALYZE_AFTER = 1_000  # rows written to a table before its planner statistics are refreshed


def refresh_statistics(conn: Connection, name: str, rows_written: int) -> None:
    """After a bulk write, PostgreSQL's planner needs fresh statistics to keep choosing the
    change indexes (autovacuum would get there, but maybe not before tonight's run). SQLite's
    planner already prefers them."""
    if conn.dialect.name == "postgresql" and rows_written >= ANALYZE_AFTER:
        conn.exec_driver_sql(f"ANALYZE {conn.dialect.identifier_preparer.quote(name)}")
