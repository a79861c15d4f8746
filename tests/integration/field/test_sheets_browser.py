"""The task sheet's HTML in a real browser (headless Chromium): the DOM keeps the stops in
route order and the names as text, and the page renders to a screenshot that is not blank.
Without Chromium the test skips locally and fails in CI (CI set)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from proactive.field.sheets import render_html
from tests.conftest import CHROMIUM_ARGS, browser_env
from tests.unit.field.test_sheets import IN_ORDER, SHEET, task_line, task_sheet

TIMEOUT = 60  # seconds for one browser call


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    if os.environ.get("CI"):
        pytest.fail("chromium is not installed; CI must install it (apt-get install chromium)")
    pytest.skip("chromium is not installed (apt-get install chromium)")


def browse(page: Path, profile: Path, *flags: str) -> subprocess.CompletedProcess[str]:
    command = [
        chromium(),
        *CHROMIUM_ARGS,
        f"--user-data-dir={profile}",
        *flags,
        page.as_uri(),
    ]
    return subprocess.run(
        command, capture_output=True, text=True, timeout=TIMEOUT, check=True, env=browser_env()
    )


@pytest.fixture
def page(tmp_path: Path) -> Path:
    escaped = task_line(4, "赵<b>强</b>", phone="")
    path = tmp_path / "task_list.html"
    path.write_text(render_html([task_sheet(*SHEET.lines, escaped)]), encoding="utf-8")
    return path


def test_dom_has_the_names_in_route_order(page: Path, tmp_path: Path) -> None:
    dom = browse(page, tmp_path / "profile", "--dump-dom").stdout
    names = [line.resident for line in IN_ORDER]
    found = [dom.index(name) for name in names]
    assert found == sorted(found)
    assert "𠮷祥" in dom and "2026年11月26日（星期四）" in dom
    assert "赵&lt;b&gt;强&lt;/b&gt;" in dom and "<b>" not in dom


def test_screenshot_is_not_blank(page: Path, tmp_path: Path) -> None:
    shot = tmp_path / "task_list.png"
    browse(page, tmp_path / "profile", f"--screenshot={shot}", "--window-size=1240,1754")
    with Image.open(shot) as image:
        assert image.size == (1240, 1754)
        darkest, lightest = image.convert("L").getextrema()
    assert darkest < 64 and lightest > 192  # text and borders on a white page
