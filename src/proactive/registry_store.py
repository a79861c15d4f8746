"""Reads and writes of the registry tables, in bulk, on an open connection."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Table, bindparam, func, insert, select, update

from proactive.models import Base, RowIssue
from proactive.validate import Issue

CHUNK = 900  # keys per IN (...) query: under every backend's bound-parameter limit


def table(name: str) -> Table:
    return Base.metadata.tables[name]


def known_hashes(conn: Connection, name: str) -> np.ndarray:
    hashes = conn.execute(select(table(name).c.row_hash)).scalars().all()
    return np.fromiter(hashes, dtype=np.int64, count=len(hashes))


def known_keys(conn: Connection, name: str, key: str) -> frozenset[str]:
    return frozenset(conn.execute(select(table(name).c[key])).scalars())


def count(conn: Connection, name: str) -> int:
    return int(conn.execute(select(func.count()).select_from(table(name))).scalar_one())


def existing_rows(conn: Connection, name: str, key: str, keys: Sequence[str]) -> pd.DataFrame:
    t = table(name)
    frames = [
        pd.DataFrame(
            conn.execute(select(t).where(t.c[key].in_(chunk))).mappings().all(),
            columns=list(t.c.keys()),
        )
        for chunk in _chunks(keys, CHUNK)
    ]
    if not frames:
        return pd.DataFrame(columns=list(t.c.keys()))
    return pd.concat(frames, ignore_index=True)


def insert_rows(conn: Connection, name: str, rows: list[dict[str, Any]]) -> None:
    if rows:
        conn.execute(insert(table(name)), rows)


def update_rows(conn: Connection, name: str, key: str, rows: list[dict[str, Any]]) -> None:
    """Rewrite whole rows by key. Bound names carry a prefix so the key can be both matched
    and (in principle) set."""
    if not rows:
        return
    t = table(name)
    columns = [c for c in rows[0] if c != key]
    statement = (
        update(t)
        .where(t.c[key] == bindparam("b_" + key))
        .values({c: bindparam("b_" + c) for c in columns})
    )
    conn.execute(statement, [{"b_" + k: v for k, v in row.items()} for row in rows])


def insert_issues(conn: Connection, run_id: int, file: str, issues: Iterable[Issue]) -> None:
    rows = [issue.as_row(run_id, file) for issue in issues]
    if rows:
        conn.execute(insert(RowIssue), rows)


def _chunks(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
