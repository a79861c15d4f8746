"""A small district for the field app's tests, written straight into the tables: two sites
(S and T), workers A and B at S, worker C at T, S's supervisor; one planned visit per worker
today (and one for A tomorrow); accounts for each role with known passwords. And, for district
staff's pages, a district the nightly run has filled: certificates issued and visits planned."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path

import httpx
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from starlette.applications import Starlette

from proactive import bootstrap
from proactive.accounts import users
from proactive.accounts.roles import Role
from proactive.certificates.issuing import Issuer
from proactive.models import Case, Household, Person, Site, SocialWorker
from proactive.nightly.run import RunOptions, run_nightly
from proactive.registry.ingest import ingest
from proactive.settings import Settings
from proactive.time import Clock
from proactive.web import app as web
from tests.conftest import PINNED_NOW
from tests.factories import (
    household,
    make_id,
    scheduled_visit,
    senior,
    site,
    worker,
    write_csv,
    write_extract,
)

TODAY = dt.date(2026, 11, 26)  # PINNED_NOW in Shanghai
PASSWORD = "田野里的好日子2026"
CODE = "4821"
ACCOUNTS = {  # name: (role, worker_id, site_id)
    "a": (Role.worker, "WA", ""),
    "b": (Role.worker, "WB", ""),
    "c": (Role.worker, "WC", ""),
    "sup_s": (Role.supervisor, "", "S"),
    "sup_t": (Role.supervisor, "", "T"),
    "admin": (Role.admin, "", ""),
}


@dataclass
class World:
    tasks: dict[str, int] = field(default_factory=dict)  # "A", "A+1" (tomorrow), "B", "C"


def tracked() -> dict[str, object]:
    return {"row_hash": 0, "changed_run_id": 1, "changed_fields": "*"}


def build(engine: Engine, now: dt.datetime = PINNED_NOW) -> World:
    world = World()
    with Session(engine) as s, s.begin():
        for site_id, lat in (("S", 30.19), ("T", 30.21)):
            s.add(
                Site(
                    site_id=site_id,
                    name=f"{site_id}社区服务站",
                    kind="community",
                    division_code=f"33010800200{1 if site_id == 'S' else 2}",
                    lat=lat,
                    lon=120.2,
                    daily_capacity=10,
                    phone="0571-1",
                    **tracked(),
                )
            )
        s.flush()
        for worker_id, site_id, role in (
            ("WA", "S", "worker"),
            ("WB", "S", "worker"),
            ("SUPS", "S", "supervisor"),
            ("WC", "T", "worker"),
            ("SUPT", "T", "supervisor"),
        ):
            s.add(
                SocialWorker(
                    worker_id=worker_id,
                    name=f"社工{worker_id}",
                    site_id=site_id,
                    mobile="+8613900139000",
                    active=True,
                    role=role,
                    daily_capacity=8,
                    **tracked(),
                )
            )
        s.flush()
        for n, (key, worker_id, site_id, day) in enumerate(
            (
                ("A", "WA", "S", TODAY),
                ("A2", "WA", "S", TODAY),
                ("A+1", "WA", "S", TODAY + dt.timedelta(days=1)),
                ("B", "WB", "S", TODAY),
                ("C", "WC", "T", TODAY),
            ),
            start=1,
        ):
            world.tasks[key] = _visit(s, n, worker_id, site_id, day, now)
        for name, (role, worker_id, site_id) in ACCOUNTS.items():
            code = users.add(s, name, role, worker_id, site_id, now)
            users.choose_password(s, name, code, PASSWORD, now)
    return world


def _visit(s: Session, n: int, worker_id: str, site_id: str, day: dt.date, now: dt.datetime) -> int:
    id_number = make_id("19661125", order=100 + n)
    household = f"HH{n}"
    s.add(
        Household(
            household_id=household,
            address=f"西兴街道{n}号楼{n}单元",
            division_code="330108002001",
            lat=30.19 + n * 0.001,
            lon=120.2 + n * 0.001,
            **tracked(),
        )
    )
    s.add(
        Person(
            id_number=id_number,
            name=f"王{n}芳",
            sex="F",
            birth_date=dt.date(1966, 11, 25),
            household_id=household,
            hukou_status="active",
            mobile=f"+861380013800{n}",
            source_updated_at=dt.datetime(2026, 1, 1),
            **tracked(),
        )
    )
    task = scheduled_visit(
        s,
        id_number,
        now,
        day,
        certificate_no=f"浙老优330108-2026-{n:06d}",
        site_id=site_id,
        worker_id=worker_id,
        stop=n,
        window="09:00–10:00",
        code=CODE,
    )
    return task.id


class Browser:
    """A signed-in (or not) browser against the app in-process: cookies kept, CSRF read from
    the pages it shows.

    Cookies live in a plain dict, not an `http.cookiejar`: a cookie jar expires cookies by the
    wall clock, and under libfaketime one stray reading of it dropped the session cookie in the
    middle of a test (401). The app's own clock decides when a session ends; the browser only
    forgets a cookie the app deletes (Max-Age=0)."""

    def __init__(self, app: Starlette, base: str = "http://testserver") -> None:
        self.app, self.base = app, base
        self.cookies: dict[str, str] = {}
        self.csrf = ""

    def request(
        self, method: str, path: str, headers: dict[str, str] | None = None, **kwargs: object
    ) -> httpx.Response:
        sent = {**self._cookie_header(), **(headers or {})}

        async def go() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url=self.base) as client:
                return await client.request(method, path, headers=sent, **kwargs)  # type: ignore[arg-type]

        response = asyncio.run(go())
        for header in response.headers.get_list("set-cookie"):
            self._keep(header)
        found = re.search(r'name="csrf" value="([^"]+)"', response.text) or re.search(
            r'name="csrf-token" content="([^"]+)"', response.text
        )
        if found and found.group(1):
            self.csrf = found.group(1)
        return response

    def _cookie_header(self) -> dict[str, str]:
        if not self.cookies:
            return {}
        return {"cookie": "; ".join(f"{name}={value}" for name, value in self.cookies.items())}

    def _keep(self, header: str) -> None:
        parsed = SimpleCookie()
        parsed.load(header)
        for name, morsel in parsed.items():
            if morsel["max-age"] in ("0", "-1") or not morsel.value:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = morsel.value

    def get(self, path: str) -> httpx.Response:
        return self.request("GET", path)

    def post(
        self, path: str, data: dict[str, str] | None = None, csrf: bool = True
    ) -> httpx.Response:
        fields = dict(data or {})
        if csrf:
            fields.setdefault("csrf", self.csrf)
        return self.request("POST", path, data=fields)

    def login(self, name: str, password: str = PASSWORD) -> httpx.Response:
        self.get("/login")
        answer = self.post("/login", {"name": name, "password": password})
        if answer.status_code == 303:
            self.get(answer.headers["location"])  # the first page: its CSRF token
        return answer


def make_app(
    engine: Engine, clock: Clock = lambda: PINNED_NOW, env: dict[str, str] | None = None
) -> Starlette:
    return web.create_app(engine, Settings.from_env(env or {}), clock)


RUN_DAY = TODAY - dt.timedelta(days=1)
STAFF = {
    "admin": (Role.admin, "", ""),
    "w1": (Role.worker, "W1", ""),
    "sup": (Role.supervisor, "", "C1"),
}


def run_district(engine: Engine, directory: Path, issuer: Issuer, people: int = 3) -> None:
    """Seniors turning 60 near site C1, a night's run with certificates and visits, and one
    account per role (admin, w1, sup)."""
    homes = [
        household(
            f"HH{n}",
            lat=f"{30.1900 + n * 0.0004:.4f}",
            lon="120.2003",
            division_code="330108002001",
        )
        for n in range(people)
    ]
    rows = [senior(n + 1, "1966-11-25", household_id=f"HH{n}") for n in range(people)]
    rows += [  # turning 60 in the weeks to come, for the forecast: 1 to 3 a week
        senior(
            100 + 10 * week + k,
            f"{RUN_DAY.replace(year=1966) + dt.timedelta(weeks=week):%Y-%m-%d}",
            household_id=f"HH{week % people}",
        )
        for week in range(1, 9)
        for k in range(week % 3 + 1)
    ]
    write_extract(directory, rows, households=homes)
    write_csv(
        directory / "sites.csv",
        [
            site("S002", "street", "330108002000", 30.200, 120.210, 40),
            site("C1", "community", "330108002001", 30.190, 120.200, 10),
        ],
    )
    write_csv(
        directory / "social_workers.csv",
        [worker("W1", "C1"), worker("SUP1", "C1", role="supervisor")],
    )
    ticks = iter(range(10_000))

    def clock() -> dt.datetime:
        return dt.datetime(2026, 11, 25, tzinfo=dt.UTC) + dt.timedelta(seconds=next(ticks))

    ingest(engine, directory, clock)
    run_nightly(
        engine,
        bootstrap.programs(),
        RunOptions(as_of=RUN_DAY),
        clock,
        "330108",
        issuer,
        bootstrap.dispatcher(Settings.from_env({})),
    )
    with Session(engine) as s, s.begin():
        for name, (role, worker_id, site_id) in STAFF.items():
            code = users.add(s, name, role, worker_id, site_id, PINNED_NOW)
            users.choose_password(s, name, code, PASSWORD, PINNED_NOW)


def district_env(key_dir: Path, tmp_path: Path) -> dict[str, str]:
    """The app's settings for run_district's certificates: its keys, its PDFs."""
    return {"PROACTIVE_KEY_DIR": str(key_dir), "PROACTIVE_CERTIFICATE_DIR": str(tmp_path / "pdf")}


CHECKS = [
    {"check": "alive", "passed": True, "detail": "在世"},
    {"check": "residency", "passed": False, "detail": "户籍状态 pending"},
]


def case_in_review(engine: Engine, n: int, lat: float, division_code: str) -> int:
    """A case waiting for review, of a resident living at `lat` (S at 30.19, T at 30.21)."""
    id_number = make_id("19661125", order=300 + n)
    with Session(engine) as s, s.begin():
        s.add(
            Household(
                household_id=f"R{n}",
                address=f"西兴街道{n}号",
                division_code=division_code,
                lat=lat,
                lon=120.2,
                **tracked(),
            )
        )
        s.add(
            Person(
                id_number=id_number,
                name=f"李{n}华",
                sex="F",
                birth_date=dt.date(1966, 11, 25),
                household_id=f"R{n}",
                hukou_status="pending",
                mobile="",
                source_updated_at=dt.datetime(2026, 1, 1),
                **tracked(),
            )
        )
        case = Case(
            id_number=id_number,
            program="senior_certificate",
            status="needs_review",
            eligible_on=dt.date(2026, 11, 25),
            reason="核验未通过：户籍状态待核实",
            checks=json.dumps(CHECKS, ensure_ascii=False),
            created_at=PINNED_NOW,
            updated_at=PINNED_NOW,
        )
        s.add(case)
        s.flush()
        return case.id
