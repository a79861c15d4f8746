"""The web app: the field app's pages (web/pages.py), Twilio's webhooks, one routing table.

    POST /twilio/status    delivery receipts: the outbox row found by its SID moves forward
    POST /twilio/inbound   residents' replies: 退订/TD/T/STOP opts out, 1 confirms the visit,
                           2 asks for another day; anything else is ignored politely
    GET  /healthz          "ok"

Every Twilio request must carry a valid `X-Twilio-Signature`: an HMAC, keyed with the auth
token, of the URL Twilio called (`PROACTIVE_PUBLIC_URL` + path when set, else the request's
own URL) and the form fields. A missing or wrong one is refused with 403, and so is every
request while no auth token is set. Webhooks signed with a Twilio SharedKey (the
`X-Twilio-Webhooks-Signature-Settings` header) are refused too: there is no setting for one.
Twilio retries a webhook that does not answer 2xx, so every handler is idempotent and an
unknown SID is answered 200.

Twilio does not support two-way SMS with mainland-China (+86) numbers: replies work only
where the number allows them. Opting out and rescheduling therefore never depend on a reply:
the hotline and the sites use `proactive optout add|remove|list NUMBER` (optouts.py), and a
visit is moved by the site supervisor.
"""

from __future__ import annotations

import datetime as dt
import logging
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

import uvicorn
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MultiDict
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from twilio.request_validator import (  # type: ignore[import-untyped]  # twilio ships no types
    SIGNATURE_HEADER,
    SIGNATURE_SETTINGS_HEADER,
    RequestValidator,
)

from proactive import bootstrap, db
from proactive.field.outcomes import add_note
from proactive.field.task_states import PLANNED
from proactive.masking import mask_phone
from proactive.models import Message, Task
from proactive.settings import ROOT, Settings
from proactive.sms import message_states, optouts
from proactive.time import Clock
from proactive.web.pages import FieldApp
from proactive.web.security import SecurityHeaders

log = logging.getLogger(__name__)

T = TypeVar("T")

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'
OPT_OUT_WORDS = frozenset({"退订", "TD", "T", "STOP"})
CONFIRM_NOTE = "居民短信确认"
RESCHEDULE_NOTE = "居民短信申请改期"
ERROR_STATES = frozenset({message_states.FAILED, message_states.UNDELIVERED})
UNSEEN = (message_states.QUEUED, message_states.WITHDRAWN)  # never reached the resident
STATIC = ROOT / "static"


class Reply(StrEnum):
    opt_out = "opt_out"
    confirm = "confirm"
    reschedule = "reschedule"
    other = "other"


@dataclass(frozen=True)
class Receipt:
    sid: str
    status: str  # Twilio's word
    error_code: str


# The pure part: what a reply means, which URL Twilio signed.


def parse_reply(body: str) -> Reply:
    """Trimmed, case-insensitive, full-width letters and digits as half-width (NFKC)."""
    text = unicodedata.normalize("NFKC", body).strip().upper()
    if text in OPT_OUT_WORDS:
        return Reply.opt_out
    return {"1": Reply.confirm, "2": Reply.reschedule}.get(text, Reply.other)


def signed_url(public_url: str, request_url: str, path: str, query: str) -> str:
    """The URL Twilio called: the public base URL with the path and query, when one is set."""
    if not public_url:
        return request_url
    return public_url.rstrip("/") + path + (f"?{query}" if query else "")


# Use cases, one transaction each.


def record_receipt(session: Session, receipt: Receipt, now: dt.datetime) -> str | None:
    """The message's status after a receipt (forward only); None when no message has the SID.
    The error code is kept when the receipt is what made it failed or undelivered."""
    message = session.scalars(
        select(Message).where(Message.provider_sid == receipt.sid).with_for_update()
    ).first()
    if message is None:
        return None
    reported = message_states.PROVIDER.get(receipt.status, "")
    status = message_states.advance(message.status, reported)
    code = receipt.error_code[:16]
    if status != message.status:
        message.status, message.updated_at = status, now
    if status in ERROR_STATES and reported == status and code and not message.error_code:
        message.error_code, message.updated_at = code, now
    return status


def handle_reply(session: Session, sender: str, body: str, now: dt.datetime) -> Reply:
    """Act on a resident's reply; what it was taken for."""
    reply = parse_reply(body)
    try:
        number = optouts.normalise(sender)
    except optouts.BadNumber:
        log.info("sms.reply_from_bad_number", extra={"reply": reply.value})
        return Reply.other
    if reply is Reply.opt_out:
        added = optouts.opt_out_by_sms(session, number, now)
        extra = {"number": mask_phone(number), "new": added.new, "withdrawn": added.withdrawn}
        log.info("sms.opted_out", extra=extra)
    elif reply is Reply.other:
        log.info("sms.reply_ignored", extra={"number": mask_phone(number)})
    else:
        note = CONFIRM_NOTE if reply is Reply.confirm else RESCHEDULE_NOTE
        _note_replied_task(session, number, reply, note, now)
    return reply


