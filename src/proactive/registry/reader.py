"""Read one extract CSV a chunk of rows at a time, as raw text columns, or fail with a
one-line reason.

Encoding: UTF-8 (with or without BOM), else GB18030 (a superset of GBK), unless one is given.
Every value stays text here; `validate.py` parses it. Each row keeps its line number in the
file; `with_hashes` adds a 64-bit hash of its raw text, which is how an unchanged row is
recognised on the next load.

Memory follows the chunk, not the file: the bytes of `rows` lines and their frame. A chunk
whose every line is one row goes through pyarrow's CSV reader; from the first chunk that is not
(a row with the wrong number of fields, a quoted line break, blank lines), the rest of the file
streams through Python's csv module, which keeps exact line numbers (a quoted line break may
straddle two chunks) and quarantines the malformed rows. A file of classic Mac line ends (CR
only) is one chunk.
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
from itertools import islice
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from proactive.errors import ExtractFileError
from proactive.registry import reasons
from proactive.registry.extract_format import FileSpec
from proactive.registry.validate import REJECTED, Finding

AUTO_ENCODINGS = ("utf-8", "gb18030")
CHUNK_ROWS = 100_000  # rows read, checked and written at a time
BLOCK = 1 << 20  # bytes read at a time when hashing or decoding a whole file
_DELIMITERS = (";", "\t", "|")
_SEPARATOR = pa.scalar("\x1f", pa.large_string())
_LINE_END = re.compile(rb"[\r\n]")
HASH_BATCH = 100_000


class WrongEncoding(Exception):
    """The file's bytes are not in the encoding tried."""


@dataclass(frozen=True)
class ExtractFile:
    """One extract file, read as a stream each time it is needed (or bytes held, in tests)."""

    path: Path
    data: bytes | None = None

    @property
    def name(self) -> str:
        return self.path.name

    def stream(self) -> BinaryIO:
        return io.BytesIO(self.data) if self.data is not None else self.path.open("rb")

    def size(self) -> int:
        return len(self.data) if self.data is not None else self.path.stat().st_size

    def fingerprint(self, *options: object) -> str:
        """sha256 of the bytes and the options they are read with, a block at a time."""
        digest = hashlib.sha256()
        with self.stream() as stream:
            for block in iter(lambda: stream.read(BLOCK), b""):
                digest.update(block)
        digest.update(repr(options).encode())
        return digest.hexdigest()


@dataclass
class RawFile:
    """Rows of a file (all of them, or one chunk): text columns and `_line`."""

    frame: pd.DataFrame
    encoding: str
    issues: list[Finding] = field(default_factory=list)


def read_extract_file(
    source: ExtractFile,
    spec: FileSpec,
    encoding: str | None = None,
    column_map: Mapping[str, str] | None = None,
    rows: int = CHUNK_ROWS,
) -> RawFile:
    """The whole file in one frame, with row hashes (small files and tests)."""
    for codec in codecs_to_try(source.name, encoding):
        try:
            parts = list(chunks(source, spec, codec, column_map or {}, rows))
        except WrongEncoding:
            continue
        frame = pd.concat([p.frame for p in parts], ignore_index=True)
        if frame.empty and spec.required:
            raise ExtractFileError(source.name, "has a header but no rows")
        issues = [issue for part in parts for issue in part.issues]
        return RawFile(with_hashes(frame, spec), parts[0].encoding, issues)
    raise undecodable(source, encoding)


def codecs_to_try(name: str, encoding: str | None) -> tuple[str, ...]:
    """The given encoding, or UTF-8 then GB18030."""
    return tuple(
        _codec(name, candidate) for candidate in ((encoding,) if encoding else AUTO_ENCODINGS)
    )


def undecodable(source: ExtractFile, encoding: str | None) -> ExtractFileError:
    """The error for a file in none of the encodings tried, naming the first bad byte."""
    tried = encoding or "UTF-8 or GB18030"
    offset = _bad_offset(source, _codec(source.name, encoding or "gb18030"))
    return ExtractFileError(
        source.name, f"cannot be decoded as {tried} (bad byte at offset {offset})"
    )


def _codec(name: str, encoding: str) -> str:
    normal = encoding.lower().replace("_", "-")
    try:
        codecs.lookup(normal)
    except LookupError as error:
        raise ExtractFileError(name, f"unknown encoding {encoding!r}") from error
    return "utf-8-sig" if normal in ("utf-8", "utf8") else normal


def _bad_offset(source: ExtractFile, codec: str) -> int:
    """Where the first byte that is not in `codec` lies, a block at a time (a character cut
    by a block's end is carried into the next)."""
    base, carry = 0, b""
    with source.stream() as stream:
        for block in iter(lambda: stream.read(BLOCK), b""):
            data = carry + block
            try:
                data.decode(codec)
            except UnicodeDecodeError as error:
                if error.start < len(data) - 4:
                    return base + error.start
                carry, base = data[error.start :], base + error.start
                continue
            carry, base = b"", base + len(data)
    try:
        carry.decode(codec)
    except UnicodeDecodeError as error:
        return base + error.start
    return -1


