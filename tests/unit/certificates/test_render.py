"""The certificate renderer: SVG template to PDF, text extractable (also beyond the BMP), the
font embedded, the QR code readable back."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import xml.etree.ElementTree as ET

import base45
import pytest
from pypdf import PdfReader
from reportlab.pdfbase import ttfonts
from reportlab.pdfgen.canvas import Canvas

from proactive.certificates.reading import read_payload
from proactive.certificates.render import (
    DEFAULT_FONT,
    CertificateView,
    Font,
    Renderer,
    cn_date,
    fit_size,
    fix_to_unicode_cmap,
    wrap,
)
from proactive.settings import ROOT

TEMPLATE = "certificates/senior_certificate.svg.j2"
PAYLOAD = "PC1:" + base45.b45encode(bytes(range(200))).decode()  # 300 characters, like a real one
VIEW = CertificateView(
    certificate_no="330108-2026-LN-000001",
    title="老年人优待证",
    holder="张㛃华",
    sex="女",
    birth_date=dt.date(1966, 11, 25),
    masked_id="330108********1234",
    address="浙江省杭州市滨江区西兴街道江汉路1785号双城国际4幢1单元1201室",
    issued_on=dt.date(2026, 11, 25),
    issuing_office="杭州市滨江区民政局",
    payload=PAYLOAD,
)


@pytest.fixture(scope="module")
def font() -> Font:
    return Font.load(DEFAULT_FONT)


@pytest.fixture(scope="module")
def renderer(font: Font) -> Renderer:
    return Renderer(ROOT / "templates", font)


def page_text(pdf: bytes) -> str:
    return PdfReader(io.BytesIO(pdf)).pages[0].extract_text()


@pytest.mark.parametrize("holder", ["张㛃华", "𠮷田花子"])
def test_printed_fields_are_extractable_text(renderer: Renderer, holder: str) -> None:
    pdf = renderer.render(TEMPLATE, dataclasses.replace(VIEW, holder=holder))
    text = page_text(pdf)
    assert holder in text
    assert "330108-2026-LN-000001" in text and "330108********1234" in text
    assert "1966年11月25日" in text and "2026年11月25日" in text
    assert "杭州市滨江区民政局" in text and "扫描二维码可离线核验真伪" in text


def test_qr_code_reads_back_as_the_payload(renderer: Renderer) -> None:
    assert read_payload(renderer.render(TEMPLATE, VIEW)) == PAYLOAD


def test_read_payload_without_a_qr_code() -> None:
    out = io.BytesIO()
    canvas = Canvas(out)
    canvas.drawString(72, 72, "no QR here")
    canvas.save()
    assert read_payload(out.getvalue()) is None


def test_font_is_embedded_and_page_is_a4(renderer: Renderer) -> None:
    page = PdfReader(io.BytesIO(renderer.render(TEMPLATE, VIEW))).pages[0]
    fonts = [ref.get_object() for ref in page["/Resources"]["/Font"].values()]
    embedded = [f for f in fonts if "/FontFile2" in f["/FontDescriptor"]]
    assert embedded and len(embedded) == len(fonts)
    assert all("NotoSansCJKsc" in f["/BaseFont"] for f in fonts)
    assert round(float(page.mediabox.width)) == 595 and round(float(page.mediabox.height)) == 842


def test_to_unicode_cmap_writes_surrogate_pairs() -> None:
    fix_to_unicode_cmap()
    fix_to_unicode_cmap()  # idempotent: not wrapped twice
    cmap = ttfonts.makeToUnicodeCMap("Subset", [0x20, 0x20BB7, 0x5F20])
    assert "<01> <D842DFB7>" in cmap
    assert "<00> <0020>" in cmap and "<02> <5F20>" in cmap


def test_markup_characters_in_fields_are_escaped(renderer: Renderer) -> None:
    view = dataclasses.replace(VIEW, holder="<王&芳>", address='滨江区"江南"大道<1>号&')
    text = page_text(renderer.render(TEMPLATE, view))
    assert "<王&芳>" in text and "<1>" in text


def test_long_name_and_address_still_render(renderer: Renderer) -> None:
    view = dataclasses.replace(VIEW, holder="阿卜杜热合曼·买买提明·艾则孜", address="滨江区" * 25)
    text = page_text(renderer.render(TEMPLATE, view))
    assert "阿卜杜热合曼·买买提明·艾则孜" in text


def test_font_reports_missing_characters(font: Font) -> None:
    absent = [c for c in "𪚥𱍐" if ord(c) not in font.code_points]
    assert absent, "the test needs a character the font lacks"
    lacking = absent[0]
    assert font.missing(f"张三 {lacking}𠮷㛃{lacking}\n") == [lacking]
    assert font.missing("张㛃华 𠮷田花子") == []
    assert font.family == "Noto Sans CJK SC"


def test_wrap_balances_two_lines_without_breaking_numbers() -> None:
    address = VIEW.address
    lines = wrap(address, 22)
    assert lines == ["浙江省杭州市滨江区西兴街道江汉路", "1785号双城国际4幢1单元1201室"]
    assert wrap("滨江区长河街道", 22) == ["滨江区长河街道"]
    assert wrap("", 22) == [""]
    long = "滨江区" * 25
    assert len(wrap(long, 22)) == 2 and "".join(wrap(long, 22)) == long


def test_fit_size_shrinks_only_what_does_not_fit(renderer: Renderer) -> None:
    name = renderer.font_name
    assert fit_size(name, "张三", 42, 3.4) == 3.4
    assert fit_size(name, "张" * 20, 42, 3.4) == pytest.approx(42 / 20, abs=0.01)
    assert fit_size(name, ["张" * 10, "张" * 30], 60, 2.6) == pytest.approx(2.0, abs=0.01)


def test_dates_are_printed_the_chinese_way() -> None:
    assert cn_date(dt.date(2026, 11, 25)) == "2026年11月25日"
    assert cn_date(dt.date(1966, 3, 5)) == "1966年3月5日"


def test_template_source_is_well_formed_svg() -> None:
    """Designers open the template itself in Inkscape, so it must stay well-formed XML."""
    root = ET.fromstring((ROOT / "templates" / TEMPLATE).read_bytes())
    assert root.tag == "{http://www.w3.org/2000/svg}svg"


def test_static_parts_are_converted_once_for_all_certificates(font: Font) -> None:
    renderer = Renderer(ROOT / "templates", font)
    renderer._static_layer.cache_clear()
    first = renderer.render(TEMPLATE, VIEW)
    other = dataclasses.replace(VIEW, holder="李四", certificate_no="330108-2026-LN-000777")
    second = renderer.render(TEMPLATE, other)
    info = renderer._static_layer.cache_info()
    assert (info.misses, info.hits) == (1, 1)
    assert "使用说明" in page_text(second) and "李四" in page_text(second)
    assert "LN-000777" not in page_text(first)
