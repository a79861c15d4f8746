"""The worker's pure rules: quiet hours, the next morning, backoff, the token bucket; the error
table; and the stand-in's parameter names against Twilio's OpenAPI description."""

from __future__ import annotations

import datetime as dt
import json
import random
from pathlib import Path

import pytest
import requests

from proactive.sms.backends import classify, transport_error
from proactive.sms.sender import (
    BACKOFF_CAP,
    MAYBE_SENT_WAIT,
    TokenBucket,
    backoff,
    day_start,
    next_morning,
    quiet,
    retry_delay,
)
from proactive.sms.wording import sendable_from
from proactive.testing.twilio_standin import CREATE_PARAMS, LIST_PARAMS, segments

SHANGHAI = dt.timezone(dt.timedelta(hours=8))
OPENAPI = Path("/work/shared/twilio/twilio_api_v2010.json")


def local(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=SHANGHAI).astimezone(dt.UTC)


@pytest.mark.parametrize(
    ("now", "resume"),
    [
        (local(25, 10), None),
        (local(25, 20, 59), None),
        (local(25, 21), local(26, 8)),
        (local(25, 23, 30), local(26, 8)),
        (local(26, 0, 10), local(26, 8)),
        (local(26, 7, 59), local(26, 8)),
        (local(26, 8), None),
    ],
)
def test_quiet_hours_wrap_midnight_in_shanghai(
    now: dt.datetime, resume: dt.datetime | None
) -> None:
    assert quiet(now, "21:00-08:00") == resume
    assert sendable_from(now, "21:00-08:00") == (resume or now)


def test_quiet_hours_within_a_day_and_none() -> None:
    assert quiet(local(25, 13), "12:00-14:00") == local(25, 14)
    assert quiet(local(25, 14), "12:00-14:00") is None
    assert quiet(local(25, 23), "") is None
    assert quiet(local(25, 23), "08:00-08:00") is None


def test_the_next_morning_and_the_day_are_shanghai_days() -> None:
    assert next_morning(local(25, 10), "21:00-08:00") == local(26, 8)
    assert next_morning(local(25, 0, 30), "21:00-08:00") == local(26, 8)  # 16:30 UTC the day before
    assert day_start(local(25, 0, 30)) == local(25, 0)


def test_backoff_is_full_jitter_under_an_exponential_ceiling() -> None:
    rng = random.Random(3)
    for attempts, ceiling in [(1, 30), (2, 60), (3, 120), (7, 1920), (20, 3600)]:
        delays = [backoff(attempts, rng) for _ in range(200)]
        assert all(dt.timedelta(0) <= d <= dt.timedelta(seconds=ceiling) for d in delays)
        assert max(delays) > dt.timedelta(seconds=ceiling * 0.8)  # spread over the whole range
    assert backoff(30, rng) <= BACKOFF_CAP


def test_after_an_ambiguous_error_the_retry_waits_for_the_lost_request_to_finish() -> None:
    rng = random.Random(1)
    assert all(retry_delay(1, classify(503, 20503), rng) >= MAYBE_SENT_WAIT for _ in range(50))
    assert min(retry_delay(1, classify(429, 20429), rng) for _ in range(50)) < MAYBE_SENT_WAIT


def test_the_token_bucket_paces_after_a_burst() -> None:
    now = [0.0]
    bucket = TokenBucket(10, burst=2, monotonic=lambda: now[0])
    assert [bucket.take() for _ in range(4)] == [0.0, 0.0, pytest.approx(0.1), pytest.approx(0.2)]
    now[0] = 10.0  # long idle: refilled up to the burst only
    assert [bucket.take() for _ in range(3)] == [0.0, 0.0, pytest.approx(0.1)]
    assert TokenBucket(0).take() == 0.0  # no limit


@pytest.mark.parametrize(
    ("status", "code", "name", "retryable"),
    [
        (400, 21211, "21211", False),
        (400, 21612, "21612", False),
        (400, 21408, "21408", False),
        (400, 21610, "21610", False),
        (400, 21614, "21614", False),
        (400, 21999, "21999", False),  # any other 4xx
        (404, None, "http-404", False),
        (429, 20429, "20429", True),
        (429, None, "http-429", True),
        (503, 20503, "20503", True),
        (500, 500, "http-500", True),
        (502, None, "http-502", True),
        (401, 20003, "20003", True),  # our configuration, not the message: do not burn it
    ],
)
def test_one_table_says_what_is_worth_a_retry(
    status: int, code: int | None, name: str, retryable: bool
) -> None:
    error = classify(status, code, "text")
    assert (error.code, error.retryable) == (name, retryable)
    assert error.maybe_sent == (status >= 500)
    assert len(error.code) <= 16  # messages.error_code


def test_transport_errors_are_retryable_and_say_when_the_message_may_be_out() -> None:
    timeout = transport_error(requests.ReadTimeout("read timed out"))
    assert (timeout.code, timeout.retryable, timeout.maybe_sent) == ("timeout", True, True)
    connect = transport_error(requests.ConnectTimeout("connect timed out"))
    assert (connect.retryable, connect.maybe_sent) == (True, False)
    refused = transport_error(requests.ConnectionError("[Errno 111] Connection refused"))
    assert (refused.code, refused.maybe_sent) == ("refused", False)
    reset = transport_error(requests.ConnectionError("Connection aborted"))
    assert (reset.code, reset.maybe_sent) == ("connection", True)


def test_segments_gsm_and_ucs2() -> None:
    assert segments("a" * 160) == 1 and segments("a" * 161) == 2
    assert segments("您" * 70) == 1 and segments("您" * 71) == 2
    assert (
        segments("您的老年人优待证已办好，社工李芳将于11月27日上午送证上门，请出示确认码4821") == 1
    )


@pytest.mark.skipif(not OPENAPI.exists(), reason="Twilio's OpenAPI file is not here")
def test_the_standin_knows_exactly_the_openapi_parameter_names() -> None:
    spec = json.loads(OPENAPI.read_text("utf-8"))
    path = spec["paths"]["/2010-04-01/Accounts/{AccountSid}/Messages.json"]
    form = path["post"]["requestBody"]["content"]["application/x-www-form-urlencoded"]
    assert set(form["schema"]["properties"]) == CREATE_PARAMS
    query = {p["name"] for p in path["get"]["parameters"] if p["in"] == "query"}
    assert query == LIST_PARAMS
