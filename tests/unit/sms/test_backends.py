"""One contract for every SMS backend (console, fake, Twilio against the stand-in), and what
each adds: the console masks numbers, the fake is scriptable, the stand-in answers like Twilio."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from proactive.settings import Settings
from proactive.sms.backends import (
    ConsoleBackend,
    SendError,
    SmsBackend,
    TwilioBackend,
    backend_from_settings,
)
from proactive.testing.fake_sms import FakeBackend
from proactive.testing.twilio_standin import ACCOUNT_SID, AUTH_TOKEN, TwilioStandin

TO = "+8613812345678"
BODY = "您的老年人优待证已办好，请出示确认码4821"


@pytest.fixture
def standin() -> Iterator[TwilioStandin]:
    with TwilioStandin() as server:
        yield server


@pytest.fixture(params=["console", "fake", "twilio"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> SmsBackend:
    if request.param == "console":
        return ConsoleBackend(tmp_path / "sms.jsonl")
    if request.param == "fake":
        return FakeBackend()
    server: TwilioStandin = request.getfixturevalue("standin")
    return TwilioBackend(
        ACCOUNT_SID, AUTH_TOKEN, messaging_service_sid="MG" + "a" * 32, api_base=server.url
    )


def test_contract_send_fetch_find(backend: SmsBackend) -> None:
    since = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    result = backend.send(TO, BODY, None)
    assert result.sid and result.status
    assert backend.fetch(result.sid) is not None
    assert backend.find(TO, BODY, since) == result.sid
    assert backend.find(TO, BODY + "!", since) is None
    assert backend.find("+8613812345679", BODY, since) is None
    assert backend.find(TO, BODY, since + dt.timedelta(hours=1)) is None
    assert backend.fetch("SM" + "f" * 32) is None


def test_the_console_writes_masked_numbers_and_logs_no_body(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="proactive")
    path = tmp_path / "sms.jsonl"
    result = ConsoleBackend(path).send(TO, BODY, None)
    line = json.loads(path.read_text("utf-8"))
    assert result.sid.startswith("CONSOLE")
    assert (line["to"], line["body"], line["sid"]) == ("+86138****5678", BODY, result.sid)
    assert TO not in path.read_text("utf-8")
    assert "sms.console" in caplog.messages
    assert TO not in caplog.text and BODY not in caplog.text


def test_the_fake_follows_its_script() -> None:
    fake = FakeBackend()
    fake.script.extend(
        [SendError("20429", True, "slow down"), (SendError("timeout", True, "t"), True)]
    )
    with pytest.raises(SendError, match="20429"):
        fake.send(TO, BODY, None)
    assert fake.messages == []
    with pytest.raises(SendError, match="timeout"):
        fake.send(TO, BODY, None)
    assert len(fake.sent_to(TO)) == 1  # taken, though the caller heard a timeout
    assert fake.send(TO, BODY, None).status == "queued" and fake.calls == 3


def test_backend_from_settings(tmp_path: Path) -> None:
    base = Settings.from_env({"PROACTIVE_SMS_LOG": str(tmp_path / "x.jsonl")})
    assert isinstance(backend_from_settings(base), ConsoleBackend)
    twilio = dataclasses.replace(
        base,
        sms_backend="twilio",
        twilio_account_sid=ACCOUNT_SID,
        twilio_auth_token=AUTH_TOKEN,
        twilio_from="+15005550006",
    )
    assert isinstance(backend_from_settings(twilio), TwilioBackend)
    with pytest.raises(ValueError, match="TWILIO_AUTH_TOKEN"):
        backend_from_settings(dataclasses.replace(twilio, twilio_auth_token=""))
    with pytest.raises(ValueError, match="console or twilio"):
        backend_from_settings(dataclasses.replace(base, sms_backend="carrier-pigeon"))


def auth(token: str = AUTH_TOKEN) -> dict[str, str]:
    return {
        "Authorization": "Basic " + base64.b64encode(f"{ACCOUNT_SID}:{token}".encode()).decode()
    }


def test_the_standin_answers_like_twilio(standin: TwilioStandin) -> None:
    url = f"{standin.url}/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    form = {"To": TO, "From": "+15005550006", "Body": BODY}
    created = httpx.post(url, data=form, headers=auth())
    assert created.status_code == 201
    resource = created.json()
    assert resource["sid"].startswith("SM") and len(resource["sid"]) == 34
    assert (resource["status"], resource["to"], resource["num_segments"]) == ("queued", TO, "1")
    assert resource["date_created"].endswith("+0000")
    assert resource["uri"] == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{resource['sid']}.json"
    fetched = httpx.get(standin.url + resource["uri"], headers=auth())
    assert fetched.json()["sid"] == resource["sid"]

    denied = httpx.post(url, data=form, headers=auth("wrong"))
    assert (denied.status_code, denied.json()["code"]) == (401, 20003)
    for missing, code in [("To", 21604), ("From", 21603), ("Body", 21602)]:
        answer = httpx.post(
            url, data={k: v for k, v in form.items() if k != missing}, headers=auth()
        )
        assert (answer.status_code, answer.json()["code"]) == (400, code)
    unknown = httpx.post(url, data={**form, "Callback": "x"}, headers=auth())
    assert (unknown.status_code, unknown.json()["code"]) == (400, 20001)
    invalid = httpx.post(url, data={**form, "To": "+15005550001"}, headers=auth())
    assert invalid.json() == {
        "code": 21211,
        "message": "The 'To' number +15005550001 is not a valid phone number.",
        "more_info": "https://www.twilio.com/docs/errors/21211",
        "status": 400,
    }
    listed = httpx.get(url, params={"To": TO, "DateSent>": "2000-01-01"}, headers=auth()).json()
    assert [m["sid"] for m in listed["messages"]] == [resource["sid"]]
    assert standin.create_counts()[(TO, BODY)] == 4  # every request is recorded, refused too


def test_the_console_survives_a_torn_last_line(tmp_path: Path) -> None:
    path = tmp_path / "sms.jsonl"
    first = ConsoleBackend(path).send(TO, BODY, None)
    with path.open("a", encoding="utf-8") as handle:
        handle.write('{"sid": "CONSOLEcut", "at": "2026-11-2')  # the disk filled up here
    backend = ConsoleBackend(path)  # a new worker starts on that file
    assert backend.fetch(first.sid) == "delivered"
    second = backend.send(TO, BODY + "。", None)
    assert backend.fetch(second.sid) == "delivered"
    lines = path.read_text("utf-8").splitlines()
    assert len(lines) == 3 and json.loads(lines[2])["sid"] == second.sid
