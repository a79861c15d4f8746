"""A bar chart as SVG geometry (pure): one bar per value, a line for a limit (the forecast's
worker-days needed per week against the staff's capacity). No library, no script: the page
draws rectangles and a polyline."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

WIDTH, HEIGHT = 640, 200
LEFT, BOTTOM, TOP = 36, 22, 8  # room for the scale and the labels


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str  # under the bar, when there is room
    value: float


@dataclass(frozen=True)
class Chart:
    bars: list[Bar]
    line: str  # the limit as SVG polyline points ("" without one)
    top: float  # the value at the top of the scale
    width: int = WIDTH
    height: int = HEIGHT
    base: float = HEIGHT - BOTTOM  # y of zero


def bar_chart(labels: Sequence[str], values: Sequence[float], limits: Sequence[float]) -> Chart:
    """Bars for `values`, a line through `limits` (one per bar, or none)."""
    top = max([*values, *limits, 1.0])
    plot = HEIGHT - BOTTOM - TOP
    step = (WIDTH - LEFT) / max(len(values), 1)

    def y(value: float) -> float:
        return round(HEIGHT - BOTTOM - value / top * plot, 1)

    bars = [
        Bar(
            round(LEFT + i * step + step * 0.15, 1),
            y(value),
            round(step * 0.7, 1),
            round(value / top * plot, 1),
            label,
            value,
        )
        for i, (label, value) in enumerate(zip(labels, values, strict=True))
    ]
    line = " ".join(f"{round(LEFT + (i + 0.5) * step, 1)},{y(v)}" for i, v in enumerate(limits))
    return Chart(bars, line, top)
