"""A social worker's printable daily task list: one A4 section per worker and day, the stops in
route order, in Simplified Chinese. One Jinja2 template serves a browser and xhtml2pdf alike,
so its CSS keeps to what xhtml2pdf understands (tables, borders, sizes, widths, page breaks)."""

from __future__ import annotations

import datetime as dt
import functools
import io
from collections.abc import Sequence

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from xhtml2pdf import pisa
from xhtml2pdf.config.resources import ResourceAccessPolicy

from proactive.certificates.render import DEFAULT_FONT, cn_date, fix_to_unicode_cmap
from proactive.errors import ProactiveError
from proactive.field.task_lines import TaskLine, TaskSheet
from proactive.field.task_states import DONE, FAILED, WITHDRAWN
from proactive.settings import ROOT

TEMPLATE = "pages/task_list.html.j2"
FONT_FAMILY = "proactive-cjk"  # the @font-face name; only this document uses it
WEEKDAYS = "一二三四五六日"
RESULTS = ("已送达", "不在家", "拒收", "已迁出", "已故", "地址有误")  # boxes to tick
NO_PHONE = "无手机，请电话/上门联系"
# xhtml2pdf confines reads to the working directory by default; here: the font, nothing else
RESOURCES = ResourceAccessPolicy(allow_remote=False, base_dir=DEFAULT_FONT.parent)
STATUS_NOTES = {DONE: "已完成", FAILED: "上次未成功", WITHDRAWN: "已撤回，无需上门"}


class TaskSheetRenderError(ProactiveError):
    """The task sheet could not be converted to PDF"""


def render_html(sheets: Sequence[TaskSheet], font_url: str | None = None) -> str:
    """The sheets as one HTML document, a page section each. font_url is where the browser (or
    xhtml2pdf) finds the CJK font; by default the project font as a file:// URL."""
    return (
        _environment()
        .get_template(TEMPLATE)
        .render(
            sheets=sheets,
            font_url=font_url or DEFAULT_FONT.as_uri(),
            font_family=FONT_FAMILY,
            results=RESULTS,
        )
    )


def render_pdf(sheets: Sequence[TaskSheet]) -> bytes:
    """The same HTML through xhtml2pdf: A4, the font subset embedded, text extractable (also
    beyond the BMP, thanks to the certificate renderer's ToUnicode fix)."""
    fix_to_unicode_cmap()  # xhtml2pdf registers its own TTFont from the @font-face rule
    out = io.BytesIO()
    status = pisa.CreatePDF(
        render_html(sheets),
        dest=out,
        encoding="utf-8",
        resource_policy=RESOURCES,
        capacity=-1,  # keep the work in memory: its spill file is never closed (ResourceWarning)
    )
    if status.err:
        raise TaskSheetRenderError(f"{status.err} error(s) from xhtml2pdf")
    return out.getvalue()


def cn_day(day: dt.date) -> str:
    """2026年11月26日（星期四）."""
    return f"{cn_date(day)}（星期{WEEKDAYS[day.weekday()]}）"


def in_route_order(lines: Sequence[TaskLine]) -> list[TaskLine]:
    return sorted(lines, key=lambda line: line.stop)


def notes(line: TaskLine) -> list[str]:
    """What the 备注 column says about a stop, in order of importance."""
    found = [STATUS_NOTES[line.status]] if line.status in STATUS_NOTES else []
    if line.outside_circle:
        found.append(f"超出15分钟圈（步行约{round(line.travel_minutes)}分钟）")
    if line.attempt > 1:
        found.append(f"第{line.attempt}次上门")
    return found


def km(metres: float) -> str:
    """Metres as kilometres with one decimal: 3240 -> "3.2"."""
    return f"{metres / 1000:.1f}"


@functools.cache
def _environment() -> Environment:
    environment = Environment(
        loader=FileSystemLoader(ROOT / "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters.update(cn_day=cn_day, in_route_order=in_route_order, km=km)
    environment.globals.update(notes=notes, no_phone=NO_PHONE)
    return environment
