"""What every page module of the field app works with: one transaction in a worker thread, a
template, the 404 page, and the guard that resolves the session and checks a POST's CSRF
token. web/pages.py builds it once; web/staff.py (and any later page module) takes it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from proactive.accounts.roles import Role
from proactive.accounts.sign_in import Current
from proactive.field.plan_visits import Dispatcher
from proactive.programs.catalog import Program
from proactive.settings import Settings
from proactive.time import Clock

T = TypeVar("T")
Handler = Callable[[Request, Current], Awaitable[Response]]
Endpoint = Callable[[Request], Awaitable[Response]]


class Runner(Protocol):
    def __call__(self, use_case: Callable[[Session], T]) -> Awaitable[T]: ...


class Renderer(Protocol):
    def __call__(self, name: str, status: int = 200, **context: Any) -> HTMLResponse: ...


@dataclass(frozen=True)
class Kit:
    engine: Engine
    settings: Settings
    clock: Clock
    programs: Mapping[str, Program]
    dispatcher: Dispatcher
    public_keys: Mapping[bytes, bytes]  # the trusted keys, for verifying certificates
    sessions: sessionmaker[Session]
    run: Runner  # one transaction, in a worker thread
    page: Renderer  # a template of templates/pages/app
    not_found: Callable[[Current | None], HTMLResponse]
    signed_in: Callable[[Handler], Endpoint]

    def only(self, role: Role, handler: Handler) -> Endpoint:
        """Signed in with this role; anyone else gets 404, as for a guessed URL."""

        async def guarded(request: Request, current: Current) -> Response:
            if current.actor.role is not role:
                return self.not_found(current)
            return await handler(request, current)

        return self.signed_in(guarded)
