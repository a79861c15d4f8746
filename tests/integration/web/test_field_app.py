"""The field app in-process (httpx's ASGI transport) on SQLite and PostgreSQL: sign-in and its
lockout, sessions, CSRF, security headers, and who may see which visit."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from proactive.accounts import users
from proactive.models import AuditEntry, Case, OutcomeReport, Task, UserSession
from tests.conftest import PINNED_NOW
from tests.integration.web.world import CODE, PASSWORD, Browser, World, build, make_app


class Clock:
    def __init__(self) -> None:
        self.now = PINNED_NOW

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def world(engine: Engine) -> World:
    return build(engine)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def browser(engine: Engine, world: World, clock: Clock) -> Browser:
    return Browser(make_app(engine, clock))


def audit(engine: Engine, action: str) -> list[AuditEntry]:
    with Session(engine) as s:
        return list(s.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def test_sign_in_lands_on_the_role_page_and_sign_out_ends_the_session(
    browser: Browser, engine: Engine
) -> None:
    assert browser.get("/day").headers["location"] == "/login"
    answer = browser.login("a")
    assert (answer.status_code, answer.headers["location"]) == (303, "/day")
    day = browser.get("/day")
    assert day.status_code == 200 and "王1芳" in day.text
    assert browser.post("/logout").status_code == 303
    assert browser.get("/day").headers["location"] == "/login"
    assert [e.actor for e in audit(engine, "sign_out")] == ["user:a"]
    with Session(engine) as s:
        assert s.scalars(select(UserSession.ended_at)).one() is not None


@pytest.mark.parametrize(("name", "home"), [("sup_s", "/site"), ("admin", "/district")])
def test_each_role_has_its_home(browser: Browser, name: str, home: str) -> None:
    assert browser.login(name).headers["location"] == home
    assert browser.get(home).status_code == 200


def test_a_wrong_password_is_refused_and_five_lock_the_account(
    browser: Browser, clock: Clock
) -> None:
    for _ in range(4):
        answer = browser.login("a", "wrong password")
        assert answer.status_code == 401 and "用户名或密码错误" in answer.text
    assert browser.login("a", "wrong password").status_code == 423
    locked = browser.login("a")  # even the right password, for 15 minutes
    assert locked.status_code == 423 and "锁定" in locked.text
    clock.now += dt.timedelta(minutes=14)
    assert browser.login("a").status_code == 423
    clock.now += dt.timedelta(minutes=2)
    assert browser.login("a").status_code == 303


def test_an_unknown_name_answers_like_a_wrong_password(browser: Browser) -> None:
    answer = browser.login("nobody")
    assert answer.status_code == 401 and "用户名或密码错误" in answer.text


def test_a_session_expires_after_twelve_hours(browser: Browser, clock: Clock) -> None:
    browser.login("a")
    clock.now += dt.timedelta(hours=11, minutes=59)
    assert browser.get("/day").status_code == 200
    clock.now += dt.timedelta(minutes=2)
    assert browser.get("/day").headers["location"] == "/login"


def test_a_disabled_account_loses_its_session(browser: Browser, engine: Engine) -> None:
    browser.login("a")
    with Session(engine) as s, s.begin():
        users.disable(s, "a", PINNED_NOW)
    assert browser.get("/day").headers["location"] == "/login"
    assert browser.login("a").status_code == 401


def test_every_form_needs_its_csrf_token(browser: Browser, world: World) -> None:
    browser.get("/login")
    refused = browser.post("/login", {"name": "a", "password": PASSWORD}, csrf=False)
    assert refused.status_code == 403
    browser.login("a")
    task = world.tasks["A"]
    assert browser.post(f"/tasks/{task}/phone", {}, csrf=False).status_code == 403
    forged = browser.post(f"/tasks/{task}/phone", {"csrf": "forged"}, csrf=False)
    assert forged.status_code == 403
    assert browser.post("/logout", {}, csrf=False).status_code == 403
    assert browser.post(f"/tasks/{task}/phone").status_code == 200


def test_security_headers_on_every_page(browser: Browser) -> None:
    for path in ("/login", "/healthz", "/static/app.css"):
        headers = browser.get(path).headers
        csp = headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp
        assert headers["x-frame-options"] == "DENY"
        assert headers["referrer-policy"] == "no-referrer"
        assert "strict-transport-security" not in headers


def test_cookies_are_secure_behind_https(engine: Engine, world: World) -> None:
    browser = Browser(make_app(engine), base="https://testserver")
    answer = browser.login("a")
    cookie = answer.headers["set-cookie"]
    assert "proactive_session=" in cookie
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "strict-transport-security" in answer.headers
    plain = Browser(make_app(engine))
    assert "Secure" not in plain.login("a").headers["set-cookie"]


def test_a_worker_sees_only_her_own_visits(browser: Browser, world: World) -> None:
    browser.login("a")
    assert browser.get(f"/tasks/{world.tasks['A']}").status_code == 200
    for other in ("B", "C"):
        assert browser.get(f"/tasks/{world.tasks[other]}").status_code == 404
        assert browser.post(f"/tasks/{world.tasks[other]}/phone").status_code == 404
    assert browser.get("/tasks/999999").status_code == 404
    day = browser.get("/day").text
    assert "王1芳" in day and "王4芳" not in day and "王5芳" not in day
    assert browser.get("/site").status_code == 404
    assert browser.get("/district").status_code == 404


def test_a_supervisor_sees_only_her_site(browser: Browser, world: World) -> None:
    browser.login("sup_s")
    for mine in ("A", "B"):
        assert browser.get(f"/tasks/{world.tasks[mine]}").status_code == 200
    assert browser.get(f"/tasks/{world.tasks['C']}").status_code == 404
    assert browser.get("/site?site=T").status_code == 404
    assert "社工WA" in browser.get("/site").text
    assert browser.get("/district").status_code == 404


def test_an_admin_sees_everything(browser: Browser, world: World) -> None:
    browser.login("admin")
    for key in ("A", "B", "C"):
        assert browser.get(f"/tasks/{world.tasks[key]}").status_code == 200
    assert "T社区服务站" in browser.get("/district").text
    assert "社工WC" in browser.get("/site?site=T").text


def test_the_phone_number_is_masked_until_revealed_and_the_reveal_is_audited(
    browser: Browser, world: World, engine: Engine
) -> None:
    browser.login("a")
    task = world.tasks["A"]
    page = browser.get(f"/tasks/{task}").text
    assert "+8613800138001" not in page and "+86138****8001" in page
    shown = browser.post(f"/tasks/{task}/phone").text
    assert 'href="tel:+8613800138001"' in shown
    (entry,) = audit(engine, "reveal_phone")
    assert (entry.actor, entry.target, entry.detail) == ("user:a", f"task:{task}", "+86138****8001")


def test_delivered_with_the_code_closes_the_case_once(
    browser: Browser, world: World, engine: Engine
) -> None:
    browser.login("a")
    task = world.tasks["A"]
    form = {"outcome": "delivered", "code": CODE, "key": "k-delivered-1", "note": "本人签收"}
    first = browser.post(f"/tasks/{task}/outcome", form)
    assert first.status_code == 200 and "已送达" in first.text
    again = browser.post(f"/tasks/{task}/outcome", form)  # a double tap: the same receipt
    assert again.status_code == 200 and "已送达，案件办结" in again.text
    with Session(engine) as s:
        done = s.get(Task, task)
        assert done is not None and (done.status, done.outcome) == ("done", "delivered")
        assert "本人签收" in done.note
        assert s.scalars(select(Case.status).where(Case.id == done.case_id)).one() == "closed"
        assert len(s.scalars(select(OutcomeReport)).all()) == 1
    assert [e.target for e in audit(engine, "outcome")] == [f"task:{task}"]


def test_five_wrong_codes_lock_the_delivery_for_the_supervisor(
    browser: Browser, world: World, engine: Engine
) -> None:
    browser.login("a")
    task = world.tasks["A"]
    for n in range(4):
        answer = browser.post(
            f"/tasks/{task}/outcome",
            {"outcome": "delivered", "code": "0000", "key": f"wrong-code-{n}"},
        )
        assert answer.status_code == 422 and f"还可再试 {4 - n} 次" in answer.text
    locked = browser.post(
        f"/tasks/{task}/outcome", {"outcome": "delivered", "code": "0000", "key": "wrong-code-4"}
    )
    assert "任务已锁定" in locked.text
    right = browser.post(
        f"/tasks/{task}/outcome", {"outcome": "delivered", "code": CODE, "key": "right-code-5"}
    )
    assert "已锁定" in right.text
    with Session(engine) as s:
        assert s.get(Task, task).status == "planned"  # type: ignore[union-attr]
    assert len(audit(engine, "task_locked")) == 1
    supervisor = Browser(browser.app)
    supervisor.login("sup_s")
    assert "确认码连续错误5次" in supervisor.get("/site").text


def test_not_home_plans_the_next_try(browser: Browser, world: World, engine: Engine) -> None:
    browser.login("a")
    task = world.tasks["A"]
    answer = browser.post(f"/tasks/{task}/outcome", {"outcome": "not_home", "key": "nothome-1"})
    assert answer.status_code == 200 and "不在家" in answer.text and "再访" in answer.text
    with Session(engine) as s:
        tried = s.get(Task, task)
        assert tried is not None and (tried.status, tried.outcome) == ("failed", "not_home")
        later = s.scalars(select(Task).where(Task.case_id == tried.case_id, Task.attempt == 2))
        assert later.one().day > tried.day


def test_an_outcome_for_someone_elses_visit_is_not_found(
    browser: Browser, world: World, engine: Engine
) -> None:
    browser.login("a")
    task = world.tasks["B"]
    form = {"outcome": "delivered", "code": CODE, "key": "guessed-1"}
    assert browser.post(f"/tasks/{task}/outcome", form).status_code == 404
    with Session(engine) as s:
        assert s.get(Task, task).status == "planned"  # type: ignore[union-attr]


def test_setup_with_the_one_time_code(engine: Engine, world: World) -> None:
    with Session(engine) as s, s.begin():
        code = users.add(s, "d", users.Role.worker, "WB", "", PINNED_NOW)
    browser = Browser(make_app(engine))
    browser.get("/setup")
    fields = {"name": "d", "code": code.lower(), "password": "short", "again": "short"}
    assert "至少 10 位" in browser.post("/setup", fields).text
    good = "一二三四五六七八九十"
    wrong = {**fields, "code": "AAAAA-AAAAA", "password": good, "again": good}
    assert "设置码错误" in browser.post("/setup", wrong).text
    answer = browser.post("/setup", {**fields, "password": good, "again": good})
    assert answer.headers["location"] == "/login"
    assert browser.login("d", good).headers["location"] == "/day"
    browser.get("/setup")
    again = {**fields, "password": "另一个很长的新密码啊", "again": "另一个很长的新密码啊"}
    assert "设置码错误" in browser.post("/setup", again).text  # used up


def test_the_day_in_stop_order_with_walks_map_and_tomorrow(browser: Browser, world: World) -> None:
    browser.login("a")
    day = browser.get("/day").text
    assert day.index("王1芳") < day.index("王2芳")  # stop 1, then stop 2
    assert "浙老优330108-2026-000001" in day and "330108********" in day
    assert day.count("步行") >= 2 and "<svg" in day and ">站</text>" in day
    assert "王3芳" not in day
    tomorrow = browser.get("/day?when=tomorrow").text
    assert "王3芳" in tomorrow and "王1芳" not in tomorrow
