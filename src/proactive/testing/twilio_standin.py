"""A local stand-in for Twilio's Messages API (2010-04-01), for tests and the benchmark.

Serves on 127.0.0.1 at a free port, in a background thread (stdlib `ThreadingHTTPServer`):
- POST /2010-04-01/Accounts/{AccountSid}/Messages.json  create: 201 and a message resource
- GET  /2010-04-01/Accounts/{AccountSid}/Messages/{Sid}.json  fetch
- GET  /2010-04-01/Accounts/{AccountSid}/Messages.json?To=..&DateSent>=..  list, newest first

Like Twilio it checks basic auth (account SID and token: 401, code 20003), answers errors as
`{"code", "message", "more_info", "status"}`, and fails Twilio's documented test numbers
(+15005550001 invalid, ...02 unroutable, ...03 region not enabled, ...04 unsubscribed, ...09 not
a mobile). Stricter than Twilio, it refuses parameters that are not in the OpenAPI description
(code 20001), so a request we build wrongly fails here first. It records every request; `force`
queues answers (429, 503, a slow answer) for the next creates; `delay` slows every answer.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import email.utils
import json
import re
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

ACCOUNT_SID = "AC" + "0" * 31 + "1"
AUTH_TOKEN = "standin-token"

# Parameter names from Twilio's OpenAPI (twilio_api_v2010.json), checked by a unit test
CREATE_PARAMS = frozenset(
    [
        "To",
        "StatusCallback",
        "ApplicationSid",
        "MaxPrice",
        "ProvideFeedback",
        "Attempt",
        "ValidityPeriod",
        "ForceDelivery",
        "ContentRetention",
        "AddressRetention",
        "SmartEncoded",
        "PersistentAction",
        "TrafficType",
        "ShortenUrls",
        "ScheduleType",
        "SendAt",
        "SendAsMms",
        "ContentVariables",
        "RiskCheck",
        "From",
        "FallbackFrom",
        "MessagingServiceSid",
        "Body",
        "MediaUrl",
        "ContentSid",
    ]
)
LIST_PARAMS = frozenset(
    ["To", "From", "DateSent", "DateSent<", "DateSent>", "PageSize", "Page", "PageToken"]
)

TEST_NUMBERS = {
    "+15005550001": (21211, "The 'To' number +15005550001 is not a valid phone number."),
    "+15005550002": (21612, "The 'To' phone number is not currently reachable via SMS."),
    "+15005550003": (21408, "Permission to send an SMS has not been enabled for the region."),
    "+15005550004": (21610, "Attempt to send to unsubscribed recipient"),
    "+15005550009": (21614, "'To' number is not a valid mobile number"),
}
FORCED_MESSAGES = {
    429: (20429, "Too Many Requests"),
    500: (20500, "Internal Server Error"),
    503: (20503, "Service Unavailable"),
}

E164 = re.compile(r"^\+[1-9][0-9]{1,14}$")
SID = re.compile(r"^(SM|MM)[0-9a-fA-F]{32}$")
ROOT = re.compile(r"^/2010-04-01/Accounts/(?P<account>[^/]+)/Messages(?:/(?P<sid>[^/]+))?\.json$")


@dataclass(frozen=True)
class Forced:
    """An answer for one coming create: after `delay` seconds, HTTP `status` (0: answer as
    usual, creating the message — a slow success, or one the client gave up on)."""

    status: int = 0
    delay: float = 0.0


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    params: dict[str, str]


class Answer(Exception):
    def __init__(self, status: int, payload: dict[str, Any]) -> None:
        self.status = status
        self.payload = payload


def error(status: int, code: int, message: str) -> Answer:
    more = f"https://www.twilio.com/docs/errors/{code}"
    return Answer(status, {"code": code, "message": message, "more_info": more, "status": status})


def rfc2822(at: dt.datetime) -> str:
    """Twilio's date format: 'Thu, 24 Aug 2023 05:01:45 +0000'."""
    return email.utils.format_datetime(at.astimezone(dt.UTC)).replace("-0000", "+0000")


