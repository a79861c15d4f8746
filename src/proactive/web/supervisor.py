"""Pages for site supervisors (and district staff): the review queue of her site's cases with
the failing checks and `explain`'s reasoning, approve or reject with a reason; opt-outs she
records for residents who cannot reply by SMS. Every rule is asked on the server: a case or
visit of another site answers 404."""

from __future__ import annotations

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from proactive.accounts import audit
from proactive.accounts.roles import Role, may_supervise
from proactive.accounts.sign_in import Current
from proactive.field import site_optouts, site_review, visits
from proactive.programs import explain, review
from proactive.time import local_date
from proactive.web.kit import Kit

REVIEW_PAGE = 100  # cases shown at once, oldest first
REASON_LENGTH = 500
NOTE_LENGTH = 200


def routes(kit: Kit) -> list[BaseRoute]:
    walking = kit.dispatcher.walking

    async def review_queue(request: Request, current: Current, problem: str = "") -> Response:
        if current.actor.role is Role.worker:
            return kit.not_found(current)
        waiting = await kit.run(lambda s: site_review.queue(s, current.actor, walking))
        return kit.page(
            "review.html.j2",
            422 if problem else 200,
            me=current.actor,
            csrf=current.csrf,
            cases=waiting[:REVIEW_PAGE],
            waiting=len(waiting),
            problem=problem,
            programs=kit.programs,
        )

    async def review_case(request: Request, current: Current) -> Response:
        case_id = int(request.path_params["case_id"])
        found = await kit.run(lambda s: site_review.one(s, current.actor, case_id, walking))
        if found is None:
            return kit.not_found(current)
        today, district = local_date(kit.clock()), kit.settings.district_code
        reasoning = await run_in_threadpool(
            explain.explain, kit.engine, found.id_number, kit.programs, today, district
        )
        return kit.page(
            "review_case.html.j2",
            me=current.actor,
            csrf=current.csrf,
            c=found,
            reasoning=reasoning,
            programs=kit.programs,
        )

    async def review_decide(request: Request, current: Current) -> Response:
        form, case_id = await request.form(), int(request.path_params["case_id"])
        found = await kit.run(lambda s: site_review.one(s, current.actor, case_id, walking))
        if found is None:
            if current.actor.role is Role.admin:  # decided meanwhile: say so
                return await review_queue(request, current, f"案件 {case_id} 不在待审核队列中")
            return kit.not_found(current)
        approve = str(form.get("decision", "")) == "approve"
        why = str(form.get("why", "")).strip()[:REASON_LENGTH]
        if not why:
            return await review_queue(request, current, "请填写审核理由")

        def decide() -> str:
            done = review.decide(kit.engine, case_id, approve, current.actor.name, why, kit.clock)
            with kit.sessions.begin() as s:
                audit.record(s, current.actor, "review", f"case:{case_id}", kit.clock(), done)
            return done

        try:
            await run_in_threadpool(decide)
        except (review.CaseNotFound, review.NotInReview):
            return await review_queue(request, current, f"案件 {case_id} 不在待审核队列中")
        return RedirectResponse("/review", status_code=303)

    async def optout(request: Request, current: Current) -> Response:
        form, task_id, now = await request.form(), int(request.path_params["task_id"]), kit.clock()
        opt_out = str(form.get("opt", "")) == "out"
        note = str(form.get("note", "")).strip()[:NOTE_LENGTH]

        def change(s: Session) -> bool | None:
            task = visits.visible_task(s, current.actor, task_id)
            if task is None or not may_supervise(current.actor, task.site_id):
                return None
            return site_optouts.record(s, current.actor, task, opt_out, note, now)

        if not note:
            return HTMLResponse("请填写说明后重试", status_code=422)
        done = await kit.run(change)
        if done is None:
            return kit.not_found(current)
        return RedirectResponse(f"/tasks/{task_id}", status_code=303)

    async def site_list(request: Request, current: Current) -> Response:
        me = current.actor
        site_id = request.query_params.get("site", me.site_id)
        if not site_id or not may_supervise(me, site_id):
            return kit.not_found(current)
        found = await kit.run(lambda s: site_optouts.of_site(s, site_id))
        return kit.page(
            "site_optouts.html.j2", me=me, csrf=current.csrf, site_id=site_id, optouts=found
        )

    return [
        Route("/review", kit.signed_in(review_queue), methods=["GET"]),
        Route("/review/{case_id:int}", kit.signed_in(review_case), methods=["GET"]),
        Route("/review/{case_id:int}", kit.signed_in(review_decide), methods=["POST"]),
        Route("/tasks/{task_id:int}/optout", kit.signed_in(optout), methods=["POST"]),
        Route("/site/optouts", kit.signed_in(site_list), methods=["GET"]),
    ]
