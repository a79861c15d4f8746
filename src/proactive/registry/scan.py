"""Read one extract file in two passes of bounded memory.

The first pass (`scan`) reads every chunk to settle the encoding (UTF-8, else GB18030) and
refuse a file that cannot be read before anything is written, counts the rows and finds the
keys the file holds more than once (by their 64-bit hashes, see `duplicates`). The second
(`parts`) reads the chunks again and hands them out with future rows quarantined and every
key once: the rows of repeated keys are set aside and resolved together after the last chunk.
A file that fits in one chunk is read once.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from proactive.errors import ExtractFileError
from proactive.registry import duplicates, reader, validate
from proactive.registry.extract_format import FileSpec
from proactive.registry.reader import ExtractFile, RawFile
from proactive.registry.validate import Checked, Context


@dataclass
class Scan:
    source: ExtractFile
    spec: FileSpec
    column_map: Mapping[str, str]
    chunk_rows: int
    codec: str
    encoding: str  # as reported: utf-8 or gb18030
    rows: int  # every row, malformed ones included
    repeated: np.ndarray  # sorted hashes of the keys found more than once
    only: RawFile | None  # the whole file, when it fitted in one chunk


def scan(
    source: ExtractFile,
    spec: FileSpec,
    encoding: str | None,
    column_map: Mapping[str, str],
    chunk_rows: int,
) -> Scan:
    """The first pass; ExtractFileError when the file cannot be read."""
    for codec in reader.codecs_to_try(source.name, encoding):
        try:
            return _scan(source, spec, codec, column_map, chunk_rows)
        except reader.WrongEncoding:
            continue
    raise reader.undecodable(source, encoding)


def _scan(
    source: ExtractFile, spec: FileSpec, codec: str, column_map: Mapping[str, str], size: int
) -> Scan:
    hashes: list[np.ndarray] = []
    rows = good = 0
    first: RawFile | None = None
    for number, part in enumerate(reader.chunks(source, spec, codec, column_map, size)):
        first = part if number == 0 else None
        hashes.append(duplicates.key_hashes(part.frame, spec))
        rows += len(part.frame) + len(part.issues)
        good += len(part.frame)
    if good == 0 and spec.required:
        raise ExtractFileError(source.name, "has a header but no rows")
    encoding = "utf-8" if codec == "utf-8-sig" else codec
    return Scan(
        source, spec, column_map, size, codec, encoding, rows, duplicates.repeated(hashes), first
    )


def parts(found: Scan, context: Context) -> Iterator[Checked]:
    """The second pass: chunks with row hashes, future rows quarantined, each key once; the
    issues of each part are those found so far (malformed, future, duplicate)."""
    spec = found.spec
    if found.only is not None:
        yield _whole(found.only, spec, context)
        return
    aside: list[pd.DataFrame] = []
    for raw in _chunks_again(found):
        present = validate.reject_future(reader.with_hashes(raw.frame, spec), spec, context)
        once, twice = duplicates.set_aside(present.rows, spec, found.repeated)
        if not twice.empty:
            aside.append(twice)
        yield Checked(once, raw.issues + present.issues)
    if aside:
        yield validate.resolve_duplicates(pd.concat(aside, ignore_index=True), spec)


def _whole(raw: RawFile, spec: FileSpec, context: Context) -> Checked:
    present = validate.reject_future(reader.with_hashes(raw.frame, spec), spec, context)
    deduped = validate.resolve_duplicates(present.rows, spec)
    return Checked(deduped.rows, raw.issues + present.issues + deduped.issues)


def _chunks_again(found: Scan) -> Iterator[RawFile]:
    try:
        yield from reader.chunks(
            found.source, found.spec, found.codec, found.column_map, found.chunk_rows
        )
    except reader.WrongEncoding as error:
        raise ExtractFileError(found.source.name, "changed while it was being read") from error