def segments(body: str) -> int:
    """GSM-7 (160 a message, 153 a part) for plain ASCII, else UCS-2 (70, 67 in UTF-16 units)."""
    if body.isascii():
        single, part, length = 160, 153, len(body)
    else:
        single, part, length = 70, 67, len(body.encode("utf-16-le")) // 2
    return 1 if length <= single else -(-length // part)


class TwilioStandin:
    def __init__(
        self,
        account_sid: str = ACCOUNT_SID,
        auth_token: str = AUTH_TOKEN,
        delay: float = 0.0,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.delay = delay
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))
        # Never set: waiting on it is a plain pause (time.sleep fails under libfaketime).
        self._pause = threading.Event()
        self.received: list[Received] = []
        self.messages: dict[str, dict[str, Any]] = {}
        self.forced: deque[Forced] = deque()
        self._lock = threading.Lock()
        self._busy = 0
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- control, for tests and the benchmark

    def start(self) -> TwilioStandin:
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        server.daemon_threads = True
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, args=(0.05,), name="twilio-standin"
        )
        self._thread.daemon = True
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join()
        self._server = self._thread = None

    def __enter__(self) -> TwilioStandin:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._server is not None, "not started"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def force(self, *answers: Forced) -> None:
        with self._lock:
            self.forced.extend(answers)

    def set_status(self, sid: str, status: str) -> None:
        with self._lock:
            self.messages[sid]["status"] = status

    def creates(self, to: str | None = None, body: str | None = None) -> int:
        """Create requests received (whatever the answer), for `to` and `body` if given."""
        with self._lock:
            return sum(
                1
                for r in self.received
                if r.method == "POST"
                and (to is None or r.params.get("To") == to)
                and (body is None or r.params.get("Body") == body)
            )

    def create_counts(self) -> dict[tuple[str, str], int]:
        """Create requests received per (To, Body)."""
        counts: dict[tuple[str, str], int] = {}
        with self._lock:
            for r in self.received:
                if r.method == "POST":
                    key = (r.params.get("To", ""), r.params.get("Body", ""))
                    counts[key] = counts.get(key, 0) + 1
        return counts

    def wait_idle(self, timeout: float = 10.0) -> None:
        """Until no request is being answered (a slow one the client gave up on included)."""
        deadline = time.monotonic() + timeout
        while self._busy and time.monotonic() < deadline:
            self._pause.wait(0.01)

    def busy(self, change: int) -> None:
        with self._lock:
            self._busy += change

    # -- the API

    def handle(self, method: str, target: str, headers: Any, form: dict[str, str]) -> Answer:
        parts = urlsplit(target)
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        with self._lock:
            self.received.append(Received(method, parts.path, form if method == "POST" else query))
            forced = self.forced.popleft() if method == "POST" and self.forced else Forced()
        if self.delay + forced.delay:
            self._pause.wait(self.delay + forced.delay)
        try:
            account, sid = self._route(parts.path, headers)
            if method == "POST" and sid is None:
                if forced.status:
                    code, message = FORCED_MESSAGES.get(forced.status, (forced.status, "Error"))
                    raise error(forced.status, code, message)
                return Answer(201, self._create(account, form))
            if method == "GET" and sid is not None:
                return Answer(200, self._fetch(parts.path, sid))
            if method == "GET":
                return Answer(200, self._list(account, query))
            raise error(405, 20004, "Method not allowed")
        except Answer as answer:
            return answer

    def _route(self, path: str, headers: Any) -> tuple[str, str | None]:
        match = ROOT.match(path)
        if match is None:
            raise error(404, 20404, f"The requested resource {path} was not found")
        expected = f"{self.account_sid}:{self.auth_token}".encode()
        given = headers.get("Authorization", "")
        if given != "Basic " + base64.b64encode(expected).decode():
            raise error(401, 20003, "Authenticate")
        if match["account"] != self.account_sid:
            raise error(404, 20404, f"The requested resource {path} was not found")
        return match["account"], match["sid"]

    def _create(self, account: str, form: dict[str, str]) -> dict[str, Any]:
        unknown = sorted(set(form) - CREATE_PARAMS)
        if unknown:
            raise error(400, 20001, f"Unknown parameters (not in the OpenAPI): {unknown}")
        to = form.get("To", "")
        if not to:
            raise error(400, 21604, "A 'To' phone number is required.")
        if not (form.get("From") or form.get("MessagingServiceSid")):
            raise error(400, 21603, "A 'From' or 'MessagingServiceSid' parameter is required.")
        if not (form.get("Body") or form.get("MediaUrl") or form.get("ContentSid")):
            raise error(400, 21602, "Message body is required.")
        if not E164.match(to):
            raise error(400, 21211, f"The 'To' number {to} is not a valid phone number.")
        if to in TEST_NUMBERS:
            code, message = TEST_NUMBERS[to]
            raise error(400, code, message)
        if len(form["Body"]) > 1600:
            raise error(400, 21617, "The concatenated message body exceeds the 1600 limit.")
        callback = form.get("StatusCallback", "")
        if callback and urlsplit(callback).scheme not in ("http", "https"):
            raise error(400, 21609, "Invalid StatusCallback URL")
        return self._store(account, form)

    def _store(self, account: str, form: dict[str, str]) -> dict[str, Any]:
        sid = "SM" + uuid.uuid4().hex
        now = rfc2822(self.clock())
        uri = f"/2010-04-01/Accounts/{account}/Messages/{sid}"
        resource = {
            "account_sid": account,
            "api_version": "2010-04-01",
            "body": form["Body"],
            "date_created": now,
            "date_sent": now,
            "date_updated": now,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": form.get("From") or None,
            "messaging_service_sid": form.get("MessagingServiceSid") or None,
            "num_media": "0",
            "num_segments": str(segments(form["Body"])),
            "price": None,
            "price_unit": None,
            "sid": sid,
            "status": "queued",
            "subresource_uris": {"media": f"{uri}/Media.json"},
            "to": form["To"],
            "uri": f"{uri}.json",
        }
        with self._lock:
            self.messages[sid] = resource
        return resource

    def _fetch(self, path: str, sid: str) -> dict[str, Any]:
        with self._lock:
            resource = self.messages.get(sid) if SID.match(sid) else None
        if resource is None:
            raise error(404, 20404, f"The requested resource {path} was not found")
        return dict(resource)

    def _list(self, account: str, query: dict[str, str]) -> dict[str, Any]:
        unknown = sorted(set(query) - LIST_PARAMS)
        if unknown:
            raise error(400, 20001, f"Unknown parameters (not in the OpenAPI): {unknown}")
        with self._lock:
            found = [m for m in self.messages.values() if _matches(m, query)]
        found.reverse()  # newest first
        size = min(int(query.get("PageSize", "50")), 1000)
        page = int(query.get("Page", "0"))
        base = f"/2010-04-01/Accounts/{account}/Messages.json"
        filters = {k: v for k, v in query.items() if k not in ("Page", "PageToken", "PageSize")}

        def page_uri(n: int) -> str:
            return f"{base}?{urlencode({**filters, 'PageSize': size, 'Page': n})}"

        more = len(found) > (page + 1) * size
        return {
            "end": min(len(found), (page + 1) * size) - 1,
            "first_page_uri": page_uri(0),
            "next_page_uri": page_uri(page + 1) + f"&PageToken=PA{page + 1}" if more else None,
            "page": page,
            "page_size": size,
            "previous_page_uri": page_uri(page - 1) if page else None,
            "start": page * size,
            "uri": page_uri(page),
            "messages": found[page * size : (page + 1) * size],
        }


