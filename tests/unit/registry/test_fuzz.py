"""Property-based fuzzing of the reader and the validators (hypothesis): random bytes and
random CSV-shaped text, for every file of an extract. The only outcomes allowed are rows
loaded, rows quarantined with a reason, or the file refused with a one-line ExtractFileError.

CI runs a bounded, derandomised number of examples; `PROACTIVE_FUZZ_EXAMPLES=100000` (with
`-p no:randomly --hypothesis-seed=N`) runs a long campaign.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import re
from pathlib import Path

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import String

from proactive.errors import ExtractFileError
from proactive.models import Base
from proactive.registry import reasons, validate
from proactive.registry.extract_format import ALL, FileSpec
from proactive.registry.reader import ExtractFile, RawFile, read_extract_file
from proactive.registry.validate import REJECTED, WARNING, Context, Finding
from tests.factories import household, make_id, permit, person, site, worker

EXAMPLES = int(os.environ.get("PROACTIVE_FUZZ_EXAMPLES", "0"))
FUZZ = settings(
    max_examples=EXAMPLES or 60,
    derandomize=not EXAMPLES,  # CI: the same examples every run
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
NOW = dt.datetime(2026, 11, 24, 18, 0, tzinfo=dt.UTC)
REASONS = {r for r in vars(reasons).values() if isinstance(r, reasons.Reason)}
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
VALID = {
    "persons.csv": person(1),
    "households.csv": household("HH1"),
    "residence_permits.csv": permit(1),
    "certificates_issued.csv": {
        "id_number": make_id(),
        "program": "senior_certificate",
        "certificate_no": "330108-2026-LN-000001",
        "issued_on": "2026-01-05",
    },
    "sites.csv": site("C1", "community", "330108002001", 30.19, 120.2),
    "social_workers.csv": worker("W1", "C1"),
}
HOSTILE = [
    "",
    " ",
    "\x00",
    "王\x00芳",
    "\x07\x1b[2J",
    "=cmd|' /C calc'!A0",
    "+SUM(1,2)",
    "-1",
    "@SUM(1)",
    "\t=1+1",
    '"',
    '""',
    ",",
    "a,b",
    "\r",
    "\n",
    "\r\n",
    "x" * 300,
    "王" * 51,
    "２０",
    "٢٠",
    "Ｃ１",
    make_id(order=5).translate(str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")),
    make_id(order=7)[:15],
    "330108661125123",
    "2100-01-01",
    "2100-01-01 00:00:00",
    "2026-11-26 01:00",
    "0001-01-01",
    "1899-12-31",
    "9999-12-31",
    "2026-02-30",
    "１９６６-１１-２５",
    "deceased",
    "moved_out",
    "男",
    "女",
    "13800138000",
    "NaN",
    "null",
    "inf",
    "1e309",
    "-0",
    "999999999",
    "9999999999",
    "\ufeff",
    "\u3000",
    "𠮷",
    "\u202e",
    "ﷺ" * 10,
]
KEYS = [make_id(order=k) for k in (1, 3, 5)] + ["HH1", "HH2", "C1", "W1", "330108-2026-LN-000001"]


def field(valid: str) -> st.SearchStrategy[str]:
    return st.one_of(
        st.just(valid),
        st.sampled_from(HOSTILE),
        st.sampled_from(KEYS),
        st.text(max_size=24),
    )


@st.composite
def csv_text(draw: st.DrawFn, spec: FileSpec) -> bytes:
    """A file shaped like the spec's CSV: its header (maybe altered), rows of plausible,
    hostile and random fields, any quoting, any line ending, any of the accepted encodings."""
    valid = VALID[spec.file]
    header = list(valid)
    if draw(st.booleans()):
        header = draw(st.permutations(header))
    if draw(st.integers(0, 9)) == 0:
        header.append(draw(st.sampled_from([*header, "备注", ""])))
    rows = []
    for _ in range(draw(st.integers(0, 6))):
        row = [draw(field(valid.get(name, ""))) for name in header]
        if draw(st.integers(0, 9)) == 0:
            row = row[: draw(st.integers(0, len(row)))] + draw(st.lists(st.text(max_size=5)))
        rows.append(row)
    ending = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    buffer = io.StringIO()
    quoting = draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL, None]))
    if quoting is None:  # naive writers: no quoting at all
        buffer.write(ending.join(",".join(r) for r in [header, *rows]))
    else:
        csv.writer(buffer, quoting=quoting, lineterminator=ending).writerows([header, *rows])
    text = buffer.getvalue()
    if draw(st.booleans()):
        text = text.rstrip("\r\n")
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "gb18030"]))
    return text.encode(encoding)


@st.composite
def random_bytes(draw: st.DrawFn, spec: FileSpec) -> bytes:
    """Noise, alone or after the spec's real header."""
    prefix = draw(st.sampled_from([b"", ",".join(VALID[spec.file]).encode() + b"\n"]))
    return prefix + draw(st.binary(max_size=400))


