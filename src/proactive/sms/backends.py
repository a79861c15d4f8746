"""SMS senders: one protocol, a console, a Twilio and an in-memory fake implementation.

`send` either returns the provider's SID or raises `SendError`, whose `retryable` says whether
trying again later can help (rate limits, provider outages, timeouts, broken connections) or not
(invalid, unsubscribed, unroutable numbers and any other 4xx). `maybe_sent` marks the errors
after which the provider may have accepted the message anyway (a timeout waiting for the answer,
a connection cut mid-response, a 5xx): before trying again the worker looks the message up with
`find` instead of sending it blindly a second time.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Protocol
from urllib.parse import urlsplit, urlunsplit

import requests
from twilio.base.exceptions import TwilioRestException  # type: ignore[import-untyped]
from twilio.http.http_client import TwilioHttpClient  # type: ignore[import-untyped]
from twilio.rest import Client  # type: ignore[import-untyped]

from proactive.errors import ProactiveError
from proactive.masking import mask_phone
from proactive.settings import Settings

log = logging.getLogger("proactive.sms")


@dataclass(frozen=True)
class SendResult:
    sid: str
    status: str  # the provider's status: queued, accepted, sent, ...


class SendError(Exception):
    """The provider did not take the message."""

    def __init__(self, code: str, retryable: bool, message: str, maybe_sent: bool = False) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.retryable = retryable
        self.message = message
        self.maybe_sent = maybe_sent


class SmsBackend(Protocol):
    def send(self, to: str, body: str, callback_url: str | None) -> SendResult:
        """Hand one message to the provider; raise `SendError` if it was not taken."""

    def fetch(self, sid: str) -> str | None:
        """The provider's status of message `sid`, None if the provider does not know it."""

    def find(self, to: str, body: str, since: dt.datetime) -> str | None:
        """The SID of a message to `to` with `body` the provider accepted since `since`."""


# Twilio error codes and HTTP statuses: (retryable, what it means). A code is looked up first,
# then the HTTP status; any other 4xx is permanent, any other 5xx retryable.
UNSUBSCRIBED = "21610"
ERRORS: dict[int, tuple[bool, str]] = {
    21211: (False, "invalid 'To' number"),
    21408: (False, "sending to this region is not enabled"),
    21610: (False, "the recipient unsubscribed (replied STOP)"),
    21612: (False, "no route to this number from the sender"),
    21614: (False, "the number is not a mobile number"),
    20003: (True, "authentication failed: check the account SID and token"),  # config, not msg
    20429: (True, "too many requests"),
    401: (True, "authentication failed: check the account SID and token"),
    429: (True, "too many requests"),
    500: (True, "provider error"),
    502: (True, "bad gateway"),
    503: (True, "provider unavailable"),
    504: (True, "gateway timeout"),
}


def classify(http_status: int, code: int | None, message: str = "") -> SendError:
    """The `SendError` for an HTTP error answer of the provider."""
    known = ERRORS.get(code) if code is not None else None
    retryable, meaning = known or ERRORS.get(http_status) or (http_status >= 500, message)
    name = str(code) if code is not None and code != http_status else f"http-{http_status}"
    return SendError(name, retryable, message or meaning, maybe_sent=http_status >= 500)


def transport_error(error: requests.RequestException) -> SendError:
    """Timeouts and broken connections: retryable; ambiguous unless no connection was made."""
    if isinstance(error, requests.ConnectTimeout):
        return SendError("connect-timeout", True, "could not connect to the provider")
    if isinstance(error, requests.Timeout):
        return SendError("timeout", True, "no answer from the provider in time", maybe_sent=True)
    if isinstance(error, requests.ConnectionError) and "refused" in str(error).lower():
        return SendError("refused", True, "the provider refused the connection")
    return SendError("connection", True, type(error).__name__, maybe_sent=True)


