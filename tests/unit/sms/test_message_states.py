"""Receipts only move a message forward and never out of a final state."""

import pytest

from proactive.sms.message_states import FINAL, PROVIDER, advance


@pytest.mark.parametrize(
    ("current", "reported", "after"),
    [
        ("queued", "sending", "sending"),
        ("sending", "sent", "sent"),
        ("sent", "delivered", "delivered"),
        ("delivered", "sent", "delivered"),  # a late 'sent' receipt for another segment
        ("delivered", "undelivered", "delivered"),  # final stays final
        ("failed", "delivered", "failed"),
        ("withdrawn", "sending", "withdrawn"),
        ("sent", "sending", "sent"),  # backwards: ignored
        ("sent", "nonsense", "sent"),
    ],
)
def test_forward_only(current: str, reported: str, after: str) -> None:
    assert advance(current, reported) == after


def test_every_twilio_status_maps_to_one_of_ours() -> None:
    assert set(PROVIDER.values()) <= {"sending", "sent"} | FINAL
    assert PROVIDER["undelivered"] == "undelivered" and PROVIDER["read"] == "delivered"