def chunks(
    source: ExtractFile,
    spec: FileSpec,
    codec: str,
    column_map: Mapping[str, str],
    rows: int = CHUNK_ROWS,
) -> Iterator[RawFile]:
    """The file's rows read with this codec, `rows` at a time; WrongEncoding (raised at any
    chunk) when its bytes are not in that encoding."""
    file = source.name
    encoding = "utf-8" if codec == "utf-8-sig" else codec
    with source.stream() as stream:
        if not stream.read(4096).strip():
            raise ExtractFileError(file, "file is empty")
        stream.seek(0)
        header = _first_line(stream.readline())
        try:
            names = _names(file, next(csv.reader([header.decode(codec)]), []), spec, column_map)
        except UnicodeDecodeError as error:
            raise WrongEncoding from error
        stream.seek(0)
        offset, line, prefix = 0, 1, b""
        while True:
            body = b"".join(islice(stream, rows + (0 if offset else 1)))
            if offset and not body:
                return
            frame = _read_fast(prefix + body, codec, names)
            if frame is None:
                stream.seek(offset)
                known = names if offset else None
                yield from _read_tolerant(
                    source, stream, codec, known, spec, column_map, line - 1, rows
                )
                return
            frame["_line"] = np.arange(len(frame)) + (line if offset else 2)
            yield RawFile(_selected(frame, spec), encoding)
            offset, line, prefix = offset + len(body), line + _line_count(body), header + b"\n"


def _selected(frame: pd.DataFrame, spec: FileSpec) -> pd.DataFrame:
    columns = [c.name for c in spec.columns if c.name in frame.columns]
    return frame[[*columns, "_line"]].fillna("")


def with_hashes(frame: pd.DataFrame, spec: FileSpec) -> pd.DataFrame:
    """The frame with `_hash`, the hash of each row's raw text."""
    columns = [c.name for c in spec.columns if c.name in frame.columns]
    return frame.assign(_hash=row_hashes(frame[columns]))


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
    (malformed rows, or bytes not in the encoding: pyarrow reports both as parser errors)."""
    try:
        frame = pd.read_csv(
            io.BytesIO(data),
            engine="pyarrow",
            dtype=str,
            keep_default_na=False,
            encoding="utf-8" if codec == "utf-8-sig" else codec,  # pyarrow skips a BOM itself
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, pa.ArrowInvalid, UnicodeError):
        return None
    if _line_count(data) != len(frame) + 1 or len(frame.columns) != len(names):
        return None  # blank lines, line breaks inside quotes, a header pyarrow read otherwise
    frame.columns = pd.Index(names)
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
    source: ExtractFile,
    stream: BinaryIO,
    codec: str,
    names: list[str] | None,
    spec: FileSpec,
    column_map: Mapping[str, str],
    before: int,
    rows: int,
) -> Iterator[RawFile]:
    """Python's csv module from where `stream` stands (`before` lines into the file; at the
    header when `names` is None): keeps the good rows with their exact line numbers and
    quarantines rows with the wrong number of fields. Any field size is read (a row with a
    huge value is quarantined later, by its column's length limit)."""
    file = source.name
    encoding = "utf-8" if codec == "utf-8-sig" else codec
    good: list[list[str]] = []
    lines: list[int] = []
    issues: list[Finding] = []
    yielded = False
    text = io.TextIOWrapper(stream, encoding=codec, newline="")  # closes the stream with it
    with text, _field_size_limit(source.size() + 1):
        reader = csv.reader(text)
        try:
            if names is None:
                names = _names(file, next(reader, []), spec, column_map)
            start = before + reader.line_num + 1
            key_at = names.index(spec.key) if spec.key in names else -1
            for record in reader:
                if len(record) == len(names):
                    good.append(record)
                    lines.append(start)
                elif record and any(value.strip() for value in record):
                    key = record[key_at] if 0 <= key_at < len(record) else ""
                    raw = {"fields": ",".join(record)}
                    issues.append(Finding(start, "", reasons.BAD_FIELD_COUNT, REJECTED, key, raw))
                start = before + reader.line_num + 1
                if len(good) == rows:
                    yield RawFile(_frame(good, names, lines, spec), encoding, issues)
                    good, lines, issues, yielded = [], [], [], True
        except csv.Error as error:
            raise ExtractFileError(file, f"line {before + reader.line_num}: {error}") from error
        except UnicodeDecodeError as error:
            raise WrongEncoding from error
    if good or issues or not yielded:
        yield RawFile(_frame(good, names, lines, spec), encoding, issues)


def _frame(
    rows: list[list[str]], names: list[str], lines: list[int], spec: FileSpec
) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=names, dtype=str)
    frame["_line"] = lines
    return _selected(frame, spec)


@contextmanager
def _field_size_limit(limit: int) -> Iterator[None]:
    """The csv module's field size limit (128 KiB by default), raised for one read."""
    previous = csv.field_size_limit(max(limit, csv.field_size_limit()))
    try:
        yield
    finally:
        csv.field_size_limit(previous)
