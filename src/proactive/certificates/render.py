"""Certificates as PDF: a Jinja2 SVG template (editable in Inkscape) rendered with the
certificate's fields, converted by svglib to a ReportLab drawing and written as one A4 page with
a subset of the certificate font embedded. The QR code is a PNG data URI (an SVG path of every
module is about four times slower to convert)."""

from __future__ import annotations

import base64
import copy
import datetime as dt
import functools
import io
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy
import zxingcpp
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from lxml import etree
from PIL import Image
from reportlab.graphics import renderPDF
from reportlab.graphics.shapes import Drawing
from reportlab.pdfbase import pdfmetrics, ttfonts
from reportlab.pdfgen.canvas import Canvas
from svglib import fonts as svg_fonts
from svglib.svglib import SvgRenderer

from proactive.errors import ProactiveError
from proactive.settings import ROOT

DEFAULT_FONT = ROOT / "templates" / "fonts" / "NotoSansCJKsc-Proactive.ttf"
QR_ERROR = "M"  # error correction level M: ~15% of the symbol may be damaged
QR_SCALE = 4  # pixels per module in the embedded PNG


class CertificateRenderError(ProactiveError):
    """The certificate template did not produce a drawing"""


@dataclass(frozen=True)
class CertificateView:
    """Everything printed on a certificate; every string is final."""

    certificate_no: str  # e.g. "330108-2026-LN-000001"
    title: str  # "老年人优待证"
    holder: str  # the name, every character kept (may contain 𠮷)
    sex: str  # "男" | "女"
    birth_date: dt.date
    masked_id: str  # "330108********1234"
    address: str
    issued_on: dt.date
    issuing_office: str  # "杭州市滨江区民政局"
    payload: str  # QR text, "PC1:…" in Base45 (alphanumeric mode)


@dataclass(frozen=True)
class Font:
    """The font embedded in certificates and the code points it covers."""

    path: Path
    family: str
    code_points: frozenset[int]

    @classmethod
    def load(cls, path: Path) -> Font:
        face = ttfonts.TTFontFile(str(path))
        return cls(path, face.familyName.decode("utf-8"), frozenset(face.charToGlyph))

    def missing(self, text: str) -> list[str]:
        """The characters of text this font lacks, in order of appearance, each once."""
        lacking = (c for c in text if not c.isspace() and ord(c) not in self.code_points)
        return list(dict.fromkeys(lacking))


class Renderer:
    """Renders certificate templates from templates_dir to PDF with the given font."""

    def __init__(self, templates_dir: Path, font: Font) -> None:
        self.font = font
        self.font_name = register_font(font.family, font.path)
        self.environment = Environment(
            loader=FileSystemLoader(templates_dir), autoescape=True, undefined=StrictUndefined
        )
        self.environment.filters.update(
            cn_date=cn_date, wrap=wrap, fit_size=functools.partial(fit_size, self.font_name)
        )

    def render(self, template: str, view: CertificateView) -> bytes:
        svg = self.environment.get_template(template).render(
            view=view, font_family=self.font.family, qr=qr_data_uri(view.payload)
        )
        root = etree.fromstring(svg.encode("utf-8"), parser=_PARSER)
        static, dynamic = split_static(root)
        layers = [self._static_layer(etree.tostring(static)), _convert(dynamic)]
        out = io.BytesIO()
        canvas = Canvas(
            out,
            pagesize=(layers[1].width, layers[1].height),
            invariant=True,  # the same view gives the same bytes
            initialFontName=self.font_name,  # else the page names Helvetica, unembedded
        )
        canvas.setTitle(f"{view.title} {view.certificate_no}")
        canvas.setAuthor(view.issuing_office)
        for layer in layers:
            layer.initialFontName = self.font_name
            renderPDF.draw(layer, canvas, 0, 0)
        canvas.showPage()
        canvas.save()
        return out.getvalue()

    @functools.lru_cache(maxsize=16)  # noqa: B019 - one renderer per process, few templates
    def _static_layer(self, static_svg: bytes) -> Drawing:
        """Parts marked data-static are converted once per distinct content and reused."""
        return _convert(etree.fromstring(static_svg, parser=_PARSER))


_PARSER = etree.XMLParser(resolve_entities=False, no_network=True)
_STRUCTURE = {"svg", "g", "defs", "style"}  # kept in both copies (a title is not drawn)


