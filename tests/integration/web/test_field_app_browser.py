"""The field app end to end in real headless Chromium (Debian's, driven by Playwright), against
`proactive serve`'s app on a real port, on SQLite and PostgreSQL: a worker delivers with the
code and the supervisor sees it done; an outcome recorded offline is sent when the connection
returns and applied exactly once; screenshots at phone and desktop sizes are not blank."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import uvicorn
from PIL import Image
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from proactive.models import OutcomeReport, Task
from tests.conftest import CHROMIUM_ARGS, FAKED_TIME, browser_env
from tests.integration.web.world import CODE, PASSWORD, World, build, make_app

playwright_api = pytest.importorskip("playwright.sync_api")

CHROMIUM = "/usr/bin/chromium"
PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 800}
WAIT_MS = 20_000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def world(engine: Engine) -> World:
    return build(engine)


@pytest.fixture
def server(engine: Engine, world: World) -> Iterator[str]:
    port = free_port()
    config = uvicorn.Config(make_app(engine), host="127.0.0.1", port=port, log_level="warning")
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    eventually(lambda: running.started)
    yield f"http://127.0.0.1:{port}"
    running.should_exit = True
    thread.join(timeout=20)


@pytest.fixture
def chromium(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    if not shutil.which(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed; CI must install it")
        pytest.skip("chromium is not installed")
    for name in FAKED_TIME:  # Playwright's driver and the browser run on real time
        monkeypatch.delenv(name, raising=False)
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, env=browser_env())
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


def task(engine: Engine, task_id: int) -> Task:
    with Session(engine) as s:
        found = s.get(Task, task_id)
        assert found is not None
        return found


def test_worker_delivers_with_the_code_and_the_supervisor_sees_it(
    chromium: object, server: str, world: World, engine: Engine, tmp_path: Path
) -> None:
    page = sign_in(chromium, server, "a", PHONE)
    assert page.url.endswith("/day")  # type: ignore[attr-defined]
    page.screenshot(path=tmp_path / "day-360.png", full_page=False)  # type: ignore[attr-defined]
    not_blank(tmp_path / "day-360.png", PHONE)
    assert page.locator("svg circle").count() >= 3  # type: ignore[attr-defined]
    page.click(f"a[href='/tasks/{world.tasks['A']}']")  # type: ignore[attr-defined]
    page.fill("#code", "0000")  # type: ignore[attr-defined]
    page.click("button:has-text('已送达')")  # type: ignore[attr-defined]
    page.wait_for_selector("#sync:has-text('确认码不正确')")  # type: ignore[attr-defined]
    page.fill("#code", CODE)  # type: ignore[attr-defined]
    page.click("button:has-text('已送达')")  # type: ignore[attr-defined]
    page.wait_for_selector("text=该任务已记录：已送达")  # type: ignore[attr-defined]
    assert (task(engine, world.tasks["A"]).status, task(engine, world.tasks["A"]).outcome) == (
        "done",
        "delivered",
    )
    supervisor = sign_in(chromium, server, "sup_s", DESKTOP)
    assert supervisor.url.endswith("/site")  # type: ignore[attr-defined]
    done = supervisor.locator("tr[data-worker='WA'] td.done").inner_text()  # type: ignore[attr-defined]
    assert done == "1"
    supervisor.screenshot(path=tmp_path / "site-1280.png")  # type: ignore[attr-defined]
    not_blank(tmp_path / "site-1280.png", DESKTOP)


def test_an_outcome_recorded_offline_is_applied_once_when_back_online(
    chromium: object, server: str, world: World, engine: Engine, tmp_path: Path
) -> None:
    page = sign_in(chromium, server, "a", PHONE)
    context = page.context  # type: ignore[attr-defined]
    pages_cached = "caches.open('proactive-pages').then(c => c.keys()).then(k => k.length)"
    eventually(lambda: page.evaluate(pages_cached) >= 3)  # type: ignore[attr-defined]
    context.set_offline(True)
    page.goto(f"{server}/tasks/{world.tasks['A2']}")  # type: ignore[attr-defined]  # from the cache
    page.click("button:has-text('不在家')")  # type: ignore[attr-defined]
    page.wait_for_selector("#sync:has-text('1 条记录保存在本机')")  # type: ignore[attr-defined]
    page.screenshot(path=tmp_path / "offline-360.png")  # type: ignore[attr-defined]
    not_blank(tmp_path / "offline-360.png", PHONE)
    assert task(engine, world.tasks["A2"]).status == "planned"
    context.set_offline(False)
    eventually(lambda: task(engine, world.tasks["A2"]).status == "failed")
    page.reload()  # type: ignore[attr-defined]  # the queue is empty: nothing is sent again
    page.wait_for_selector("text=该任务已记录：不在家")  # type: ignore[attr-defined]
    with Session(engine) as s:
        assert s.scalar(select(func.count()).select_from(OutcomeReport)) == 1
        case_id = task(engine, world.tasks["A2"]).case_id
        tries = s.scalar(select(func.count()).where(Task.case_id == case_id))
        assert tries == 2  # the failed visit and one next try, not two


AXE = """axe.run().then(result => result.violations
    .filter(v => v.impact === 'serious' || v.impact === 'critical')
    .map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', ')))"""


def serious_violations(page: object) -> list[str]:
    page.add_script_tag(url="/static/vendor/axe-core/axe.min.js")  # type: ignore[attr-defined]
    found: list[str] = page.evaluate(AXE)  # type: ignore[attr-defined]
    return found


def test_no_serious_accessibility_violation_on_the_main_pages(
    chromium: object, server: str, world: World
) -> None:
    context = chromium.new_context(viewport=PHONE)  # type: ignore[attr-defined]
    anonymous = context.new_page()
    anonymous.goto(f"{server}/login")
    assert serious_violations(anonymous) == []
    worker = sign_in(chromium, server, "a", PHONE)
    assert serious_violations(worker) == []
    worker.goto(f"{server}/tasks/{world.tasks['A']}")  # type: ignore[attr-defined]
    assert serious_violations(worker) == []
    for name in ("sup_s", "admin"):
        assert serious_violations(sign_in(chromium, server, name, DESKTOP)) == []
    staff = sign_in(chromium, server, "admin", DESKTOP)
    for path in ("/review", "/verify"):
        staff.goto(f"{server}{path}")  # type: ignore[attr-defined]
        assert serious_violations(staff) == []
