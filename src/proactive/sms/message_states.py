"""The life of an outbox message. Receipts arrive late, out of order and once per segment, so a
status only ever moves forward, and a final status never changes. Pure."""

from __future__ import annotations

QUEUED = "queued"
SENDING = "sending"
SENT = "sent"
DELIVERED = "delivered"
UNDELIVERED = "undelivered"
FAILED = "failed"
WITHDRAWN = "withdrawn"

FINAL = frozenset({DELIVERED, UNDELIVERED, FAILED, WITHDRAWN})
_RANK = {QUEUED: 0, SENDING: 1, SENT: 2, DELIVERED: 3, UNDELIVERED: 3, FAILED: 3, WITHDRAWN: 3}

# Twilio's message statuses, as ours
PROVIDER = {
    "accepted": SENDING,
    "scheduled": SENDING,
    "queued": SENDING,
    "sending": SENDING,
    "sent": SENT,
    "delivered": DELIVERED,
    "read": DELIVERED,
    "undelivered": UNDELIVERED,
    "failed": FAILED,
    "canceled": FAILED,
}


def advance(current: str, reported: str) -> str:
    """The status after a report: forward only, final states stay."""
    if current in FINAL or reported not in _RANK:
        return current
    return reported if _RANK[reported] > _RANK[current] else current
