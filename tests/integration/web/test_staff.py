"""District staff's pages in-process, on SQLite and PostgreSQL, over a district a nightly run
filled: runs, programs, coverage and forecast, certificates (search, verify, reissue, revoke)
and the SMS outbox. Only an admin sees them; ID and phone numbers are masked; a reissue or a
revocation needs a reason and the CSRF token, and is audited."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from proactive.certificates.issuing import Issuer
from proactive.models import AuditEntry, Case, Certificate, Message, OptOut, Run, Task
from proactive.web import staff
from tests.conftest import PINNED_NOW
from tests.integration.web.world import Browser, district_env, make_app, run_district

PAGES = (
    "/district/runs",
    "/district/programs",
    "/district/coverage",
    "/district/certificates",
    "/district/certificates?q=330108",
    "/district/sms",
)


@pytest.fixture(autouse=True)
def _invariants(invariants_after: None) -> None:
    """Every scenario here ends with the invariants of `proactive doctor` holding."""


@pytest.fixture
def admin(engine: Engine, issuer: Issuer, key_dir: Path, tmp_path: Path) -> Browser:
    run_district(engine, tmp_path / "extract", issuer)
    return signed_in(engine, key_dir, tmp_path, "admin")


def signed_in(engine: Engine, key_dir: Path, tmp_path: Path, name: str) -> Browser:
    browser = Browser(make_app(engine, env=district_env(key_dir, tmp_path)))
    assert browser.login(name).status_code == 303
    return browser


def certificates(engine: Engine) -> list[Certificate]:
    with Session(engine) as s:
        return list(s.scalars(select(Certificate).order_by(Certificate.id)))


def audited(engine: Engine, action: str) -> list[AuditEntry]:
    with Session(engine) as s:
        return list(s.scalars(select(AuditEntry).where(AuditEntry.action == action)))


FULL_NUMBER = re.compile(r"(?<!\d)\d{17}[\dX](?!\d)|\+86\d{11}")


def no_full_numbers(html: str) -> None:
    assert not FULL_NUMBER.findall(html)


@pytest.mark.parametrize("name", ["w1", "sup"])
def test_only_an_admin_sees_the_staff_pages(
    engine: Engine, admin: Browser, key_dir: Path, tmp_path: Path, name: str
) -> None:
    first = certificates(engine)[0]
    other = signed_in(engine, key_dir, tmp_path, name)
    for path in (*PAGES, f"/district/certificates/{first.id}"):
        assert other.get(path).status_code == 404, path
    for action in ("reissue", "revoke"):
        answer = other.post(
            f"/district/certificates/{first.id}/{action}", {"reason": "lost", "why": "x"}
        )
        assert answer.status_code == 404
    assert [c.status for c in certificates(engine)] == ["active"] * 3


def test_signed_out_the_pages_ask_for_sign_in(engine: Engine, admin: Browser) -> None:
    anonymous = Browser(admin.app)
    answer = anonymous.get("/district/runs")
    assert answer.status_code == 303 and answer.headers["location"] == "/login"
    assert anonymous.post("/district/certificates/1/revoke", {"why": "x"}).status_code == 401


def test_every_page_answers_masked(engine: Engine, admin: Browser) -> None:
    with Session(engine) as s, s.begin():
        s.add(OptOut(number="+8613800138111", source="hotline", note="", created_at=PINNED_NOW))
        message = s.scalars(select(Message)).first()
        assert message is not None
        message.status, message.error_code = "failed", "30006"
    for path in PAGES:
        answer = admin.get(path)
        assert answer.status_code == 200, path
        no_full_numbers(answer.text)
    sms = admin.get("/district/sms").text
    assert "+86138****8111" in sms and "热线" in sms and "30006" in sms
    assert re.search(r'data-status="failed"><th scope="row">发送失败</th><td>1<', sms)


def test_runs_show_stages_timings_and_masked_errors(engine: Engine, admin: Browser) -> None:
    with Session(engine) as s, s.begin():
        s.add(
            Run(
                as_of=dt.date(2026, 11, 25),
                covered_from=dt.date(2026, 11, 25),
                status="failed",
                started_at=PINNED_NOW,
                error="IntegrityError: 330108196611250011 twice",
            )
        )
    page = admin.get("/district/runs").text
    assert "330108********0011" in page and "330108196611250011" not in page
    assert "失败" in page and "成功" in page
    assert re.search(r"<th scope=\"row\">issue</th><td>[0-9.]+</td><td>[^<]*issued:senior", page)


def test_programs_preview_the_day(admin: Browser) -> None:
    page = admin.get("/district/programs?date=2026-11-25").text
    assert "老年人优待证" in page and "2026-11-25" in page
    assert re.search(r'data-program="senior_certificate">.*?class="reaching">3<', page, re.S)
    assert re.search(r'data-program="senior_certificate">.*?class="matched">0<', page, re.S)
    assert "已排送证 3" in page  # the cases the run opened


def test_coverage_and_forecast(admin: Browser) -> None:
    page = admin.get("/district/coverage?date=2026-11-26").text
    assert re.search(r'class="covered">3 户', page) and re.search(r'class="uncovered">0 户', page)
    assert "<svg" in page and page.count('<rect class="bar"') == staff.FORECAST_WEEKS
    assert 'data-site="C1"' in page
    assert "共 17 次上门（老年人优待证 17）" in page  # run_district's people turning 60 soon


def test_coverage_map_draws_the_sites_their_circle_and_the_homes_by_cell(admin: Browser) -> None:
    page = admin.get("/district/coverage?date=2026-11-26").text
    (svg,) = re.findall(
        r'<svg viewBox="[^"]+" role="img" aria-label="15分钟服务圈地图.*?</svg>', page, re.S
    )
    assert "2 个站点，其中 1 个社区服务站" in svg and "圈外 0 户" in svg
    assert svg.count('class="site street"') == 1 and svg.count('class="site community"') == 1
    assert svg.count("<ellipse") == 1  # only the community site draws a circle
    cells = re.findall(r'<rect class="cell inside"[^>]*><title>(\d+) 户，圈外 0 户</title>', svg)
    assert cells and sum(map(int, cells)) == 3  # run_district's three homes, all inside
    assert "<title>C1服务站（社区服务站）</title>" in svg
    assert "多数在圈外" in page and "街道便民服务中心（1）" in page


def test_search_by_number_or_masked_id(engine: Engine, admin: Browser) -> None:
    first = certificates(engine)[0]
    by_number = admin.get(f"/district/certificates?q={first.certificate_no[-6:]}").text
    assert f"/district/certificates/{first.id}" in by_number
    masked = f"{first.id_number[:6]}********{first.id_number[-4:]}"
    by_masked = admin.get(f"/district/certificates?q={masked}").text
    assert f"/district/certificates/{first.id}" in by_masked and "结果（1）" in by_masked
    by_full = admin.get(f"/district/certificates?q={first.id_number}").text
    assert "结果（1）" in by_full and first.id_number not in by_full
    assert "结果（0）" in admin.get("/district/certificates?q=12").text
    (entry, *_) = audited(engine, "certificate_search")
    assert entry.actor == "user:admin" and first.id_number not in "".join(
        e.detail for e in audited(engine, "certificate_search")
    )


def test_a_reissue_needs_a_reason_and_the_token_and_is_audited(
    engine: Engine, admin: Browser
) -> None:
    first = certificates(engine)[0]
    detail = admin.get(f"/district/certificates/{first.id}").text
    assert "有效：证书真实有效（valid）" in detail
    path = f"/district/certificates/{first.id}/reissue"
    assert admin.post(path, {"reason": "lost"}, csrf=False).status_code == 403
    empty = admin.post(path, {"reason": ""})
    assert empty.status_code == 422 and "请选择补发原因" in empty.text
    assert certificates(engine)[0].status == "active"
    answer = admin.post(path, {"reason": "lost", "note": "居民来电 13800138000"})
    assert answer.status_code == 303
    old, *_, new = certificates(engine)
    assert (old.status, new.status, new.replaces_id) == ("revoked", "active", old.id)
    assert answer.headers["location"] == f"/district/certificates/{new.id}"
    with Session(engine) as s:  # the planned delivery now carries the new number
        task = s.scalars(select(Task).where(Task.case_id == old.case_id)).one()
        assert task.certificate_no == new.certificate_no
    (entry,) = audited(engine, "certificate_reissue")
    assert entry.target == f"certificate:{old.certificate_no}"
    assert new.certificate_no in entry.detail and "13800138000" not in entry.detail
    shown = admin.get(f"/district/certificates/{old.id}").text
    assert "无效" in shown and new.certificate_no in shown and "补发原因" not in shown
    again = admin.post(path, {"reason": "lost"})
    assert again.status_code == 422 and "无法补发" in again.text


def test_a_revocation_needs_a_reason_cancels_the_open_case_and_is_audited(
    engine: Engine, admin: Browser
) -> None:
    first = certificates(engine)[0]
    path = f"/district/certificates/{first.id}/revoke"
    assert admin.post(path, {"why": "x"}, csrf=False).status_code == 403
    empty = admin.post(path, {"why": "  "})
    assert empty.status_code == 422 and "请填写作废理由" in empty.text
    assert admin.post(path, {"why": "重复发证"}).status_code == 303
    with Session(engine) as s:
        assert s.get_one(Certificate, first.id).revoked_reason == "revoked_by_staff"
        assert s.get_one(Case, first.case_id).status == "cancelled"
        task = s.scalars(select(Task).where(Task.case_id == first.case_id)).one()
        assert task.status == "withdrawn"
    (entry,) = audited(engine, "certificate_revoke")
    assert "重复发证" in entry.detail and entry.actor == "user:admin"
    page = admin.get(f"/district/certificates/{first.id}").text
    assert "证书已作废" in page and "人工作废证书" in page
    again = admin.post(path, {"why": "再次"})
    assert again.status_code == 422 and "无法作废" in again.text


def test_an_unknown_certificate_is_not_found(admin: Browser) -> None:
    assert admin.get("/district/certificates/999999").status_code == 404
    assert admin.post("/district/certificates/999999/revoke", {"why": "x"}).status_code == 404
    missing = admin.post("/district/certificates/999999/reissue", {"reason": "lost"})
    assert missing.status_code == 404
