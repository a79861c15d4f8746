"""Rebuild the certificate font from Noto Sans CJK SC (SIL Open Font License 1.1).

    pip install fonttools noto-cjk-sans-otc && python templates/fonts/build_font.py

Noto Sans CJK ships with PostScript (CFF) outlines, which ReportLab cannot embed; this script
takes the Simplified Chinese face of the collection, keeps the characters a Chinese civil
document needs (Latin, punctuation, CJK Unified Ideographs with Extension A, and the
supplementary-plane ideographs such as U+20BB7 𠮷), and converts the outlines to TrueType
quadratic curves (fontTools' cu2qu, 1 unit tolerance). About 40 seconds on one core.
"""

from __future__ import annotations

import importlib.resources
import sys
from pathlib import Path

from fontTools import subset
from fontTools.pens.cu2quPen import Cu2QuPen
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.ttLib import TTCollection, TTFont, newTable

SC_FACE = 2  # JP, KR, SC, TC, HK in NotoSansCJK-Regular.ttc
RANGES = (
    (0x0020, 0x007E),  # Basic Latin
    (0x00A0, 0x00FF),  # Latin-1 (· in minority names)
    (0x2000, 0x206F),  # general punctuation
    (0x2150, 0x218F),  # number forms
    (0x2460, 0x24FF),  # enclosed numbers
    (0x3000, 0x303F),  # CJK symbols and punctuation, 〇
    (0x3400, 0x4DBF),  # CJK Extension A
    (0x4E00, 0x9FFF),  # CJK Unified Ideographs
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0xFF00, 0xFFEF),  # full-width forms
    (0x20000, 0x3134F),  # CJK Extensions B to G
)
TARGET = Path(__file__).with_name("NotoSansCJKsc-Proactive.ttf")


def source() -> Path:
    package = importlib.resources.files("noto_cjk_sans_otc")
    return Path(str(package.joinpath("NotoSansCJK-Regular.ttc")))


def subset_face(font: TTFont) -> None:
    cmap = font.getBestCmap()
    wanted = [c for low, high in RANGES for c in range(low, high + 1) if c in cmap]
    options = subset.Options()
    options.layout_features = []
    options.hinting = False
    options.name_IDs = ["*"]
    options.notdef_outline = True
    options.desubroutinize = True
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=wanted)
    subsetter.subset(font)


def to_truetype(font: TTFont) -> None:
    glyph_set = font.getGlyphSet()
    order = font.getGlyphOrder()
    glyphs = {}
    for name in order:
        pen = TTGlyphPen(glyph_set)
        glyph_set[name].draw(Cu2QuPen(pen, 1.0, reverse_direction=True))
        glyphs[name] = pen.glyph()
    font["loca"] = newTable("loca")
    glyf = font["glyf"] = newTable("glyf")
    glyf.glyphOrder = order
    glyf.glyphs = glyphs
    for table in ("CFF ", "VORG", "GSUB", "GPOS", "BASE", "GDEF"):
        if table in font:
            del font[table]
    glyf.compile(font)
    hmtx = font["hmtx"]
    for name, glyph in glyf.glyphs.items():
        if hasattr(glyph, "xMin"):
            hmtx[name] = (hmtx[name][0], glyph.xMin)
    maxp = font["maxp"] = newTable("maxp")
    maxp.tableVersion = 0x00010000
    for attribute in (
        "maxTwilightPoints",
        "maxStorage",
        "maxFunctionDefs",
        "maxInstructionDefs",
        "maxStackElements",
        "maxSizeOfInstructions",
        "maxComponentElements",
    ):
        setattr(maxp, attribute, 0)
    maxp.maxZones = 1
    post = font["post"]
    post.formatType = 3.0
    post.extraNames = []
    post.mapping = {}
    font.sfntVersion = "\x00\x01\x00\x00"


def main() -> None:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else source()
    font = TTCollection(str(path)).fonts[SC_FACE]
    subset_face(font)
    to_truetype(font)
    font.save(str(TARGET))
    print(f"{TARGET}: {len(font.getBestCmap())} characters, {TARGET.stat().st_size} bytes")


if __name__ == "__main__":
    main()
