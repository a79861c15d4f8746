"""District staff's pages (admin only; anyone else gets 404): the nightly runs, the programs
with their preview counts, coverage and the forecast, certificates (search, verify, reissue,
revoke) and the SMS outbox. Thin, as web/pages.py: one use case, a template. ID numbers and
phone numbers are masked on every page; reissues and revocations need a reason and go to the
audit log, searches too."""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from proactive import bootstrap
from proactive.accounts import audit
from proactive.accounts.roles import Role
from proactive.accounts.sign_in import Current
from proactive.certificates import issued
from proactive.certificates.reasons import REASONS_ZH, ReissueReason
from proactive.errors import ProactiveError
from proactive.field import coverage, desk, forecast
from proactive.field.forecast import SiteWeek
from proactive.geo import Walking
from proactive.masking import mask_numbers, mask_phone
from proactive.models import CaseEvent
from proactive.nightly import history
from proactive.programs import case_queries, casebook, preview
from proactive.sms import message_states, optouts, outbox
from proactive.time import local_date
from proactive.web import charts, coverage_map
from proactive.web.kit import Kit

RUNS_SHOWN = 30
GAPS_SHOWN = 30
FAILURES_SHOWN = 50
OPTOUTS_SHOWN = 100
FORECAST_WEEKS = 12
WHY_LENGTH = 500
FAILED = (message_states.FAILED, message_states.UNDELIVERED)
WORDS = {  # the templates' words for the states they show
    "RUN_ZH": {"running": "运行中", "succeeded": "成功", "failed": "失败", "interrupted": "中断"},
    "CASE_ZH": {
        "detected": "已发现",
        "needs_review": "待审核",
        "approved": "已核准",
        "issued": "已制证",
        "scheduled": "已排送证",
        "delivered": "已送达",
        "closed": "已办结",
        "cancelled": "已注销",
    },
    "CERTIFICATE_ZH": {"pending": "待制证", "active": "有效", "revoked": "已作废"},
    "SMS_ZH": {
        "queued": "待发送",
        "sending": "发送中",
        "sent": "已发出",
        "delivered": "已送达",
        "undelivered": "未送达",
        "failed": "发送失败",
        "withdrawn": "已撤回",
    },
    "OPTOUT_ZH": {"sms": "短信退订", "hotline": "热线", "site": "站点登记", "provider": "运营商"},
}


@dataclass(frozen=True)
class SiteTotal:
    site_id: str
    name: str
    reaching: tuple[int, ...]  # per visited program, in the forecast's order
    needed: float  # worker-days
    capacity: float


def site_totals(rows: Sequence[SiteWeek]) -> list[SiteTotal]:
    """The forecast's weeks summed per site, in the rows' order."""
    by_site: dict[str, list[SiteWeek]] = defaultdict(list)
    for row in rows:
        by_site[row.site_id].append(row)
    return [
        SiteTotal(
            site_id,
            weeks[0].site_name,
            tuple(sum(column) for column in zip(*(w.reaching for w in weeks), strict=True)),
            sum(w.worker_days_needed for w in weeks),
            sum(w.worker_days_capacity for w in weeks),
        )
        for site_id, weeks in by_site.items()
    ]


def week_chart(rows: Sequence[SiteWeek]) -> charts.Chart:
    """Worker-days needed per week over the district, against the capacity."""
    needed: dict[dt.date, float] = defaultdict(float)
    capacity: dict[dt.date, float] = defaultdict(float)
    for row in rows:
        needed[row.week_start] += row.worker_days_needed
        capacity[row.week_start] += row.worker_days_capacity
    starts = sorted(needed)
    labels = [f"{d.month}/{d.day}" for d in starts]
    return charts.bar_chart(labels, [needed[d] for d in starts], [capacity[d] for d in starts])


def circle_map(
    result: coverage.Reach, sites: Sequence[coverage.SitePoint], walking: Walking
) -> coverage_map.CoverageMap | None:
    """The sites, their circles and the homes binned on a grid, for the page's SVG."""
    lat, lon = coverage.coordinates([h.point for h in result.homes if h.point is not None])
    places = [coverage_map.Place(s.name, s.kind, s.point.lat, s.point.lon) for s in sites]
    radius = coverage.circle_radius_metres(walking)
    return coverage_map.layout(places, lat, lon, result.covered, radius)