def _note_replied_task(
    session: Session, number: str, reply: Reply, note: str, now: dt.datetime
) -> None:
    event = "sms.visit_confirmed" if reply is Reply.confirm else "sms.reschedule_requested"
    task = replied_task(session, number)
    if task is None:
        log.info("sms.reply_unmatched", extra={"number": mask_phone(number), "reply": reply})
        return
    if add_note(task, note, now):
        log.info(event, extra={"task_id": task.id, "case_id": task.case_id})


def replied_task(session: Session, number: str) -> Task | None:
    """The planned visit of the latest message this number received about one."""
    query = (
        select(Task)
        .join(Message, Message.task_id == Task.id)
        .where(
            Message.to_number == number,
            Message.status.not_in(UNSEEN),
            Task.status == PLANNED,
        )
        .order_by(Message.created_at.desc(), Message.id.desc())
        .limit(1)
        .with_for_update(of=Task)
    )
    return session.scalars(query).first()


# The edge: requests in, a use case, a response out.


def create_app(engine: Engine, settings: Settings, clock: Clock) -> Starlette:
    sessions = db.session_factory(engine)
    validator = RequestValidator(settings.twilio_auth_token)
    if not settings.twilio_auth_token:
        log.warning("web.twilio_unsigned", extra={"effect": "all Twilio requests refused"})

    async def verified_form(request: Request) -> MultiDict | None:
        """The form fields, if Twilio signed them with our auth token; None otherwise."""
        path = request.url.path
        if request.headers.get(SIGNATURE_SETTINGS_HEADER):
            log.warning("twilio.shared_key_signature", extra={"path": path})
            return None
        form = await request.form()
        fields = MultiDict([(k, v) for k, v in form.multi_items() if isinstance(v, str)])
        signature = request.headers.get(SIGNATURE_HEADER, "")
        url = signed_url(settings.public_url, str(request.url), path, request.url.query)
        valid = (
            bool(settings.twilio_auth_token and signature)
            and len(fields.multi_items()) == len(form.multi_items())  # no file uploads
            and validator.validate(url, fields, signature)
        )
        if not valid:
            log.warning("twilio.bad_signature", extra={"path": path})
            return None
        return fields

    def in_transaction(use_case: Callable[[Session], T]) -> T:
        with sessions.begin() as session:
            return use_case(session)

    async def status(request: Request) -> Response:
        form = await verified_form(request)
        if form is None:
            return PlainTextResponse("forbidden", status_code=403)
        receipt = Receipt(
            form.get("MessageSid", ""), form.get("MessageStatus", ""), form.get("ErrorCode", "")
        )
        if not receipt.sid:
            log.warning("twilio.receipt_without_sid")
            return Response(status_code=200)
        now = clock()
        after = await run_in_threadpool(
            in_transaction, lambda session: record_receipt(session, receipt, now)
        )
        extra = {"sid": receipt.sid, "reported": receipt.status, "status": after}
        log.info("twilio.receipt" if after else "twilio.receipt_unknown_sid", extra=extra)
        return Response(status_code=200)

    async def inbound(request: Request) -> Response:
        form = await verified_form(request)
        if form is None:
            return PlainTextResponse("forbidden", status_code=403)
        sender, body, now = form.get("From", ""), form.get("Body", ""), clock()
        await run_in_threadpool(
            in_transaction, lambda session: handle_reply(session, sender, body, now)
        )
        return Response(EMPTY_TWIML, media_type="text/xml")

    async def healthz(request: Request) -> Response:
        return PlainTextResponse("ok")

    async def service_worker(request: Request) -> Response:
        """Served from the root so that it may cache every page of the app."""
        return FileResponse(STATIC / "sw.js", media_type="text/javascript")

    return Starlette(
        routes=[
            Route("/twilio/status", status, methods=["POST"]),
            Route("/twilio/inbound", inbound, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/sw.js", service_worker, methods=["GET"]),
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
            *FieldApp(engine, settings, clock).routes(),
        ],
        middleware=[Middleware(SecurityHeaders)],
    )


def serve(
    engine: Engine,
    settings: Settings,
    clock: Clock,
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: int = 1,
) -> None:
    """Run the app until interrupted (`proactive serve`). With several workers, uvicorn starts
    that many processes on the one port, each building its own app (and engine: connections
    are never shared across a fork) with `from_environment`; `engine` and `clock` are then
    those of the command, used only to check the database before the processes start."""
    level = settings.log_level.lower()
    if workers == 1:
        app = create_app(engine, settings, clock)
        uvicorn.run(app, host=host, port=port, log_level=level, proxy_headers=True)
        return
    engine.dispose()
    factory = f"{__name__}:{from_environment.__name__}"
    uvicorn.run(
        factory,
        host=host,
        port=port,
        log_level=level,
        proxy_headers=True,
        factory=True,
        workers=workers,
    )


def from_environment() -> Starlette:
    """The app as each of `proactive serve --workers N`'s processes builds it: the settings
    from the environment, the database checked as every command checks it, the real clock."""
    settings = Settings.from_env()
    return create_app(bootstrap.engine(settings), settings, bootstrap.utc_now)
