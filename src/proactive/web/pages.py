"""The field app's pages: sign-in, a worker's day, one visit, outcomes, the site's progress.

Thin: every request resolves the session, checks the CSRF token of a POST (403 without it),
calls one use case in one transaction and renders a template. The rules live in
accounts.roles (who sees what) and field.visits / field.reports (what happens)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from proactive import bootstrap, db
from proactive.accounts import sign_in, tokens, users
from proactive.accounts.roles import ROLE_ZH, Actor, Role, home_path, may_supervise
from proactive.accounts.sign_in import Current, Refusal, SignedIn
from proactive.certificates import issued, keys, signing
from proactive.certificates.reading import MAX_FILE_BYTES, MAX_PHOTO_BYTES, OverLimit
from proactive.certificates.signing import Verification
from proactive.field import reports, site_optouts, supervision, task_states, visits
from proactive.field.outcomes import TaskNotFound
from proactive.masking import mask_id, mask_name
from proactive.settings import ROOT, Settings
from proactive.time import SHANGHAI, Clock, local_date
from proactive.web import maps, staff, supervisor
from proactive.web.kit import Kit
from proactive.web.ratelimit import RateLimit
from proactive.web.security import (
    CSRF_FIELD,
    CSRF_HEADER,
    FORM_COOKIE,
    SESSION_COOKIE,
    capped,
    csrf_ok,
    form_token,
    set_cookie,
)

T = TypeVar("T")
Handler = Callable[[Request, Current], Awaitable[Response]]
SESSION_SECONDS = int(sign_in.SESSION_LENGTH.total_seconds())
VERIFY_LIMIT = 20  # checks per client per minute
# a photo at reading's limit, with room for the form's other fields and its boundaries
MAX_VERIFY_BODY = MAX_PHOTO_BYTES + 64 * 1024
TOO_LARGE = (
    f"文件过大（照片不超过 {MAX_PHOTO_BYTES >> 20} MB，"
    f"证书 PDF 不超过 {MAX_FILE_BYTES // 1_000_000} MB）"
)
VERDICT_ZH = {
    signing.VALID: "证书真实有效",
    signing.REVOKED: "证书已作废（挂失、补发或注销）",
    signing.BAD_SIGNATURE: "签名不符：内容可能被篡改",
    signing.UNKNOWN_KEY: "不是本区签发的证书",
    signing.UNREADABLE: "无法识别二维码内容",
    signing.UNKNOWN_NUMBER: "登记簿中没有此证号：证书无效",
    signing.NOT_ISSUED: "此证号尚未制证完成：证书无效",
    signing.WRONG_HOLDER: "证号与持证人不符：证书无效",
}
FORM_SECONDS = 3600


def templates() -> Environment:
    env = Environment(
        loader=FileSystemLoader(ROOT / "templates" / "pages" / "app"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(
        ROLE_ZH=ROLE_ZH,
        OUTCOME_ZH=reports.OUTCOME_ZH,
        STATUS_ZH=task_states.STATUS_ZH,
        VERDICT_ZH=VERDICT_ZH,
        **staff.WORDS,
    )
    env.filters["local"] = lambda moment: moment.astimezone(SHANGHAI).strftime("%m-%d %H:%M")
    env.filters["minutes"] = lambda value: "—" if value is None else f"{value:.0f} 分钟"
    return env


@dataclass(frozen=True)
class FieldApp:
    engine: Engine
    settings: Settings
    clock: Clock

    def routes(self) -> list[BaseRoute]:
        sessions = db.session_factory(self.engine)
        env = templates()
        programs = bootstrap.programs()
        dispatcher = bootstrap.dispatcher(self.settings)

        def run(use_case: Callable[[Session], T]) -> Awaitable[T]:
            def in_transaction() -> T:
                with sessions.begin() as session:
                    return use_case(session)

            return run_in_threadpool(in_transaction)

        def page(name: str, status: int = 200, **context: Any) -> HTMLResponse:
            return HTMLResponse(env.get_template(name).render(**context), status_code=status)

        def not_found(current: Current | None = None) -> HTMLResponse:
            return page("not_found.html.j2", 404, me=current.actor if current else None, csrf="")

        def signed_in(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
            """The session behind the cookie (else sign in); a POST's CSRF token (else 403)."""

            async def endpoint(request: Request) -> Response:
                token, now = request.cookies.get(SESSION_COOKIE, ""), self.clock()
                current = await run(lambda s: sign_in.current(s, token, now))
                if current is None:
                    if request.method == "GET":
                        return RedirectResponse("/login", status_code=303)
                    return JSONResponse({"result": "sign_in", "message": "请重新登录"}, 401)
                if request.method == "POST":
                    given = request.headers.get(CSRF_HEADER, "")
                    if not given and "json" not in request.headers.get("content-type", ""):
                        given = str((await request.form()).get(CSRF_FIELD, ""))
                    if not csrf_ok(given, current.csrf):
                        return HTMLResponse("请求已过期，请刷新页面后重试", status_code=403)
                return await handler(request, current)

            return endpoint

        # Sign-in, setup, sign-out: no session yet.

        async def login_form(request: Request, message: str = "", status: int = 200) -> Response:
            token = form_token(request)
            response = page("login.html.j2", status, me=None, csrf=token, message=message)
            set_cookie(response, request, FORM_COOKIE, token, FORM_SECONDS)
            return response

        async def login(request: Request) -> Response:
            if request.method == "GET":
                return await login_form(request)
            form = await request.form()
            if not csrf_ok(str(form.get(CSRF_FIELD, "")), request.cookies.get(FORM_COOKIE, "")):
                return HTMLResponse("请求已过期，请刷新页面后重试", status_code=403)
            name, password, now = (
                str(form.get("name", "")),
                str(form.get("password", "")),
                self.clock(),
            )
            outcome = await run(lambda s: sign_in.sign_in(s, name, password, now))
            if outcome is Refusal.locked:
                return await login_form(request, "登录失败次数过多，账户已锁定 15 分钟", 423)
            if not isinstance(outcome, SignedIn):
                return await login_form(request, "用户名或密码错误", 401)
            response = RedirectResponse(home_path(outcome.actor), status_code=303)
            set_cookie(response, request, SESSION_COOKIE, outcome.token, SESSION_SECONDS)
            return response

        async def setup(request: Request) -> Response:
            token = form_token(request)
            if request.method == "POST":
                form = await request.form()
                if not csrf_ok(str(form.get(CSRF_FIELD, "")), request.cookies.get(FORM_COOKIE, "")):
                    return HTMLResponse("请求已过期，请刷新页面后重试", status_code=403)
                name, code = str(form.get("name", "")), str(form.get("code", ""))
                password, again = str(form.get("password", "")), str(form.get("again", ""))
                now = self.clock()
                if password != again:
                    message = "两次输入的密码不一致"
                else:
                    try:
                        await run(lambda s: users.choose_password(s, name, code, password, now))
                    except users.SetupRefused as error:
                        message = str(error).split(": ", 1)[-1]
                    else:
                        return RedirectResponse("/login", status_code=303)
                response = page("setup.html.j2", 400, me=None, csrf=token, message=message)
            else:
                response = page("setup.html.j2", me=None, csrf=token, message="")
            set_cookie(response, request, FORM_COOKIE, token, FORM_SECONDS)
            return response

        async def logout(request: Request, current: Current) -> Response:
            token, now = request.cookies.get(SESSION_COOKIE, ""), self.clock()
            await run(lambda s: sign_in.sign_out(s, token, now))
            response = RedirectResponse("/login", status_code=303)
            response.delete_cookie(SESSION_COOKIE, path="/")
            return response

        async def home(request: Request, current: Current) -> Response:
            return RedirectResponse(home_path(current.actor), status_code=303)

        # The worker's day and one visit.

        async def day(request: Request, current: Current) -> Response:
            me = current.actor
            if me.role is not Role.worker:
                return RedirectResponse(home_path(me), status_code=303)
            today = local_date(self.clock())
            which = request.query_params.get("when", "today")
            when = today + dt.timedelta(days=1 if which == "tomorrow" else 0)
            found = await run(
                lambda s: visits.worker_day(s, programs, dispatcher.walking, me.worker_id, when)
            )
            marks = maps.layout(
                found.site_point, [(str(stop.line.stop), stop.point) for stop in found.stops]
            )
            return page(
                "day.html.j2",
                me=me,
                csrf=current.csrf,
                day=found,
                marks=marks,
                which=which,
                map_size=(maps.WIDTH, maps.HEIGHT),
            )

        async def task(request: Request, current: Current) -> Response:
            return await show_task(request, current, phone=None, receipt=None)

        async def reassign(request: Request, current: Current) -> Response:
            form, task_id, now = (
                await request.form(),
                int(request.path_params["task_id"]),
                self.clock(),
            )
            worker_id = str(form.get("worker_id", ""))
            try:
                day = dt.date.fromisoformat(str(form.get("day", "")))
            except ValueError:
                return await show_task(request, current, None, None, 422, "日期格式不正确")

            def move(s: Session) -> None:
                supervision.reassign(
                    s, current.actor, task_id, worker_id, day, dispatcher, now, local_date(now)
                )

            try:
                await run(move)
            except TaskNotFound:
                return not_found(current)
            except supervision.Unassignable as error:
                return await show_task(request, current, None, None, 422, f"无法改派：{error}")
            return RedirectResponse(f"/tasks/{task_id}", status_code=303)

        async def show_task(
            request: Request,
            current: Current,
            phone: str | None,
            receipt: reports.Receipt | None,
            status: int = 200,
            problem: str = "",
        ) -> Response:
            task_id = int(request.path_params["task_id"])

            def read(s: Session) -> tuple[Any, ...] | None:
                found = visits.visible_task(s, current.actor, task_id)
                if found is None:
                    return None
                line = visits.task_line(s, found, programs)
                crew = supervision.team(s, found.site_id)
                supervises = may_supervise(current.actor, found.site_id)
                sms = site_optouts.standing(s, found) if supervises else None
                return found, line, reports.wrong_codes(s, task_id), crew, sms

            found = await run(read)
            if found is None:
                return not_found(current)
            row, line, wrong, crew, sms = found
            return page(
                "task.html.j2",
                status,
                me=current.actor,
                csrf=current.csrf,
                task=row,
                line=line,
                phone=phone,
                receipt=receipt,
                locked=wrong >= reports.MAX_WRONG_CODES,
                key=tokens.new_token(),
                supervises=may_supervise(current.actor, row.site_id),
                home=home_path(current.actor),
                team=crew,
                sms=sms,
                problem=problem,
            )

        async def phone(request: Request, current: Current) -> Response:
            task_id, now = int(request.path_params["task_id"]), self.clock()

            def reveal(s: Session) -> str | None:
                found = visits.visible_task(s, current.actor, task_id)
                return None if found is None else visits.reveal_phone(s, current.actor, found, now)

            number = await run(reveal)
            if number is None:
                return not_found(current)
            return await show_task(request, current, phone=number, receipt=None)

        async def submit(actor: Actor, report: reports.Report) -> reports.Receipt:
            now = self.clock()

            def use_case(s: Session) -> reports.Receipt:
                return reports.submit(s, actor, report, programs, dispatcher, now, local_date(now))

            try:
                return await run(use_case)
            except IntegrityError:  # the same key arrived twice at once: the other one won
                return await run(use_case)

        async def outcome_form(request: Request, current: Current) -> Response:
            """The no-JavaScript path: the form's own key makes a double submit harmless."""
            form, task_id = await request.form(), int(request.path_params["task_id"])
            report = reports.Report(
                key=str(form.get("key", "")),
                task_id=task_id,
                outcome=str(form.get("outcome", "")),
                code=str(form.get("code", "")),
                note=str(form.get("note", "")),
                recorded_at=self.clock(),
            )
            try:
                receipt = await submit(current.actor, report)
            except reports.BadReport:
                return HTMLResponse("无法识别的记录", status_code=400)
            if receipt.result is reports.Result.conflict:
                return not_found(current)
            status = 200 if receipt.result is reports.Result.applied else 422
            return await show_task(request, current, None, receipt, status)

        async def outcome_api(request: Request, current: Current) -> Response:
            """The offline queue's path: JSON in, the receipt out (the same one for a resend)."""
            try:
                body = json.loads(await request.body())
                report = reports.Report(
                    key=str(body["key"]),
                    task_id=int(body["task_id"]),
                    outcome=str(body["outcome"]),
                    code=str(body.get("code", "")),
                    note=str(body.get("note", "")),
                    recorded_at=dt.datetime.fromisoformat(str(body["recorded_at"])),
                )
                if report.recorded_at.tzinfo is None:
                    raise ValueError("recorded_at without a zone")
                receipt = await submit(current.actor, report)
            except (ValueError, KeyError, TypeError, reports.BadReport):
                return JSONResponse({"result": "bad_request", "message": "无法识别的记录"}, 400)
            return JSONResponse(
                {
                    "key": receipt.key,
                    "task_id": receipt.task_id,
                    "result": receipt.result.value,
                    "message": receipt.message,
                    "repeated": receipt.repeated,
                }
            )

        # The site supervisor.

        async def site(request: Request, current: Current) -> Response:
            me = current.actor
            site_id = request.query_params.get("site", me.site_id)
            if not site_id or not may_supervise(me, site_id):
                return (
                    RedirectResponse("/district", 303)
                    if me.role is Role.admin
                    else not_found(current)
                )
            today = local_date(self.clock())
            board = await run(lambda s: supervision.site_board(s, site_id, today))
            return page("site.html.j2", me=me, csrf=current.csrf, board=board, mask_id=mask_id)

        async def district(request: Request, current: Current) -> Response:
            if current.actor.role is not Role.admin:
                return not_found(current)
            today = local_date(self.clock())
            found = await run(lambda s: supervision.district_summary(s, today))
            return page("district.html.j2", me=current.actor, csrf=current.csrf, sites=found)

        # The public verification page: no account, rate-limited per client.

        verify_limit = RateLimit(VERIFY_LIMIT, dt.timedelta(minutes=1))
        public_keys = keys.public_keys(Path(self.settings.key_dir))

        async def verify(request: Request) -> Response:
            token = form_token(request)
            result: Verification | None = None
            status = 200
            if request.method == "POST":
                client = request.client.host if request.client else "unknown"
                if not verify_limit.allow(client, self.clock()):
                    return HTMLResponse("查询过于频繁，请一分钟后再试", status_code=429)
                body = await capped(request, MAX_VERIFY_BODY)
                if body is None:
                    return HTMLResponse(TOO_LARGE, status_code=413)
                async with body.form(max_files=1, max_fields=8) as form:  # closes the file
                    given = str(form.get(CSRF_FIELD, ""))
                    payload = str(form.get("payload", "")).strip()
                    upload = form.get("file")
                    data = b""
                    if not payload and isinstance(upload, UploadFile):
                        data = await upload.read()
                if not csrf_ok(given, request.cookies.get(FORM_COOKIE, "")):
                    return HTMLResponse("请求已过期，请刷新页面后重试", status_code=403)
                if data:
                    try:
                        payload = await run_in_threadpool(issued.payload_of_upload, data)
                    except OverLimit as error:
                        return HTMLResponse(f"无法核验：{error.zh}", status_code=413)
                result = await run_in_threadpool(
                    issued.verify_payload, payload, public_keys, self.engine
                )
                status = 200 if result.valid else 422
            response = page(
                "verify.html.j2",
                status,
                me=None,
                csrf=token,
                result=result,
                VERDICT_ZH=VERDICT_ZH,
                mask_name=mask_name,
                programs=programs,
            )
            set_cookie(response, request, FORM_COOKIE, token, FORM_SECONDS)
            return response

        kit = Kit(
            self.engine,
            self.settings,
            self.clock,
            programs,
            dispatcher,
            public_keys,
            sessions,
            run,
            page,
            not_found,
            signed_in,
        )
        return [
            *staff.routes(kit),
            *supervisor.routes(kit),
            Route("/verify", verify, methods=["GET", "POST"]),
            Route("/login", login, methods=["GET", "POST"]),
            Route("/setup", setup, methods=["GET", "POST"]),
            Route("/logout", signed_in(logout), methods=["POST"]),
            Route("/", signed_in(home), methods=["GET"]),
            Route("/day", signed_in(day), methods=["GET"]),
            Route("/tasks/{task_id:int}", signed_in(task), methods=["GET"]),
            Route("/tasks/{task_id:int}/phone", signed_in(phone), methods=["POST"]),
            Route("/tasks/{task_id:int}/outcome", signed_in(outcome_form), methods=["POST"]),
            Route("/tasks/{task_id:int}/reassign", signed_in(reassign), methods=["POST"]),
            Route("/api/outcomes", signed_in(outcome_api), methods=["POST"]),
            Route("/site", signed_in(site), methods=["GET"]),
            Route("/district", signed_in(district), methods=["GET"]),
        ]