class ConsoleBackend:
    """Sends nothing: appends each message to a JSONL file (number masked) and logs it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def send(self, to: str, body: str, callback_url: str | None) -> SendResult:
        sid = "CONSOLE" + uuid.uuid4().hex
        line = {
            "sid": sid,
            "at": dt.datetime.now(dt.UTC).isoformat(),
            "to": mask_phone(to),
            "body": body,
        }
        with self._lock, self.path.open("a+b") as handle:
            handle.seek(0, os.SEEK_END)
            torn = handle.tell() > 0 and _last_byte(handle) != b"\n"
            record = json.dumps(line, ensure_ascii=False) + "\n"
            handle.write((("\n" if torn else "") + record).encode("utf-8"))
        log.info("sms.console", extra={"to": mask_phone(to), "sid": sid})
        return SendResult(sid, "sent")

    def fetch(self, sid: str) -> str | None:
        return "delivered" if any(line["sid"] == sid for line in self._lines()) else None

    def find(self, to: str, body: str, since: dt.datetime) -> str | None:
        """By the masked number and the body (the file keeps no number in clear)."""
        for line in self._lines():
            at = dt.datetime.fromisoformat(line["at"])
            if line["to"] == mask_phone(to) and line["body"] == body and at >= since:
                return str(line["sid"])
        return None

    def _lines(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        with self.path.open(encoding="utf-8", errors="replace") as handle:
            return [record for line in handle if (record := _record(line)) is not None]


def _record(line: str) -> dict[str, Any] | None:
    """A line of the file; None for a blank or torn one (a write cut by a full disk or a
    crash), which is skipped rather than stopping every later start."""
    try:
        record = json.loads(line)
    except ValueError:
        if line.strip():
            log.warning("sms.console_torn_line", extra={"length": len(line)})
        return None
    return record if isinstance(record, dict) and "sid" in record else None


def _last_byte(handle: BinaryIO) -> bytes:
    handle.seek(-1, os.SEEK_END)
    last = handle.read(1)
    handle.seek(0, os.SEEK_END)
    return last


class _BaseUrlHttpClient(TwilioHttpClient):  # type: ignore[misc]  # untyped base class
    """Twilio's own HTTP client, with https://*.twilio.com rewritten to another base URL."""

    def __init__(self, base: str, timeout: float) -> None:
        quiet = logging.getLogger("proactive.sms.http")  # logs query strings (numbers) at INFO
        quiet.setLevel(logging.WARNING)
        super().__init__(timeout=timeout, logger=quiet)
        parts = urlsplit(base)
        self.scheme, self.netloc = parts.scheme, parts.netloc

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        parts = urlsplit(url)
        if self.netloc and parts.netloc.endswith("twilio.com"):
            url = urlunsplit((self.scheme, self.netloc, parts.path, parts.query, parts.fragment))
        return super().request(method, url, *args, **kwargs)


class SmsConfigError(ProactiveError, ValueError):
    """The SMS settings are incomplete"""


class TwilioBackend:
    """Twilio's Messages API through the official client; one client per thread."""

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        from_: str = "",
        messaging_service_sid: str = "",
        api_base: str = "",
        timeout: float = 10.0,
    ) -> None:
        if not (account_sid and auth_token and (from_ or messaging_service_sid)):
            raise SmsConfigError("twilio needs TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and a sender")
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.sender = (
            {"messaging_service_sid": messaging_service_sid}
            if messaging_service_sid
            else {"from_": from_}
        )
        self.api_base = api_base
        self.timeout = timeout
        self._local = threading.local()

    def _client(self) -> Any:
        client = getattr(self._local, "client", None)
        if client is None:
            http = _BaseUrlHttpClient(self.api_base, self.timeout)
            client = Client(self.account_sid, self.auth_token, http_client=http)
            self._local.client = client
        return client

    def send(self, to: str, body: str, callback_url: str | None) -> SendResult:
        options: dict[str, Any] = {"to": to, "body": body, **self.sender}
        if callback_url:
            options["status_callback"] = callback_url
        try:
            message = self._client().messages.create(**options)
        except TwilioRestException as error:
            raise classify(error.status, _int_or_none(error.code), str(error.msg)) from error
        except requests.RequestException as error:
            raise transport_error(error) from error
        return SendResult(str(message.sid), str(message.status))

    def fetch(self, sid: str) -> str | None:
        try:
            return str(self._client().messages(sid).fetch().status)
        except TwilioRestException as error:
            if error.status == 404:
                return None
            raise classify(error.status, _int_or_none(error.code), str(error.msg)) from error
        except requests.RequestException as error:
            raise transport_error(error) from error

    def find(self, to: str, body: str, since: dt.datetime) -> str | None:
        """Twilio filters by the day sent; the exact time and the body are checked here."""
        since = since.astimezone(dt.UTC)
        try:
            messages = self._client().messages.list(
                to=to, date_sent_after=since.replace(hour=0, minute=0, second=0), page_size=100
            )
        except TwilioRestException as error:
            raise classify(error.status, _int_or_none(error.code), str(error.msg)) from error
        except requests.RequestException as error:
            raise transport_error(error) from error
        for message in messages:
            created = message.date_created
            if message.body == body and (created is None or created >= since):
                return str(message.sid)
        return None


def _int_or_none(value: object) -> int | None:
    """Twilio's error codes come as ints, sometimes as numeric strings."""
    if isinstance(value, int):
        return value
    return int(value) if isinstance(value, str) and value.isdigit() else None


def backend_from_settings(settings: Settings) -> SmsBackend:
    if settings.sms_backend == "console":
        return ConsoleBackend(Path(settings.sms_log))
    if settings.sms_backend == "twilio":
        return TwilioBackend(
            settings.twilio_account_sid,
            settings.twilio_auth_token,
            from_=settings.twilio_from,
            messaging_service_sid=settings.twilio_messaging_service_sid,
            api_base=settings.twilio_api_base,
        )
    raise SmsConfigError(f"PROACTIVE_SMS_BACKEND={settings.sms_backend!r}: console or twilio")
