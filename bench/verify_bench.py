"""Benchmark: `certificates verify` of hostile files, each in a process of its own.

For every kind of file in proactive.testing.hostile_pdfs (empty, truncated, not a PDF, 150 MB,
decompression bombs, too many pages or images) and a genuine certificate: the outcome, the
seconds the whole verification takes (read the QR from the file, check the signature offline)
and the peak RSS of the process. Target: every hostile file `unreadable` within a second.

Usage: python bench/verify_bench.py
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from measured import run_phase


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--phase", help=argparse.SUPPRESS)
    parser.add_argument("--file", help=argparse.SUPPRESS)
    parser.add_argument("--keys", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        print(json.dumps(verify_once(Path(args.file), Path(args.keys))))
        return
    with tempfile.TemporaryDirectory() as scratch:
        files, key_dir = prepare(Path(scratch))
        print("| file | size | outcome | seconds | peak RSS |\n|---|---:|---|---:|---:|")
        for kind, path in files.items():
            result = run_phase(
                __file__, "--phase", "verify", "--file", str(path), "--keys", str(key_dir)
            )
            print(
                f"| {kind} | {path.stat().st_size:,} B | {result['code']} | "
                f"{result['seconds']:.3f} | {result['peak_rss_mb']} MB |"
            )


def prepare(scratch: Path) -> tuple[dict[str, Path], Path]:
    import datetime as dt

    from proactive.certificates import keys, signing
    from proactive.certificates.render import DEFAULT_FONT, CertificateView, Font, Renderer
    from proactive.settings import ROOT
    from proactive.testing.hostile_pdfs import write_hostile_files

    key_dir = scratch / "keys"
    keys.init(key_dir)
    key = keys.signing_key(key_dir)
    day = dt.date(2026, 11, 25)
    claims = signing.CertificateClaims(
        "330108-2026-LN-000001", "senior_certificate", "张㛃华", "330108********1234", day, "330108"
    )
    payload = signing.sign(
        claims, key.private_raw, key.public_raw, key.kid, dt.datetime(2026, 11, 25, tzinfo=dt.UTC)
    )
    view = CertificateView(
        claims.certificate_no,
        "老年人优待证",
        claims.holder,
        "女",
        dt.date(1966, 11, 25),
        claims.masked_id,
        "浙江省杭州市滨江区西兴街道江汉路1785号",
        day,
        "杭州市滨江区民政局",
        payload,
    )
    genuine = Renderer(ROOT / "templates", Font.load(DEFAULT_FONT)).render(
        "certificates/senior_certificate.svg.j2", view
    )
    (scratch / "genuine.pdf").write_bytes(genuine)
    files = {"genuine": scratch / "genuine.pdf"} | write_hostile_files(scratch / "hostile", genuine)
    return files, key_dir


def verify_once(path: Path, key_dir: Path) -> dict[str, object]:
    from proactive.certificates import keys
    from proactive.certificates.issued import verify

    public = keys.public_keys(key_dir)
    started = time.perf_counter()
    result = verify(str(path), public, None)
    return {"code": result.code, "seconds": round(time.perf_counter() - started, 4)}


if __name__ == "__main__":
    sys.exit(main())
