"""A site supervisor in-process, on SQLite and PostgreSQL: the review queue holds her site's
cases with the failing check and `explain`'s reasoning, and she decides them (not another
site's); she records and removes SMS opt-outs for her site's residents, audited, masked."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from proactive.models import AuditEntry, Case, OptOut
from tests.factories import make_id
from tests.integration.web.world import Browser, World, build, case_in_review, make_app


@pytest.fixture
def world(engine: Engine) -> World:
    return build(engine)


@pytest.fixture
def cases(engine: Engine, world: World) -> dict[str, int]:
    return {
        "S": case_in_review(engine, 1, 30.1905, "330108002001"),
        "T": case_in_review(engine, 2, 30.2105, "330108002002"),
    }


def signed_in(engine: Engine, name: str) -> Browser:
    browser = Browser(make_app(engine))
    assert browser.login(name).status_code == 303
    return browser


def status(engine: Engine, case_id: int) -> str:
    with Session(engine) as s:
        return s.get_one(Case, case_id).status


def test_the_supervisor_reviews_her_sites_cases_only(engine: Engine, cases: dict[str, int]) -> None:
    sup = signed_in(engine, "sup_s")
    queue = sup.get("/review")
    assert queue.status_code == 200 and "待审核案件（1）" in queue.text
    assert (
        f'data-case="{cases["S"]}"' in queue.text and f'data-case="{cases["T"]}"' not in queue.text
    )
    assert (
        "✗ residency：户籍状态 pending" in queue.text and "核验未通过：户籍状态待核实" in queue.text
    )
    detail = sup.get(f"/review/{cases['S']}")
    assert detail.status_code == 200
    assert "[senior_certificate]" in detail.text and "李**" in detail.text  # explain's lines
    assert make_id("19661125", order=301) not in detail.text
    assert sup.get(f"/review/{cases['T']}").status_code == 404
    other = sup.post(f"/review/{cases['T']}", {"decision": "approve", "why": "x"})
    assert other.status_code == 404 and status(engine, cases["T"]) == "needs_review"
    answer = sup.post(f"/review/{cases['S']}", {"decision": "approve", "why": "电话核实"})
    assert answer.status_code == 303 and status(engine, cases["S"]) == "approved"
    with Session(engine) as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "review")).one()
        assert (entry.actor, entry.target) == ("user:sup_s", f"case:{cases['S']}")


def test_district_staff_see_every_site_and_workers_none(
    engine: Engine, cases: dict[str, int]
) -> None:
    queue = signed_in(engine, "admin").get("/review").text
    assert "待审核案件（2）" in queue
    worker = signed_in(engine, "a")
    assert worker.get("/review").status_code == 404
    assert worker.get(f"/review/{cases['S']}").status_code == 404
    assert (
        worker.post(f"/review/{cases['S']}", {"decision": "approve", "why": "x"}).status_code == 404
    )
    assert status(engine, cases["S"]) == "needs_review"


def opt_outs(engine: Engine) -> list[OptOut]:
    with Session(engine) as s:
        return list(s.scalars(select(OptOut)))


def test_the_supervisor_opts_a_resident_out_and_back_in(engine: Engine, world: World) -> None:
    task = world.tasks["A"]
    sup = signed_in(engine, "sup_s")
    page = sup.get(f"/tasks/{task}").text
    assert "登记退订短信" in page
    assert (
        sup.post(f"/tasks/{task}/optout", {"opt": "out", "note": "x"}, csrf=False).status_code
        == 403
    )
    assert sup.post(f"/tasks/{task}/optout", {"opt": "out", "note": " "}).status_code == 422
    assert opt_outs(engine) == []
    answer = sup.post(f"/tasks/{task}/optout", {"opt": "out", "note": "居民当面要求"})
    assert answer.status_code == 303
    (entry,) = opt_outs(engine)
    assert (entry.number, entry.source, entry.note) == ("+8613800138001", "site", "居民当面要求")
    assert "该居民已退订短信（站点登记）" in sup.get(f"/tasks/{task}").text
    listed = sup.get("/site/optouts").text
    assert "+86138****8001" in listed and "+8613800138001" not in listed
    assert f"/tasks/{task}" in listed
    assert (
        sup.post(f"/tasks/{task}/optout", {"opt": "in", "note": "家属要求恢复"}).status_code == 303
    )
    assert opt_outs(engine) == []
    with Session(engine) as s:
        entries = s.scalars(select(AuditEntry).where(AuditEntry.target == f"task:{task}")).all()
        assert [e.action for e in entries] == ["optout_add", "optout_remove"]
        assert all("+86138****8001" in e.detail and "138001" not in e.detail for e in entries)


@pytest.mark.parametrize("name", ["a", "sup_t"])
def test_others_cannot_record_an_opt_out(engine: Engine, world: World, name: str) -> None:
    browser = signed_in(engine, name)
    answer = browser.post(f"/tasks/{world.tasks['A']}/optout", {"opt": "out", "note": "x"})
    assert answer.status_code == 404 and opt_outs(engine) == []
    assert "登记退订短信" not in browser.get(f"/tasks/{world.tasks['A']}").text


def test_the_site_list_is_the_supervisors_own(engine: Engine, world: World) -> None:
    assert signed_in(engine, "sup_t").get("/site/optouts?site=S").status_code == 404
    assert signed_in(engine, "a").get("/site/optouts").status_code == 404
    assert signed_in(engine, "admin").get("/site/optouts?site=S").status_code == 200