def split_static(root: etree._Element) -> tuple[etree._Element, etree._Element]:
    """Two copies of the drawing: the elements marked data-static="1" (with everything inside
    them) and the rest. Groups stay in both, so transforms and inherited styles still apply.
    The static copy is cached by its content, so a mark on something that varies is slower,
    never wrong."""
    static = copy.deepcopy(root)
    for element in list(root.iter()):
        if element.get("data-static") == "1":
            _drop(element)
    for element in list(static.iter()):
        if element.get("data-static") == "1":
            continue
        if _local(element) not in _STRUCTURE and not _inside_static(element):
            _drop(element)
    return static, root


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def _inside_static(element: etree._Element) -> bool:
    return any(a.get("data-static") == "1" for a in element.iterancestors())


def _drop(element: etree._Element) -> None:
    parent = element.getparent()
    if parent is not None:
        parent.remove(element)


def _convert(root: etree._Element) -> Drawing:
    drawing = SvgRenderer("").render(root)
    if drawing is None:
        raise CertificateRenderError("the certificate template did not produce a drawing")
    return drawing


def qr_data_uri(payload: str) -> str:
    """The payload's QR code as a 1-bit PNG data URI (error level M, 4-module quiet zone)."""
    symbol = zxingcpp.create_barcode(payload, zxingcpp.BarcodeFormat.QRCode, ec_level=QR_ERROR)
    pixels = numpy.asarray(symbol.to_image(scale=QR_SCALE, add_quiet_zones=True))
    out = io.BytesIO()
    Image.fromarray(pixels).convert("1").save(out, format="PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode("ascii")


def cn_date(day: dt.date) -> str:
    """A date as printed on certificates: 2026年11月25日."""
    return f"{day.year}年{day.month}月{day.day}日"


def wrap(text: str, width: int, max_lines: int = 2) -> list[str]:
    """text in at most max_lines lines of about equal length, each of about width characters,
    never breaking a number or Latin word (1785号); lines grow beyond width when text does not
    fit (fit_size then shrinks the type)."""
    count = min(max_lines, max(1, math.ceil(len(text) / width)))
    lines: list[str] = []
    rest = text
    for left in range(count, 1, -1):
        cut = _break_before(rest, math.ceil(len(rest) / left))
        lines.append(rest[:cut])
        rest = rest[cut:]
    return [*lines, rest]


def _break_before(text: str, index: int) -> int:
    """index, moved back (or, failing that, forward) off the middle of an ASCII word."""

    def inside(i: int) -> bool:
        return 0 < i < len(text) and _is_word(text[i - 1]) and _is_word(text[i])

    back = next((i for i in range(index, 0, -1) if not inside(i)), 0)
    return back or next(i for i in range(index, len(text) + 1) if not inside(i))


def _is_word(char: str) -> bool:
    return char.isascii() and char.isalnum()


def fit_size(font_name: str, text: str | Sequence[str], width: float, largest: float) -> float:
    """The font size (in user units, largest at most) at which every line of text fits width."""
    lines = [text] if isinstance(text, str) else list(text)
    widest = max((pdfmetrics.stringWidth(line, font_name, 1) for line in lines), default=0)
    return round(min(largest, width / widest) if widest else largest, 3)


@functools.cache
def register_font(family: str, path: Path) -> str:
    """Register the font with svglib (and so ReportLab) once per process; its ReportLab name."""
    fix_to_unicode_cmap()
    name, registered = svg_fonts.register_font(family, str(path))
    if not registered or name is None:
        raise CertificateRenderError(f"font {path} could not be registered")
    return str(name)


_SUPPLEMENTARY_ENTRY = re.compile(r"^<([0-9A-F]{2})> <([0-9A-F]{5,6})>$", re.MULTILINE)
_make_to_unicode_cmap = ttfonts.makeToUnicodeCMap  # ReportLab's own


def fix_to_unicode_cmap() -> None:
    """Work around a ReportLab bug: makeToUnicodeCMap writes a code point above U+FFFF as five
    hex digits (<20BB7>), but a ToUnicode CMap maps to UTF-16BE, so it must be the surrogate pair
    <D842DFB7>; otherwise text extraction and search lose 𠮷 and its like. Replaces the
    module-level function, which TTFont.addObjects looks up at call time. Idempotent."""
    ttfonts.makeToUnicodeCMap = _to_unicode_cmap_with_surrogates


def _to_unicode_cmap_with_surrogates(fontname: str, subset: Sequence[int]) -> str:
    cmap: str = _make_to_unicode_cmap(fontname, subset)
    return _SUPPLEMENTARY_ENTRY.sub(_surrogate_pair_entry, cmap)


def _surrogate_pair_entry(match: re.Match[str]) -> str:
    high, low = divmod(int(match[2], 16) - 0x10000, 0x400)
    return f"<{match[1]}> <{0xD800 + high:04X}{0xDC00 + low:04X}>"
