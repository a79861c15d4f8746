"""Duplicate keys across the chunks of a file. Pure: frames and arrays in and out.

A first pass keeps only a 64-bit hash of each row's key (8 bytes a row: 80 MB for 10 million
rows) and finds the hashes seen more than once; the second pass sets the rows of those keys
aside and resolves them together, after the last chunk, with `validate.resolve_duplicates`.
Two distinct keys whose hashes collide are both set aside and then kept apart by that exact
rule: harmless. A file made mostly of duplicates holds those rows in memory.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from proactive.registry.extract_format import FileSpec
from proactive.registry.validate import row_key


def key_hashes(raw: pd.DataFrame, spec: FileSpec) -> np.ndarray:
    """The hash of each row's key as it will be stored (rows without a key left out)."""
    keys = row_key(raw, spec)
    hashes = _hashes(keys)
    return hashes[(keys != "").to_numpy()]


def repeated(hashes: list[np.ndarray]) -> np.ndarray:
    """The hashes found more than once, sorted (the list is emptied as it is merged)."""
    every = np.concatenate(hashes) if hashes else np.empty(0, dtype=np.uint64)
    hashes.clear()
    every.sort()
    return np.unique(every[1:][every[1:] == every[:-1]])


def set_aside(
    raw: pd.DataFrame, spec: FileSpec, twice: np.ndarray
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(rows whose key the file holds once, rows whose key it may hold more than once)."""
    if not len(twice) or raw.empty:
        return raw, raw.iloc[:0]
    keys = row_key(raw, spec)
    aside = np.isin(_hashes(keys), twice) & (keys != "").to_numpy()
    return raw[~aside], raw[aside]


def _hashes(keys: pd.Series) -> np.ndarray:
    return np.asarray(pd.util.hash_array(keys.to_numpy(dtype=object), categorize=False))