SPECS = st.sampled_from(ALL)


def read(spec: FileSpec, data: bytes) -> RawFile | None:
    """The reader's verdict: a RawFile, or None for a one-line refusal."""
    try:
        return read_extract_file(ExtractFile(Path(spec.file), data), spec)
    except ExtractFileError as error:
        assert "\n" not in str(error) and error.file == spec.file
        return None


def judge(raw: RawFile, spec: FileSpec) -> None:
    """Run the validators as ingest does and check what they claim."""
    context = Context(NOW, sites=frozenset({"C1"}), households=frozenset({"HH1"}))
    future = validate.reject_future(raw.frame, spec, context)
    deduped = validate.resolve_duplicates(future.rows, spec)
    checked = validate.normalise(deduped.rows, spec, context)
    findings = raw.issues + future.issues + deduped.issues + checked.issues
    lines = set(raw.frame["_line"]) | {f.line for f in raw.issues}
    assert all(f.reason in REASONS and f.line in lines for f in findings)
    assert all(f.severity in (REJECTED, WARNING) for f in findings)
    accounted = set(checked.rows["_line"]) | {
        f.line
        for f in findings
        if f.severity == REJECTED or f.reason in (reasons.SUPERSEDED, reasons.DUPLICATE_ROW)
    }
    assert set(raw.frame["_line"]) <= accounted  # no row silently lost
    assert_storable(checked.rows, spec)
    assert_storable_issues(findings)


def assert_storable(rows: pd.DataFrame, spec: FileSpec) -> None:
    """What would be written fits the table: keys unique, NOT NULL columns filled, text within
    its column's length, no control character (PostgreSQL refuses NUL)."""
    table = Base.metadata.tables[spec.table]
    assert not rows[spec.key].duplicated().any()
    for name in rows.columns:
        if name not in table.c:
            continue
        column, values = table.c[name], rows[name]
        if not column.nullable and column.default is None:
            assert values.notna().all(), name
        text = [v for v in values if isinstance(v, str)]
        assert not any(CONTROL.search(v) for v in text), name
        if isinstance(column.type, String) and column.type.length:
            assert all(len(v) <= column.type.length for v in text), name


def assert_storable_issues(findings: list[Finding]) -> None:
    for finding in findings:
        row = finding.as_row(1, "x.csv")
        assert not any(isinstance(v, str) and "\x00" in v for v in row.values())
        assert len(row["record_key"]) <= validate.CLIP + 20


@FUZZ
@given(st.data())
def test_csv_shaped_text_is_loaded_quarantined_or_refused(data: st.DataObject) -> None:
    spec = data.draw(SPECS)
    raw = read(spec, data.draw(csv_text(spec)))
    if raw is not None:
        judge(raw, spec)


@FUZZ
@given(st.data())
def test_random_bytes_are_loaded_quarantined_or_refused(data: st.DataObject) -> None:
    spec = data.draw(SPECS)
    raw = read(spec, data.draw(random_bytes(spec)))
    if raw is not None:
        judge(raw, spec)
