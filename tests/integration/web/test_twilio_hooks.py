"""The web app in-process (httpx's ASGI transport): Twilio's signed receipts and replies."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import logging
from collections.abc import Iterator, Mapping

import httpx
import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from starlette.applications import Starlette
from twilio.request_validator import RequestValidator

from proactive.masking import mask_phone
from proactive.models import Message, OptOut, Task
from proactive.settings import Settings
from proactive.sms import optouts
from proactive.web import app as web
from tests.factories import make_id, scheduled_visit

TOKEN = "twilio-auth-token"
PUBLIC = "https://proactive.example.gov.cn"
START = dt.datetime(2026, 11, 2, 2, 0, tzinfo=dt.UTC)
NUMBER = "+8613800138000"
OTHER = "+8613900139000"


class Clock:
    """A minute later at every call."""

    def __init__(self) -> None:
        self.ticks = itertools.count()

    def __call__(self) -> dt.datetime:
        return START + dt.timedelta(minutes=next(self.ticks))


class Twilio:
    """Posts to the app as Twilio does: form fields, signed with the auth token."""

    def __init__(self, app: Starlette, token: str = TOKEN, public: str = PUBLIC) -> None:
        self.app, self.validator, self.public = app, RequestValidator(token), public

    def post(
        self, path: str, fields: Mapping[str, str], signature: str | None = None, **headers: str
    ) -> httpx.Response:
        base = self.public or "http://testserver"
        if signature is None:
            signature = self.validator.compute_signature(base + path, dict(fields))
        headers["X-Twilio-Signature"] = signature
        return asyncio.run(self._post(path, dict(fields), headers))

    async def _post(
        self, path: str, fields: dict[str, str], headers: dict[str, str]
    ) -> httpx.Response:
        transport = httpx.ASGITransport(app=self.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            return await client.post(path, data=fields, headers=headers)

    def status(self, sid: str, status: str, error_code: str = "") -> httpx.Response:
        fields = {"MessageSid": sid, "MessageStatus": status, "To": NUMBER, "AccountSid": "AC1"}
        if error_code:
            fields["ErrorCode"] = error_code
        return self.post("/twilio/status", fields)

    def reply(self, body: str, sender: str = NUMBER) -> httpx.Response:
        fields = {"MessageSid": "SMin", "From": sender, "To": "+15005550006", "Body": body}
        return self.post("/twilio/inbound", fields)


def settings(token: str = TOKEN, public: str = PUBLIC) -> Settings:
    return Settings.from_env({"TWILIO_AUTH_TOKEN": token, "PROACTIVE_PUBLIC_URL": public})


@pytest.fixture
def twilio(engine: Engine) -> Twilio:
    return Twilio(web.create_app(engine, settings(), Clock()))


def seed(engine: Engine, task_status: str = "planned") -> None:
    """A case with a planned visit, and the message about it: sent to NUMBER as SM1."""
    with Session(engine) as session, session.begin():
        task = scheduled_visit(
            session,
            make_id(),
            START,
            dt.date(2026, 11, 5),
            site_id="S1",
            worker_id="W1",
            status=task_status,
            due_on=dt.date(2026, 12, 25),
            code="1234",
        )
        session.add(message(f"{task.case_id}:scheduled:1", task.case_id, task.id, "queued", "SM1"))


def message(key: str, case_id: int | None, task_id: int | None, status: str, sid: str) -> Message:
    return Message(
        idempotency_key=key,
        case_id=case_id,
        task_id=task_id,
        kind="scheduled",
        template="senior_certificate/scheduled",
        to_number=NUMBER,
        addressee="self",
        body="【滨江区民政】测试",
        segments=1,
        status=status,
        provider_sid=sid,
        not_before=START,
        created_at=START,
        updated_at=START,
    )


def outbox(engine: Engine) -> list[tuple[str, str, str, str]]:
    with Session(engine) as session:
        rows = session.scalars(select(Message).order_by(Message.id))
        return [(m.kind, m.status, m.error_code, m.reason) for m in rows]


def task_note(engine: Engine) -> str:
    with Session(engine) as session:
        return session.scalars(select(Task.note)).one()


@pytest.fixture
def info_logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    with caplog.at_level(logging.INFO, logger="proactive"):
        yield caplog


# receipts


def test_receipts_move_the_message_forward(engine: Engine, twilio: Twilio) -> None:
    seed(engine)
    assert twilio.status("SM1", "sent").status_code == 200
    assert outbox(engine) == [("scheduled", "sent", "", "")]
    assert twilio.status("SM1", "delivered").status_code == 200
    assert outbox(engine) == [("scheduled", "delivered", "", "")]


def test_a_late_receipt_never_moves_it_back(engine: Engine, twilio: Twilio) -> None:
    seed(engine)
    twilio.status("SM1", "delivered")
    twilio.status("SM1", "sent")
    twilio.status("SM1", "failed", "30003")
    assert outbox(engine) == [("scheduled", "delivered", "", "")]


def test_retried_receipts_change_nothing(engine: Engine, twilio: Twilio) -> None:
    seed(engine)
    twilio.status("SM1", "undelivered", "30005")
    with Session(engine) as session:
        first = session.scalars(select(Message)).one().updated_at
    for code in ("30005", "30008"):
        assert twilio.status("SM1", "undelivered", code).status_code == 200
    assert outbox(engine) == [("scheduled", "undelivered", "30005", "")]
    with Session(engine) as session:
        assert session.scalars(select(Message)).one().updated_at == first


def test_an_unknown_sid_is_answered_200_and_logged(
    engine: Engine, twilio: Twilio, info_logs: pytest.LogCaptureFixture
) -> None:
    seed(engine)
    assert twilio.status("SMnobody", "delivered").status_code == 200
    assert outbox(engine) == [("scheduled", "queued", "", "")]
    assert "twilio.receipt_unknown_sid" in info_logs.messages


def test_an_unknown_twilio_status_changes_nothing(engine: Engine, twilio: Twilio) -> None:
    seed(engine)
    assert twilio.status("SM1", "partially_delivered").status_code == 200
    assert outbox(engine) == [("scheduled", "queued", "", "")]


# signatures


@pytest.mark.parametrize(
    ("signature", "headers"),
    [
        ("", {}),
        ("bm90IGEgc2lnbmF0dXJl", {}),
        (None, {"X-Twilio-Webhooks-Signature-Settings": "key=k1,algorithm=HMAC_SHA256"}),
    ],
    ids=["missing", "wrong", "shared-key"],
)
def test_an_unsigned_request_is_refused(
    engine: Engine, twilio: Twilio, signature: str | None, headers: dict[str, str]
) -> None:
    seed(engine)
    fields = {"MessageSid": "SM1", "MessageStatus": "delivered"}
    assert twilio.post("/twilio/status", fields, signature, **headers).status_code == 403
    inbound = {"From": NUMBER, "Body": "退订"}
    assert twilio.post("/twilio/inbound", inbound, signature, **headers).status_code == 403
    assert outbox(engine) == [("scheduled", "queued", "", "")]
    with Session(engine) as session:
        assert session.scalars(select(OptOut)).all() == []


def test_the_signature_covers_every_field(engine: Engine, twilio: Twilio) -> None:
    seed(engine)
    signed = {"MessageSid": "SM1", "MessageStatus": "sent"}
    signature = twilio.validator.compute_signature(PUBLIC + "/twilio/status", signed)
    tampered = {**signed, "MessageStatus": "delivered"}
    assert twilio.post("/twilio/status", tampered, signature).status_code == 403
    assert twilio.post("/twilio/status", signed, signature).status_code == 200
    assert outbox(engine) == [("scheduled", "sent", "", "")]


def test_the_signed_url_is_the_public_one(engine: Engine) -> None:
    seed(engine)
    app = web.create_app(engine, settings(), Clock())
    as_called = Twilio(app, public="")  # signs http://testserver/…, not the public URL
    assert as_called.status("SM1", "sent").status_code == 403
    without_public_url = Twilio(web.create_app(engine, settings(public=""), Clock()), public="")
    assert without_public_url.status("SM1", "sent").status_code == 200


def test_without_an_auth_token_everything_is_refused(engine: Engine) -> None:
    seed(engine)
    app = web.create_app(engine, settings(token=""), Clock())
    assert Twilio(app, token="").status("SM1", "sent").status_code == 403
    assert outbox(engine) == [("scheduled", "queued", "", "")]


# replies


@pytest.mark.parametrize("body", ["退订", "td", " TD ", "T", "ＳＴＯＰ", "Stop", "ｔｄ"])
def test_an_opt_out_reply_opts_out_and_confirms_once(
    engine: Engine, twilio: Twilio, body: str
) -> None:
    seed(engine)
    for _ in range(2):  # Twilio's retry
        answer = twilio.reply(body)
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("text/xml")
        assert answer.text == web.EMPTY_TWIML
    assert outbox(engine) == [
        ("scheduled", "withdrawn", "", "opted_out"),
        ("optout_confirm", "queued", "", ""),
    ]
    with Session(engine) as session:
        assert [(o.number, o.source) for o in session.scalars(select(OptOut))] == [(NUMBER, "sms")]
        confirmation = session.scalars(select(Message).where(Message.kind == "optout_confirm"))
        assert confirmation.one().body == optouts.CONFIRM_BODY


def test_1_confirms_the_visit(
    engine: Engine, twilio: Twilio, info_logs: pytest.LogCaptureFixture
) -> None:
    seed(engine)
    twilio.status("SM1", "delivered")
    for _ in range(2):
        assert twilio.reply("１").text == web.EMPTY_TWIML
    assert task_note(engine) == "居民短信确认"
    assert info_logs.messages.count("sms.visit_confirmed") == 1


def test_2_asks_for_another_day(
    engine: Engine, twilio: Twilio, info_logs: pytest.LogCaptureFixture
) -> None:
    seed(engine)
    twilio.status("SM1", "sent")
    twilio.reply("1")
    twilio.reply(" 2 ")
    twilio.reply("谢谢")
    assert task_note(engine) == "居民短信确认；居民短信申请改期"
    assert "sms.reschedule_requested" in info_logs.messages
    logged = [str(value) for r in info_logs.records for value in vars(r).values()]
    assert not [v for v in logged if NUMBER in v]  # numbers are masked in logs
    assert mask_phone(NUMBER) in logged


def test_a_reply_about_no_planned_visit_is_ignored(
    engine: Engine, twilio: Twilio, info_logs: pytest.LogCaptureFixture
) -> None:
    seed(engine, task_status="done")
    twilio.status("SM1", "delivered")
    assert twilio.reply("1").status_code == 200
    assert twilio.reply("2", sender=OTHER).status_code == 200
    assert task_note(engine) == ""
    assert info_logs.messages.count("sms.reply_unmatched") == 2


def test_a_reply_to_a_message_never_sent_is_ignored(engine: Engine, twilio: Twilio) -> None:
    seed(engine)  # the message is still queued
    twilio.reply("1")
    assert task_note(engine) == ""


@pytest.mark.parametrize("body", ["谢谢", "", "3", "stop please"])
def test_anything_else_is_answered_politely(engine: Engine, twilio: Twilio, body: str) -> None:
    seed(engine)
    twilio.status("SM1", "delivered")
    answer = twilio.reply(body)
    assert (answer.status_code, answer.text) == (200, web.EMPTY_TWIML)
    assert task_note(engine) == ""
    assert outbox(engine) == [("scheduled", "delivered", "", "")]


def test_healthz(twilio: Twilio) -> None:
    answer = asyncio.run(_get(twilio.app, "/healthz"))
    assert (answer.status_code, answer.text) == (200, "ok")


async def _get(app: Starlette, path: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        return await client.get(path)


@pytest.mark.parametrize(
    ("body", "reply"),
    [
        ("退订", web.Reply.opt_out),
        (" Ｔ ", web.Reply.opt_out),
        ("stop", web.Reply.opt_out),
        ("１", web.Reply.confirm),
        ("2\n", web.Reply.reschedule),
        ("12", web.Reply.other),
        ("退订谢谢", web.Reply.other),
    ],
)
def test_parse_reply(body: str, reply: web.Reply) -> None:
    assert web.parse_reply(body) is reply


def test_signed_url() -> None:
    assert web.signed_url("", "http://h/p?q=1", "/p", "q=1") == "http://h/p?q=1"
    assert web.signed_url(PUBLIC + "/", "http://h/p", "/p", "") == PUBLIC + "/p"
    assert web.signed_url(PUBLIC, "http://h/p?q=1", "/p", "q=1") == PUBLIC + "/p?q=1"
