"""The daily task sheet: HTML in route order and escaped, an empty day, and the PDF (A4, the
font embedded, every name extractable, 𠮷 included)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import logging
import re
from pathlib import Path

import pytest
from pypdf import PdfReader

from proactive.field.sheets import (
    NO_PHONE,
    cn_day,
    km,
    notes,
    render_html,
    render_pdf,
)
from proactive.field.task_lines import TaskLine, TaskSheet

DAY = dt.date(2026, 11, 26)


def task_line(stop: int, resident: str, **changes: object) -> TaskLine:
    line = TaskLine(
        task_id=1000 + stop,
        stop=stop,
        window=f"{8 + stop // 4:02d}:{stop % 4 * 15:02d}–{9 + stop // 4:02d}:00",
        resident=resident,
        id_number=f"330108********{1000 + stop}",
        address=f"浙江省杭州市滨江区西兴街道江汉路{1700 + stop}号",
        phone=f"138****{5600 + stop}",
        program="senior_certificate",
        task="送老年人优待证",
        deliver=f"330108-2026-LN-{stop:06d}",
        status="planned",
        outside_circle=False,
        travel_minutes=9.0,
        attempt=1,
    )
    return dataclasses.replace(line, **changes)  # type: ignore[arg-type]


def task_sheet(*lines: TaskLine, worker_name: str = "李芳") -> TaskSheet:
    return TaskSheet(
        day=DAY,
        worker_id="W0012",
        worker_name=worker_name,
        site_id="S01",
        site_name="西兴街道社区服务站",
        lines=lines,
        route_metres=3240.0,
        route_minutes=48.4,
    )


# given out of order: the sheet prints them by stop
SHEET = task_sheet(
    task_line(3, "张㛃华", phone="", program="centenarian_visit", task="百岁老人走访", deliver=""),
    task_line(1, "王芳"),
    task_line(2, "𠮷祥", outside_circle=True, travel_minutes=23.4, attempt=2),
)
IN_ORDER = sorted(SHEET.lines, key=lambda line: line.stop)


def positions(text: str, needles: list[str]) -> list[int]:
    return [text.index(needle) for needle in needles]


def pdf_text(pdf: bytes) -> str:
    """All pages' text without whitespace: a number wrapped in its cell is whole again."""
    pages = PdfReader(io.BytesIO(pdf)).pages
    return "".join("".join(page.extract_text().split()) for page in pages)


@pytest.fixture(scope="module")
def pdf() -> bytes:
    return render_pdf([SHEET])


def test_html_has_every_line_in_stop_order() -> None:
    html = render_html([SHEET])
    for field in ("resident", "id_number", "window"):
        found = positions(html, [getattr(line, field) for line in IN_ORDER])
        assert found == sorted(found), field
    delivered = [line.deliver for line in IN_ORDER if line.deliver]
    assert positions(html, delivered) == sorted(positions(html, delivered))
    assert "330108********1001" in html and "𠮷祥" in html


def test_html_header_and_notes() -> None:
    html = render_html([SHEET])
    assert "社工上门任务单" in html
    assert "2026年11月26日（星期四）" in html
    assert "李芳（W0012）" in html and "西兴街道社区服务站" in html
    assert "共 3 户" in html and "3.2 公里" in html and "48 分钟" in html
    assert NO_PHONE in html and "超出15分钟圈" in html and "第2次上门" in html
    for result in ("已送达", "不在家", "拒收", "已迁出", "已故", "地址有误", "确认码", "社工签名"):
        assert result in html


def test_html_escapes_what_it_prints() -> None:
    html = render_html([task_sheet(task_line(1, "赵<b>强</b>", address="A & B"))])
    assert "赵&lt;b&gt;强&lt;/b&gt;" in html and "<b>" not in html
    assert "A &amp; B" in html


def test_an_empty_sheet_says_so() -> None:
    html = render_html([task_sheet()])
    assert "今日无任务" in html and '<table class="tasks"' not in html


