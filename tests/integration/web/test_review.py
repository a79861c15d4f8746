"""District staff's review queue in-process, on SQLite and PostgreSQL: a decision needs a
reason, is recorded in the case history and the audit log; a case no site would visit only an
admin may decide (a supervisor decides her site's: test_supervisor.py)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from proactive.models import AuditEntry, Case, CaseEvent
from tests.conftest import PINNED_NOW
from tests.integration.web.world import Browser, World, build, make_app


@pytest.fixture
def world(engine: Engine) -> World:
    return build(engine)


@pytest.fixture
def in_review(engine: Engine, world: World) -> int:
    with Session(engine) as s, s.begin():
        case = Case(
            id_number="330108196611259999",
            program="senior_certificate",
            status="needs_review",
            eligible_on=dt.date(2026, 11, 25),
            reason="户籍状态待核实",
            created_at=PINNED_NOW,
            updated_at=PINNED_NOW,
        )
        s.add(case)
        s.flush()
        return case.id


def signed_in(engine: Engine, name: str) -> Browser:
    browser = Browser(make_app(engine))
    browser.login(name)
    return browser


def test_an_admin_approves_with_a_reason(engine: Engine, in_review: int) -> None:
    admin = signed_in(engine, "admin")
    queue = admin.get("/review").text
    assert "户籍状态待核实" in queue and "330108********9999" in queue
    assert "330108196611259999" not in queue
    empty = admin.post(f"/review/{in_review}", {"decision": "approve", "why": " "})
    assert empty.status_code == 422 and "请填写审核理由" in empty.text
    answer = admin.post(f"/review/{in_review}", {"decision": "approve", "why": "电话核实户籍正常"})
    assert answer.status_code == 303
    with Session(engine) as s:
        assert s.get(Case, in_review).status == "approved"  # type: ignore[union-attr]
        event = s.scalars(select(CaseEvent).where(CaseEvent.case_id == in_review)).one()
        assert (event.actor, event.reason) == ("user:admin", "人工审核通过：电话核实户籍正常")
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "review")).one()
        assert (entry.actor, entry.target) == ("user:admin", f"case:{in_review}")
    again = admin.post(f"/review/{in_review}", {"decision": "reject", "why": "重复"})
    assert again.status_code == 422 and "不在待审核队列中" in again.text


def test_a_rejection_cancels_the_case(engine: Engine, in_review: int) -> None:
    signed_in(engine, "admin").post(f"/review/{in_review}", {"decision": "reject", "why": "已迁出"})
    with Session(engine) as s:
        assert s.get(Case, in_review).status == "cancelled"  # type: ignore[union-attr]


@pytest.mark.parametrize("name", ["a", "sup_s"])
def test_a_case_of_no_site_only_an_admin_reviews(engine: Engine, in_review: int, name: str) -> None:
    browser = signed_in(engine, name)
    assert f'data-case="{in_review}"' not in browser.get("/review").text
    assert browser.get(f"/review/{in_review}").status_code == 404
    fields = {"decision": "approve", "why": "x"}
    assert browser.post(f"/review/{in_review}", fields).status_code == 404
    with Session(engine) as s:
        assert s.get(Case, in_review).status == "needs_review"  # type: ignore[union-attr]


def test_a_decision_needs_the_csrf_token(engine: Engine, in_review: int) -> None:
    admin = signed_in(engine, "admin")
    fields = {"decision": "approve", "why": "x"}
    assert admin.post(f"/review/{in_review}", fields, csrf=False).status_code == 403
