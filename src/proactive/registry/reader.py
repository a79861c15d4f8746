"""Read one extract CSV into raw text columns, or fail with a one-line reason.

Encoding: UTF-8 (with or without BOM), else GB18030 (a superset of GBK), unless one is given.
Every value stays text here; `validate.py` parses it. Each row gets its line number and a
64-bit hash of its raw text, which is how an unchanged row is recognised on the next load.

The fast path is pyarrow's CSV reader; a file it cannot take whole (a row with the wrong
number of fields, a quoted line break, blank lines) goes through Python's csv module instead,
which keeps exact line numbers and quarantines the malformed rows.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from proactive.errors import ExtractFileError
from proactive.registry import reasons
from proactive.registry.extract_format import FileSpec
from proactive.registry.validate import REJECTED, Finding

AUTO_ENCODINGS = ("utf-8", "gb18030")
_DELIMITERS = (";", "\t", "|")
_SEPARATOR = pa.scalar("\x1f", pa.large_string())
_LINE_END = re.compile(rb"[\r\n]")
HASH_BATCH = 100_000


@dataclass(frozen=True)
class ExtractFile:
    """The bytes of one extract file, as found."""

    path: Path
    data: bytes

    @classmethod
    def open(cls, path: Path) -> ExtractFile:
        return cls(path, path.read_bytes())

    def fingerprint(self, *options: object) -> str:
        digest = hashlib.sha256(self.data)
        digest.update(repr(options).encode())
        return digest.hexdigest()


@dataclass
class RawFile:
    frame: pd.DataFrame
    encoding: str
    issues: list[Finding] = field(default_factory=list)


def read_extract_file(
    source: ExtractFile,
    spec: FileSpec,
    encoding: str | None = None,
    column_map: Mapping[str, str] | None = None,
) -> RawFile:
    name = source.path.name
    if not source.data[:4096].strip():
        raise ExtractFileError(name, "file is empty")
    for candidate in (encoding,) if encoding else AUTO_ENCODINGS:
        raw = _parse(source, spec, _codec(name, candidate), column_map or {})
        if raw is not None:
            return raw
    tried = encoding or "UTF-8 or GB18030"
    offset = _bad_offset(source.data, _codec(name, encoding or "gb18030"))
    raise ExtractFileError(name, f"cannot be decoded as {tried} (bad byte at offset {offset})")


def _codec(name: str, encoding: str) -> str:
    normal = encoding.lower().replace("_", "-")
    try:
        codecs.lookup(normal)
    except LookupError as error:
        raise ExtractFileError(name, f"unknown encoding {encoding!r}") from error
    return "utf-8-sig" if normal in ("utf-8", "utf8") else normal


def _bad_offset(data: bytes, codec: str) -> int:
    try:
        data.decode(codec)
    except UnicodeDecodeError as error:
        return error.start
    return -1


def _parse(
    source: ExtractFile, spec: FileSpec, codec: str, column_map: Mapping[str, str]
) -> RawFile | None:
    """The file read with this codec; None when its bytes are not in that encoding."""
    file = source.path.name
    try:
        first_line = _first_line(source.data).decode(codec)
    except UnicodeDecodeError:
        return None
    names = _names(file, next(csv.reader([first_line]), []), spec, column_map)
    issues: list[Finding] = []
    try:
        frame = _read_fast(source.data, codec, names)
    except UnicodeDecodeError:
        return None
    if frame is None:
        try:
            text = source.data.decode(codec)
        except UnicodeDecodeError:
            return None
        frame, issues = _read_tolerant(file, text, spec, column_map)
    if frame.empty and spec.required:
        raise ExtractFileError(file, "has a header but no rows")
    columns = [c.name for c in spec.columns if c.name in frame.columns]
    frame = frame[[*columns, "_line"]].fillna("")
    frame["_hash"] = row_hashes(frame[columns])
    encoding = "utf-8" if codec == "utf-8-sig" else codec
    return RawFile(frame, encoding, issues)


def _first_line(data: bytes) -> bytes:
    end = _LINE_END.search(data)
    return data[: end.start()] if end else data


def _names(
    file: str, header: list[str], spec: FileSpec, column_map: Mapping[str, str]
) -> list[str]:
    """The header's column names, mapped; the file is refused when a column it needs is
    missing or named twice (which of the two would be meant?)."""
    names = [column_map.get(name.strip(), name.strip()) for name in header]
    _check_columns(file, names, spec)
    wanted = {c.name for c in spec.columns}
    twice = sorted({n for n in names if n in wanted and names.count(n) > 1})
    if twice:
        raise ExtractFileError(file, f"column named twice in the header: {', '.join(twice)}")
    return names


def _read_fast(data: bytes, codec: str, names: list[str]) -> pd.DataFrame | None:
    """pyarrow's reader, when every line is one row; None when the slow path is needed
    (malformed rows, or bytes that are not UTF-8: pyarrow reports both as parser errors)."""
    try:
        frame = pd.read_csv(
            io.BytesIO(data),
            engine="pyarrow",
            dtype=str,
            keep_default_na=False,
            encoding="utf-8" if codec == "utf-8-sig" else codec,  # pyarrow skips a BOM itself
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, pa.ArrowInvalid):
        return None
    if _line_count(data) != len(frame) + 1 or len(frame.columns) != len(names):
        return None  # blank lines, line breaks inside quotes, a header pyarrow read otherwise
    frame.columns = pd.Index(names)
    frame["_line"] = np.arange(2, len(frame) + 2)
    return frame


def _line_count(data: bytes) -> int:
    """Lines ended by LF, CRLF or a lone CR (classic Mac), the last one unterminated or not."""
    ends = data.count(b"\n") + data.count(b"\r") - data.count(b"\r\n")
    return ends + (0 if data.endswith((b"\n", b"\r")) else 1)


def row_hashes(frame: pd.DataFrame) -> np.ndarray:
    """A 64-bit hash of each row's raw text (SipHash, as pandas hashes)."""
    hashes = np.zeros(len(frame), dtype=np.uint64)
    for start in range(0, len(frame), HASH_BATCH):
        part = frame.iloc[start : start + HASH_BATCH]
        columns = [pa.array(part[c], type=pa.large_string()) for c in part.columns]
        joined = pc.binary_join_element_wise(*columns, _SEPARATOR).to_numpy(zero_copy_only=False)
        hashes[start : start + len(part)] = pd.util.hash_array(joined, categorize=False)
    return hashes.view(np.int64)


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
    file: str, text: str, spec: FileSpec, column_map: Mapping[str, str]
) -> tuple[pd.DataFrame, list[Finding]]:
    """Python's csv module: keeps the good rows with their exact line numbers and quarantines
    rows with the wrong number of fields. Any field size is read (a row with a huge value is
    quarantined later, by its column's length limit)."""
    rows: list[list[str]] = []
    lines: list[int] = []
    issues: list[Finding] = []
    reader = csv.reader(io.StringIO(text, newline=""))
    with _field_size_limit(len(text) + 1):
        try:
            names = _names(file, next(reader, []), spec, column_map)
            start = reader.line_num + 1
            key_at = names.index(spec.key) if spec.key in names else -1
            for record in reader:
                if len(record) == len(names):
                    rows.append(record)
                    lines.append(start)
                elif any(value.strip() for value in record):
                    key = record[key_at] if 0 <= key_at < len(record) else ""
                    raw = {"fields": ",".join(record)}
                    issues.append(Finding(start, "", reasons.BAD_FIELD_COUNT, REJECTED, key, raw))
                start = reader.line_num + 1
        except csv.Error as error:
            raise ExtractFileError(file, f"line {reader.line_num}: {error}") from error
    frame = pd.DataFrame(rows, columns=names, dtype=str)
    frame["_line"] = lines
    return frame, issues


@contextmanager
def _field_size_limit(limit: int) -> Iterator[None]:
    """The csv module's field size limit (128 KiB by default), raised for one read."""
    previous = csv.field_size_limit(max(limit, csv.field_size_limit()))
    try:
        yield
    finally:
        csv.field_size_limit(previous)
