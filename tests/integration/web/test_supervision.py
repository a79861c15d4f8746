"""The supervisor's side in-process, on SQLite and PostgreSQL: reassigning within the site and
the capacity, and an outcome for a visit reassigned meanwhile kept as a conflict."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from proactive.models import AuditEntry, SocialWorker, Task
from tests.integration.web.world import CODE, TODAY, Browser, World, build, make_app


@pytest.fixture
def world(engine: Engine) -> World:
    return build(engine)


def signed_in(engine: Engine, name: str) -> Browser:
    browser = Browser(make_app(engine))
    browser.login(name)
    return browser


def task(engine: Engine, task_id: int) -> Task:
    with Session(engine) as s:
        found = s.get(Task, task_id)
        assert found is not None
        return found


def test_the_supervisor_reassigns_within_her_site(engine: Engine, world: World) -> None:
    supervisor = signed_in(engine, "sup_s")
    moved = world.tasks["A"]
    page = supervisor.get(f"/tasks/{moved}").text
    assert 'action="/tasks/' in page and "改派" in page
    answer = supervisor.post(
        f"/tasks/{moved}/reassign", {"worker_id": "WB", "day": TODAY.isoformat()}
    )
    assert answer.status_code == 303
    assert task(engine, moved).worker_id == "WB"
    assert signed_in(engine, "b").get(f"/tasks/{moved}").status_code == 200
    assert signed_in(engine, "a").get(f"/tasks/{moved}").status_code == 404
    with Session(engine) as s:
        (entry,) = s.scalars(select(AuditEntry).where(AuditEntry.action == "reassign"))
        assert (entry.actor, entry.detail) == ("user:sup_s", f"WA {TODAY} -> WB {TODAY}")


@pytest.mark.parametrize(
    ("worker", "day", "why"),
    [
        ("WC", TODAY, "not an active worker of site S"),  # another site's worker
        ("WB", TODAY - dt.timedelta(days=1), "not a working day from today on"),
        ("WB", dt.date(2026, 11, 28), "not a working day from today on"),  # a Saturday
    ],
)
def test_reassigning_outside_the_rules_is_refused(
    engine: Engine, world: World, worker: str, day: dt.date, why: str
) -> None:
    supervisor = signed_in(engine, "sup_s")
    answer = supervisor.post(
        f"/tasks/{world.tasks['A']}/reassign", {"worker_id": worker, "day": day.isoformat()}
    )
    assert answer.status_code == 422 and why in answer.text
    assert task(engine, world.tasks["A"]).worker_id == "WA"


def test_reassigning_beyond_capacity_is_refused(engine: Engine, world: World) -> None:
    with Session(engine) as s, s.begin():
        s.get(SocialWorker, "WB").daily_capacity = 1  # type: ignore[union-attr]
    supervisor = signed_in(engine, "sup_s")
    answer = supervisor.post(
        f"/tasks/{world.tasks['A']}/reassign", {"worker_id": "WB", "day": TODAY.isoformat()}
    )
    assert answer.status_code == 422 and "capacity 1" in answer.text


def test_only_the_sites_supervisor_or_an_admin_reassigns(engine: Engine, world: World) -> None:
    fields = {"worker_id": "WB", "day": TODAY.isoformat()}
    assert (
        signed_in(engine, "sup_t").post(f"/tasks/{world.tasks['A']}/reassign", fields).status_code
        == 404
    )
    assert (
        signed_in(engine, "a").post(f"/tasks/{world.tasks['A']}/reassign", fields).status_code
        == 404
    )
    assert (
        signed_in(engine, "admin").post(f"/tasks/{world.tasks['A']}/reassign", fields).status_code
        == 303
    )


def test_an_outcome_for_a_visit_reassigned_meanwhile_is_a_conflict_for_the_supervisor(
    engine: Engine, world: World
) -> None:
    worker = signed_in(engine, "a")
    worker.get(f"/tasks/{world.tasks['A']}")  # the list was downloaded while it was hers
    signed_in(engine, "sup_s").post(
        f"/tasks/{world.tasks['A']}/reassign", {"worker_id": "WB", "day": TODAY.isoformat()}
    )
    report = {
        "key": "offline-0001",
        "task_id": world.tasks["A"],
        "outcome": "delivered",
        "code": CODE,
        "note": "",
        "recorded_at": "2026-11-26T09:30:00+08:00",
    }
    sent = worker.request(
        "POST", "/api/outcomes", json=report, headers={"X-CSRF-Token": worker.csrf}
    )
    assert sent.json()["result"] == "conflict" and "改派" in sent.json()["message"]
    again = worker.request(
        "POST", "/api/outcomes", json=report, headers={"X-CSRF-Token": worker.csrf}
    )
    assert again.json() == {**sent.json(), "repeated": True}
    assert task(engine, world.tasks["A"]).status == "planned"  # not applied blindly
    board = signed_in(engine, "sup_s").get("/site").text
    assert "未能应用的离线记录（1）" in board and "09:30" in board
    # Both sides: what the worker reported, and the visit as it stands now (reassigned to B).
    conflict = re.search(r'<tr data-conflict="offline-0001">(.*?)</tr>', board, re.S)
    assert conflict, board
    sides = conflict.group(1)
    assert "上报：a（WA）" in sides and "已送达" in sides
    assert "现状：WB" in sides and f"{TODAY.month}月{TODAY.day}日" in sides and "待上门" in sides
    assert f'href="/tasks/{world.tasks["A"]}"' in sides


def test_the_outcome_api_needs_a_session_and_its_csrf_token(engine: Engine, world: World) -> None:
    report = {
        "key": "offline-0002",
        "task_id": world.tasks["A"],
        "outcome": "not_home",
        "recorded_at": "2026-11-26T09:30:00+08:00",
    }
    anonymous = Browser(make_app(engine))
    assert anonymous.request("POST", "/api/outcomes", json=report).status_code == 401
    worker = signed_in(engine, "a")
    assert worker.request("POST", "/api/outcomes", json=report).status_code == 403
    bad = {**report, "recorded_at": "yesterday"}
    headers = {"X-CSRF-Token": worker.csrf}
    assert worker.request("POST", "/api/outcomes", json=bad, headers=headers).status_code == 400
    answer = worker.request("POST", "/api/outcomes", json=report, headers=headers)
    assert answer.json()["result"] == "applied" and answer.json()["repeated"] is False
    assert task(engine, world.tasks["A"]).status == "failed"
