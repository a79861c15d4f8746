"""Charts for people to read: matplotlib figures drawn off-screen (Agg, no GUI) in the
certificate font, so Chinese text renders the same on every machine.

The font is a subset of Noto Sans CJK SC without U+2212 (minus sign), so matplotlib is told to
draw negative numbers with a hyphen-minus.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from matplotlib import font_manager, rc_context
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from proactive.certificates.render import DEFAULT_FONT

DPI = 120


@functools.cache
def font_family(path: Path = DEFAULT_FONT) -> str:
    """Register the font with matplotlib (once) and return its family name."""
    font_manager.fontManager.addfont(str(path))
    return str(font_manager.FontProperties(fname=str(path)).get_name())


@contextmanager
def chinese_figure(width: float, height: float) -> Iterator[Figure]:
    """A figure whose text is drawn in the CJK font, not attached to pyplot."""
    with rc_context({"font.family": [font_family()], "axes.unicode_minus": False}):
        figure = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
        FigureCanvasAgg(figure)
        yield figure


def save_png(figure: Figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, format="png", dpi=DPI)
    return path
