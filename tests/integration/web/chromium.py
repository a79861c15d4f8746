"""What the browser tests share: the app served on a real port, Debian's Chromium driven by
Playwright, signing in, screenshots checked not blank, axe-core's serious violations."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import uvicorn
from PIL import Image
from starlette.applications import Starlette

from proactive.settings import ROOT
from tests.conftest import CHROMIUM_ARGS, FAKED_TIME, browser_env
from tests.integration.web.world import PASSWORD

CHROMIUM = "/usr/bin/chromium"
PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 800}
WAIT_MS = 20_000
SCREENSHOTS = "PROACTIVE_TEST_SCREENSHOTS"  # a directory to keep the screenshots in (docs/)
AXE = """axe.run().then(result => result.violations
    .filter(v => v.impact === 'serious' || v.impact === 'critical')
    .map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', ')))"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(app: Starlette) -> Iterator[str]:
    """The app on a free local port, in a thread; its base URL."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    eventually(lambda: running.started)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        running.should_exit = True
        thread.join(timeout=20)


def fonts_conf(directory: Path) -> Path:
    """A fontconfig file adding the project's Chinese font (templates/fonts) to the system's:
    a test machine without CJK fonts would draw the pages' Chinese as empty boxes."""
    conf = directory / "fonts.conf"
    conf.write_text(
        '<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig>'
        '<include ignore_missing="yes">/etc/fonts/fonts.conf</include>'
        f"<dir>{ROOT / 'templates' / 'fonts'}</dir><cachedir>{directory / 'cache'}</cachedir>"
        "</fontconfig>",
        encoding="utf-8",
    )
    return conf


def launch(monkeypatch: pytest.MonkeyPatch, directory: Path) -> Iterator[object]:
    """Headless Chromium on real time, with the project's Chinese font (skipped where it is
    not installed, failed in CI)."""
    playwright_api = pytest.importorskip("playwright.sync_api")
    if not shutil.which(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed; CI must install it")
        pytest.skip("chromium is not installed")
    for name in FAKED_TIME:  # Playwright's driver and the browser run on real time
        monkeypatch.delenv(name, raising=False)
    with playwright_api.sync_playwright() as p:
        env = {**browser_env(), "FONTCONFIG_FILE": str(fonts_conf(directory))}
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, env=env)
        yield browser
        browser.close()


def sign_in(browser: object, base: str, name: str, viewport: dict[str, int]) -> object:
    context = browser.new_context(viewport=viewport, locale="zh-CN")  # type: ignore[attr-defined]
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    page.goto(f"{base}/login")
    page.fill("#name", name)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit].primary")
    page.wait_for_load_state()
    return page


def screenshot(page: object, path: Path, size: dict[str, int]) -> None:
    """Take it, check it is not blank, keep a small copy where PROACTIVE_TEST_SCREENSHOTS says."""
    page.set_viewport_size(size)  # type: ignore[attr-defined]
    page.screenshot(path=path)  # type: ignore[attr-defined]
    not_blank(path, size)
    keep = os.environ.get(SCREENSHOTS)
    if keep:  # small: 64 colours are plenty for text on a light page
        Path(keep).mkdir(parents=True, exist_ok=True)
        with Image.open(path) as image:
            image.convert("RGB").quantize(64).save(Path(keep) / path.name, optimize=True)


def not_blank(path: Path, size: dict[str, int]) -> None:
    with Image.open(path) as image:
        assert image.size == (size["width"], size["height"])
        darkest, lightest = image.convert("L").getextrema()
    assert darkest < 64 and lightest > 192  # text on a light page


def eventually(check: Callable[[], bool], seconds: float = 30) -> None:
    """Poll; pauses wait on an Event (time.sleep fails under libfaketime in CI)."""
    deadline, pause = time.monotonic() + seconds, threading.Event()
    while not check():
        assert time.monotonic() < deadline, "timed out"
        pause.wait(0.2)


def serious_violations(page: object) -> list[str]:
    page.add_script_tag(url="/static/vendor/axe-core/axe.min.js")  # type: ignore[attr-defined]
    found: list[str] = page.evaluate(AXE)  # type: ignore[attr-defined]
    return found
