"""Read one extract CSV into raw text columns, or fail with a one-line reason.

Encoding: UTF-8 (with or without BOM), else GB18030 (a superset of GBK), unless one is given.
Every value stays text here; `validate.py` parses it. Each row gets its line number and a
64-bit hash of its raw text, which is how an unchanged row is recognised on the next load.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from proactive import reasons
from proactive.errors import ExtractFileError
from proactive.extract_spec import FileSpec
from proactive.validate import REJECTED, Issue

AUTO_ENCODINGS = ("utf-8-sig", "gb18030")
_DELIMITERS = (";", "\t", "|")


@dataclass
class RawFile:
    frame: pd.DataFrame
    encoding: str
    issues: list[Issue] = field(default_factory=list)


def read_extract_file(
    path: Path,
    spec: FileSpec,
    encoding: str | None = None,
    column_map: Mapping[str, str] | None = None,
) -> RawFile:
    if path.stat().st_size == 0 or not path.read_bytes()[:4096].strip():
        raise ExtractFileError(path.name, "file is empty")
    last_error: UnicodeDecodeError | None = None
    for candidate in (encoding,) if encoding else AUTO_ENCODINGS:
        try:
            raw = _parse(path, spec, _python_codec(candidate), column_map or {})
        except UnicodeDecodeError as error:
            last_error = error
            continue
        except LookupError as error:
            raise ExtractFileError(path.name, f"unknown encoding {candidate!r}") from error
        raw.encoding = "utf-8" if candidate == "utf-8-sig" else candidate
        return raw
    assert last_error is not None
    tried = " or ".join((encoding and [encoding]) or ["UTF-8", "GB18030"])
    raise ExtractFileError(
        path.name, f"cannot be decoded as {tried} (bad byte at offset {last_error.start})"
    ) from last_error


def _python_codec(encoding: str) -> str:
    return "utf-8-sig" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else encoding


def _parse(path: Path, spec: FileSpec, encoding: str, column_map: Mapping[str, str]) -> RawFile:
    header = _read_header(path, encoding)
    names = [column_map.get(name.strip(), name.strip()) for name in header]
    _check_columns(path.name, names, spec)
    read_kwargs = {
        "dtype": str,
        "keep_default_na": False,
        "encoding": encoding,
        "encoding_errors": "strict",
        "header": 0,
        "names": names,
    }
    issues: list[Issue] = []
    try:
        frame = pd.read_csv(path, **read_kwargs)  # type: ignore[call-overload]  # kwargs typed loosely
        frame["_line"] = np.arange(2, len(frame) + 2)
    except pd.errors.ParserError:
        frame, issues = _read_tolerant(path, encoding, names, spec)
    if frame.empty and spec.required:
        raise ExtractFileError(path.name, "has a header but no rows")
    columns = [c.name for c in spec.columns if c.name in frame.columns]
    frame = frame[[*columns, "_line"]].fillna("")
    frame["_hash"] = (
        pd.util.hash_pandas_object(frame[columns], index=False).to_numpy().view(np.int64)
    )
    return RawFile(frame, encoding, issues)


def _read_header(path: Path, encoding: str) -> list[str]:
    with path.open(encoding=encoding, errors="strict", newline="") as handle:
        first = handle.readline()
    return next(csv.reader([first]), [])


def _check_columns(file: str, names: list[str], spec: FileSpec) -> None:
    missing = [c for c in spec.required_columns if c not in names]
    if not missing:
        return
    if len(names) == 1:
        for delimiter in _DELIMITERS:
            if delimiter in names[0]:
                raise ExtractFileError(file, f"wrong delimiter: found {delimiter!r}, expected ','")
    raise ExtractFileError(file, f"missing required column(s): {', '.join(missing)}")


def _read_tolerant(
    path: Path, encoding: str, names: list[str], spec: FileSpec
) -> tuple[pd.DataFrame, list[Issue]]:
    """The slow path, taken only when some row has too many fields: keep the good rows and
    quarantine the others with their line numbers."""
    rows: list[list[str]] = []
    lines: list[int] = []
    issues: list[Issue] = []
    text = path.read_text(encoding=encoding, errors="strict")
    reader = csv.reader(io.StringIO(text, newline=""))
    next(reader, None)
    start = reader.line_num + 1
    for record in reader:
        if len(record) == len(names):
            rows.append(record)
            lines.append(start)
        elif any(value.strip() for value in record):
            key = (
                record[names.index(spec.key)]
                if spec.key in names and len(record) > names.index(spec.key)
                else ""
            )
            issues.append(
                Issue(
                    start, "", reasons.BAD_FIELD_COUNT, REJECTED, key, {"fields": ",".join(record)}
                )
            )
        start = reader.line_num + 1
    frame = pd.DataFrame(rows, columns=names, dtype=str)
    frame["_line"] = lines
    return frame, issues