def test_sheets_are_separate_pages() -> None:
    html = render_html([SHEET, task_sheet(worker_name="王强")])
    assert html.count("<h1>社工上门任务单</h1>") == 2
    assert html.count("sheet next") == 1 and "page-break-before: always" in html


def test_font_url_is_a_variable() -> None:
    assert 'url("https://example.org/cjk.ttf")' in render_html(
        [SHEET], "https://example.org/cjk.ttf"
    )
    assert 'url("file:///' in render_html([SHEET])


def test_notes_cn_day_km() -> None:
    assert notes(task_line(1, "王芳")) == []
    away = task_line(1, "王芳", outside_circle=True, travel_minutes=22.6, attempt=3)
    assert notes(away) == ["超出15分钟圈（步行约23分钟）", "第3次上门"]
    assert notes(task_line(1, "王芳", status="withdrawn"))[0].startswith("已撤回")
    assert cn_day(dt.date(2026, 11, 29)) == "2026年11月29日（星期日）"
    assert km(3249.0) == "3.2"


def test_pdf_text_names_certificate_header(pdf: bytes) -> None:
    text = pdf_text(pdf)
    assert "社工上门任务单" in text
    assert positions(text, [line.resident for line in IN_ORDER]) == sorted(
        positions(text, [line.resident for line in IN_ORDER])
    )
    assert "𠮷祥" in text  # beyond the BMP: needs the ToUnicode fix
    assert "330108-2026-LN-000001" in text and "330108********1002" in text


def test_pdf_is_a4_with_the_font_embedded(pdf: bytes) -> None:
    reader = PdfReader(io.BytesIO(pdf))
    for page in reader.pages:
        assert float(page.mediabox.width) == pytest.approx(595, abs=1)
        assert float(page.mediabox.height) == pytest.approx(842, abs=1)
        fonts = {name: font.get_object() for name, font in page["/Resources"]["/Font"].items()}
        embedded = {n for n, f in fonts.items() if "/FontFile2" in f.get("/FontDescriptor", {})}
        assert any("NotoSansCJK" in fonts[name]["/BaseFont"] for name in embedded)
        content = page.get_contents().get_data().decode("latin-1")
        for name in fonts.keys() - embedded:  # ReportLab selects Helvetica, draws nothing in it
            used = re.findall(rf"{re.escape(name)} [\d.]+ Tf", content)
            unused = re.findall(rf"BT {re.escape(name)} [\d.]+ Tf [\d.]+ TL ET", content)
            assert len(used) == len(unused), name


def test_pdf_draws_every_character(caplog: pytest.LogCaptureFixture) -> None:
    """xhtml2pdf logs a character no font can draw, a font it cannot read, a blocked file."""
    with caplog.at_level(logging.WARNING, logger="xhtml2pdf"):
        render_pdf([SHEET])
    unexpected = [r.getMessage() for r in caplog.records if "Ignoring CSS" not in r.getMessage()]
    assert unexpected == []


def test_pdf_does_not_depend_on_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # xhtml2pdf confines file reads to the cwd unless told otherwise
    assert "𠮷祥" in pdf_text(render_pdf([SHEET]))


def test_a_long_day_loses_no_line() -> None:
    lines = [task_line(stop, f"居民{stop:02d}") for stop in range(1, 26)]
    reader_pdf = render_pdf([task_sheet(*lines)])
    assert len(PdfReader(io.BytesIO(reader_pdf)).pages) >= 1
    text = pdf_text(reader_pdf)
    names = [line.resident for line in lines]
    assert positions(text, names) == sorted(positions(text, names))


def test_several_sheets_each_start_a_page() -> None:
    pdf = render_pdf([SHEET, task_sheet(worker_name="王强")])
    pages = [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]
    assert "今日无任务" in pages[-1] and "王强" in pages[-1]
    assert all("王强" not in page for page in pages[:-1])