def _day(value: str) -> dt.date:
    """'2026-11-25' or '2026-11-25T01:02:03Z': Twilio's DateSent filters go by the day."""
    return dt.date.fromisoformat(value[:10])


def _matches(message: dict[str, Any], query: dict[str, str]) -> bool:
    sent = email.utils.parsedate_to_datetime(message["date_sent"]).date()
    checks = [
        "To" not in query or message["to"] == query["To"],
        "From" not in query or message["from"] == query["From"],
        "DateSent" not in query or sent == _day(query["DateSent"]),
        "DateSent>" not in query or sent >= _day(query["DateSent>"]),
        "DateSent<" not in query or sent <= _day(query["DateSent<"]),
    ]
    return all(checks)


def _handler(standin: TwilioStandin) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as the Twilio client's session expects
        disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms stalls

        def handle(self) -> None:
            # a client killed between two requests on its connection (the crash trials)
            with contextlib.suppress(ConnectionResetError):
                super().handle()

        def do_GET(self) -> None:
            self._serve({})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            raw = self.rfile.read(length).decode()
            form = {k: v[-1] for k, v in parse_qs(raw, keep_blank_values=True).items()}
            self._serve(form)

        def _serve(self, form: dict[str, str]) -> None:
            standin.busy(+1)
            try:
                answer = standin.handle(self.command, self.path, self.headers, form)
                data = json.dumps(answer.payload).encode()
                self.send_response(answer.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting: what Twilio sees after a client timeout
            finally:
                standin.busy(-1)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # quiet: request lines carry phone numbers

    return Handler
