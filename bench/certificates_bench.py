"""Benchmark: issuing 2,000 senior certificates, in processes of their own (one core each).

Phases, each timed in wall-clock and CPU seconds with its peak RSS:
- floor:  ReportLab alone writes a one-line PDF with the same embedded font, per certificate
          (the least any PDF route with an embedded CJK subset costs; the baseline).
- render: the certificate template rendered to PDF (Jinja2 SVG -> svglib -> ReportLab, QR).
- issue:  the issuing stage on SQLite: number, sign, render, store, move the case — for 2,000
          approved cases prepared beforehand (preparation not timed).
Target: at least 50 certificates per second per core for `issue`.

Usage: python bench/certificates_bench.py [--count 2000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import resource
import sys
import time
from pathlib import Path

from measured import run_phase

OUT = Path(__file__).resolve().parent / "out"
DAY = dt.date(2026, 11, 25)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--phase", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        print(json.dumps(PHASES[args.phase](args.count)))
        return
    results = {}
    for name in PHASES:
        result = run_phase(__file__, "--phase", name, "--count", str(args.count))
        results[name] = result
        print(
            f"{name:<7} {result['count']:>6} in {result['seconds']:>7.2f} s "
            f"(cpu {result['cpu_seconds']:.2f} s) {result['per_core']:>7.1f}/s per core "
            f"peak {result['peak_rss_mb']} MB",
            file=sys.stderr,
        )
    report(results)


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def timed(count: int, started: float, cpu_started: float) -> dict[str, object]:
    seconds = time.perf_counter() - started
    cpu_seconds = cpu() - cpu_started
    return {
        "count": count,
        "seconds": round(seconds, 3),
        "cpu_seconds": round(cpu_seconds, 3),
        "per_second": round(count / seconds, 1),
        "per_core": round(count / cpu_seconds, 1),
    }


def floor(count: int) -> dict[str, object]:
    from reportlab.pdfgen.canvas import Canvas

    from proactive.certificates.render import DEFAULT_FONT, Font, register_font

    font = Font.load(DEFAULT_FONT)
    name = register_font(font.family, font.path)
    started, cpu_started = time.perf_counter(), cpu()
    for n in range(count):
        out = io.BytesIO()
        canvas = Canvas(out, invariant=True, initialFontName=name)
        canvas.setFont(name, 12)
        canvas.drawString(
            72, 720, f"老年人优待证 王{chr(0x4E00 + n % 20000)}华 330108-2026-LN-{n:06d}"
        )
        canvas.showPage()
        canvas.save()
    return timed(count, started, cpu_started)


def render(count: int) -> dict[str, object]:
    from proactive.certificates.render import DEFAULT_FONT, CertificateView, Font, Renderer
    from proactive.settings import ROOT

    font = Font.load(DEFAULT_FONT)
    renderer = Renderer(ROOT / "templates", font)
    views = [
        CertificateView(
            certificate_no=f"330108-2026-LN-{n:06d}",
            title="老年人优待证",
            holder=f"王{chr(0x4E00 + n % 20000)}华",
            sex="男",
            birth_date=dt.date(1966, 11, 25),
            masked_id="330108********1234",
            address=f"浙江省杭州市滨江区长河街道长河路{n}号1幢1单元101室",
            issued_on=DAY,
            issuing_office="杭州市滨江区民政局",
            payload="PC1:" + f"{n:06d}" * 48,
        )
        for n in range(count)
    ]
    renderer.render("certificates/senior_certificate.svg.j2", views[0])  # warm the static cache
    started, cpu_started = time.perf_counter(), cpu()
    for view in views:
        renderer.render("certificates/senior_certificate.svg.j2", view)
    return timed(count, started, cpu_started)


def issue(count: int) -> dict[str, object]:
    from proactive import db
    from proactive.certificates import keys
    from proactive.certificates.file_store import DirectoryStore
    from proactive.certificates.issuing import Issuer, IssuingPass, issue_certificates
    from proactive.certificates.render import DEFAULT_FONT, Font, Renderer
    from proactive.demo.synth import SynthOptions, write_extract
    from proactive.nightly.run import RunOptions, run_nightly
    from proactive.programs.catalog import load_catalog
    from proactive.registry.ingest import ingest
    from proactive.settings import ROOT

    work = OUT / "certificates"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{work}.db{suffix}").unlink(missing_ok=True)
    extract = work / "extract"
    write_extract(
        extract,
        SynthOptions(residents=count * 2, as_of=DAY, turning_60=count, bad_rows=False),
    )
    engine = db.make_engine(f"sqlite:///{work}.db")
    db.upgrade(engine)
    clock = lambda: dt.datetime.now(dt.UTC)  # noqa: E731
    ingest(engine, extract, clock)
    programs = load_catalog(ROOT / "jobs")
    senior = {"senior_certificate": programs["senior_certificate"]}
    run_nightly(engine, senior, RunOptions(as_of=DAY), clock, "330108")  # approves, no issuing
    if not (work / "keys" / keys.PRIVATE_FILE).exists():
        keys.init(work / "keys")
    font = Font.load(DEFAULT_FONT)
    issuer = Issuer(
        district="330108",
        key=keys.signing_key(work / "keys"),
        renderer=Renderer(ROOT / "templates", font),
        glyphs=font,
        store=DirectoryStore(work / "pdf"),
    )
    started, cpu_started = time.perf_counter(), cpu()
    counts = issue_certificates(engine, senior, issuer, IssuingPass(DAY, "bench", clock()))
    issued = counts["issued:senior_certificate"]
    return {**timed(issued, started, cpu_started), "counts": dict(counts)}


PHASES = {"floor": floor, "render": render, "issue": issue}


def report(results: dict[str, dict[str, object]]) -> None:
    floor_rate = float(results["floor"]["per_core"])  # type: ignore[arg-type]
    lines = [
        "| phase | certificates | wall s | CPU s | per second per core | ÷ floor | peak RSS |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, r in results.items():
        per_core = float(r["per_core"])  # type: ignore[arg-type]
        lines.append(
            f"| {name} | {r['count']:,} | {r['seconds']} | {r['cpu_seconds']} | {per_core:.1f} | "
            f"{floor_rate / per_core:.1f}× | {r['peak_rss_mb']} MB |"
        )
    print("\n".join(lines))
    (OUT / "certificates-results.json").write_text(json.dumps(results, indent=2), "utf-8")


if __name__ == "__main__":
    main()
