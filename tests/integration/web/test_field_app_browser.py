"""The field app end to end in real headless Chromium (Debian's, driven by Playwright), against
`proactive serve`'s app on a real port, on SQLite and PostgreSQL: a worker delivers with the
code and the supervisor sees it done; an outcome recorded offline is sent when the connection
returns and applied exactly once; screenshots at phone and desktop sizes are not blank."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from proactive.models import OutcomeReport, Task
from tests.integration.web.chromium import (
    DESKTOP,
    PHONE,
    eventually,
    screenshot,
    serious_violations,
    serving,
    sign_in,
)
from tests.integration.web.world import CODE, World, build, case_in_review, make_app


@pytest.fixture
def world(engine: Engine) -> World:
    return build(engine)


@pytest.fixture
def server(engine: Engine, world: World) -> Iterator[str]:
    with serving(make_app(engine)) as base:
        yield base


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
    screenshot(page, tmp_path / "day-360.png", PHONE)
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
    screenshot(supervisor, tmp_path / "site-1280.png", DESKTOP)


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
    screenshot(page, tmp_path / "offline-360.png", PHONE)
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


def test_no_serious_accessibility_violation_on_the_main_pages(
    chromium: object, server: str, world: World, engine: Engine, tmp_path: Path
) -> None:
    context = chromium.new_context(viewport=PHONE)  # type: ignore[attr-defined]
    anonymous = context.new_page()
    anonymous.goto(f"{server}/login")
    assert serious_violations(anonymous) == []
    anonymous.goto(f"{server}/verify")
    screenshot(anonymous, tmp_path / "verify-360.png", PHONE)
    worker = sign_in(chromium, server, "a", PHONE)
    assert serious_violations(worker) == []
    worker.goto(f"{server}/tasks/{world.tasks['A']}")  # type: ignore[attr-defined]
    assert serious_violations(worker) == []
    for name in ("sup_s", "admin"):
        assert serious_violations(sign_in(chromium, server, name, DESKTOP)) == []
    case_in_review(engine, 1, 30.1905, "330108002001")  # a case of S waiting for review
    supervisor = sign_in(chromium, server, "sup_s", PHONE)
    for path in ("/site/optouts", f"/tasks/{world.tasks['A']}", "/review"):
        supervisor.goto(f"{server}{path}")  # type: ignore[attr-defined]
        assert serious_violations(supervisor) == [], path
    screenshot(supervisor, tmp_path / "review-360.png", PHONE)
    staff = sign_in(chromium, server, "admin", DESKTOP)
    for path in ("/review", "/verify"):
        staff.goto(f"{server}{path}")  # type: ignore[attr-defined]
        assert serious_violations(staff) == []