def stages(stats: str) -> list[tuple[str, float | None, str]]:
    """A run's stats JSON as (stage, seconds, the other counts)."""
    found: dict[str, dict[str, Any]] = json.loads(stats or "{}")
    return [
        (
            name,
            figures.get("seconds"),
            "，".join(f"{k} {v}" for k, v in figures.items() if k != "seconds"),
        )
        for name, figures in found.items()
    ]


def day_of(request: Request, today: dt.date) -> dt.date:
    try:
        return dt.date.fromisoformat(request.query_params.get("date", ""))
    except ValueError:
        return today


def routes(kit: Kit) -> list[BaseRoute]:
    walking = kit.dispatcher.walking

    async def runs(request: Request, current: Current) -> Response:
        found = await run_in_threadpool(history.list_runs, kit.engine, RUNS_SHOWN)
        for record in found:
            record["stages"] = stages(record["stats"])
            record["error"] = mask_numbers(record["error"])
        return kit.page("staff_runs.html.j2", me=current.actor, csrf=current.csrf, runs=found)

    async def programs(request: Request, current: Current) -> Response:
        day = day_of(request, local_date(kit.clock()))
        district = kit.settings.district_code

        def read() -> tuple[list[preview.Preview], dict[str, dict[str, int]]]:
            found = [preview.preview(kit.engine, p, day, district) for p in kit.programs.values()]
            return found, case_queries.case_counts(kit.engine)

        previews, counts = await run_in_threadpool(read)
        return kit.page(
            "staff_programs.html.j2",
            me=current.actor,
            csrf=current.csrf,
            day=day,
            previews=previews,
            counts=counts,
            programs=kit.programs,
        )

    async def coverage_page(request: Request, current: Current) -> Response:
        day = day_of(request, local_date(kit.clock()))

        def read() -> tuple[coverage.Survey, coverage_map.CoverageMap | None, forecast.Outlook]:
            days = FORECAST_WEEKS * 7
            outlook = forecast.look_ahead(
                kit.engine, day, days, kit.dispatcher, kit.programs, kit.settings.district_code
            )
            result, sites = coverage.measure(kit.engine, walking, day)
            return coverage.summary(result), circle_map(result, sites, walking), outlook

        survey, drawn, outlook = await run_in_threadpool(read)
        return kit.page(
            "staff_coverage.html.j2",
            me=current.actor,
            csrf=current.csrf,
            day=day,
            survey=survey,
            gaps=survey.gaps[:GAPS_SHOWN],
            outlook=outlook,
            sites=site_totals(outlook.rows),
            chart=week_chart(outlook.rows),
            visited=outlook.programs,
            circle=walking.circle_minutes,
            circle_map=drawn,
            radius=coverage.circle_radius_metres(walking),
            KIND_LABELS=coverage.KIND_LABELS,
        )

    async def certificates(request: Request, current: Current) -> Response:
        text = request.query_params.get("q", "").strip()[:64]
        now = kit.clock()

        def find(s: Session) -> list[issued.Found]:
            if text:
                audit.record(
                    s, current.actor, "certificate_search", "certificates", now, mask_numbers(text)
                )
            return issued.search(s, text)

        found = await kit.run(find)
        return kit.page(
            "staff_certificates.html.j2",
            me=current.actor,
            csrf=current.csrf,
            q=mask_numbers(text),  # a whole ID number typed in comes back masked
            found=found,
            searched=bool(text),
            programs=kit.programs,
        )

    async def certificate(
        request: Request, current: Current, status: int = 200, problem: str = ""
    ) -> Response:
        certificate_id = int(request.path_params["certificate_id"])

        def read(s: Session) -> tuple[issued.Found, issued.Found | None, list[CaseEvent]] | None:
            pair = issued.one(s, certificate_id)
            if pair is None:
                return None
            return pair[0], pair[1], casebook.events(s, pair[0].case_id)

        found = await kit.run(read)
        if found is None:
            return kit.not_found(current)
        row, replacement, events = found
        verdict = await run_in_threadpool(
            issued.verify_payload, row.payload, kit.public_keys, kit.engine
        )
        return kit.page(
            "staff_certificate.html.j2",
            status,
            me=current.actor,
            csrf=current.csrf,
            c=row,
            replacement=replacement,
            events=events,
            verdict=verdict,
            programs=kit.programs,
            REASONS_ZH=REASONS_ZH,
            problem=problem,
        )

    async def reissue(request: Request, current: Current) -> Response:
        form, certificate_id = await request.form(), int(request.path_params["certificate_id"])
        try:
            reason = ReissueReason(str(form.get("reason", "")))
        except ValueError:
            return await certificate(request, current, 422, "请选择补发原因")
        note = mask_numbers(str(form.get("note", "")).strip()[:WHY_LENGTH])
        pair = await kit.run(lambda s: issued.one(s, certificate_id))
        if pair is None:
            return kit.not_found(current)
        number, now = pair[0].certificate_no, kit.clock()

        def replace() -> issued.Found:
            new = desk.reissue(
                kit.engine,
                kit.programs,
                number,
                reason,
                bootstrap.issuer(kit.settings),
                local_date(now),
                current.actor.name,
                now,
            )
            detail = f"{reason.value} → {new.certificate_no}" + (f"：{note}" if note else "")
            with kit.sessions.begin() as s:
                audit.record(
                    s, current.actor, "certificate_reissue", f"certificate:{number}", now, detail
                )
            return issued.found(new)

        try:
            new = await run_in_threadpool(replace)
        except ProactiveError as error:
            return await certificate(request, current, 422, f"无法补发：{error}")
        return RedirectResponse(f"/district/certificates/{new.id}", status_code=303)

    async def revoke(request: Request, current: Current) -> Response:
        form, certificate_id = await request.form(), int(request.path_params["certificate_id"])
        why = mask_numbers(str(form.get("why", "")).strip()[:WHY_LENGTH])
        if not why:
            return await certificate(request, current, 422, "请填写作废理由")
        now = kit.clock()

        def void(s: Session) -> str | None:
            pair = issued.one(s, certificate_id)
            if pair is None:
                return None
            number = pair[0].certificate_no
            after = desk.revoke(s, number, why, current.actor.name, walking, now)
            audit.record(
                s,
                current.actor,
                "certificate_revoke",
                f"certificate:{number}",
                now,
                f"{why}（案件 {after}）",
            )
            return after

        try:
            done = await kit.run(void)
        except ProactiveError as error:
            return await certificate(request, current, 422, f"无法作废：{error}")
        if done is None:
            return kit.not_found(current)
        return RedirectResponse(f"/district/certificates/{certificate_id}", status_code=303)

    async def sms(request: Request, current: Current) -> Response:
        def read(s: Session) -> tuple[dict[str, int], list[dict[str, object]], list[optouts.Entry]]:
            failures = [
                m
                for status in FAILED
                for m in outbox.list_messages(s, status, False, FAILURES_SHOWN)
            ]
            return outbox.status_counts(s), failures, optouts.list_all(s)

        counts, failures, opted = await kit.run(read)
        return kit.page(
            "staff_sms.html.j2",
            me=current.actor,
            csrf=current.csrf,
            counts=counts,
            failures=failures,
            optouts=list(reversed(opted))[:OPTOUTS_SHOWN],
            optout_total=len(opted),
            mask_phone=mask_phone,
        )

    admin = Role.admin
    return [
        Route("/district/runs", kit.only(admin, runs), methods=["GET"]),
        Route("/district/programs", kit.only(admin, programs), methods=["GET"]),
        Route("/district/coverage", kit.only(admin, coverage_page), methods=["GET"]),
        Route("/district/certificates", kit.only(admin, certificates), methods=["GET"]),
        Route(
            "/district/certificates/{certificate_id:int}",
            kit.only(admin, certificate),
            methods=["GET"],
        ),
        Route(
            "/district/certificates/{certificate_id:int}/reissue",
            kit.only(admin, reissue),
            methods=["POST"],
        ),
        Route(
            "/district/certificates/{certificate_id:int}/revoke",
            kit.only(admin, revoke),
            methods=["POST"],
        ),
        Route("/district/sms", kit.only(admin, sms), methods=["GET"]),
    ]
