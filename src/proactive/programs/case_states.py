"""The case state machine. Every change of status goes through `check_transition`."""

from __future__ import annotations

from proactive.errors import ProactiveError

DETECTED = "detected"
NEEDS_REVIEW = "needs_review"
APPROVED = "approved"
ISSUED = "issued"
SCHEDULED = "scheduled"
DELIVERED = "delivered"
CLOSED = "closed"
CANCELLED = "cancelled"

TRANSITIONS: dict[str | None, frozenset[str]] = {
    None: frozenset({DETECTED}),
    DETECTED: frozenset({NEEDS_REVIEW, APPROVED, CANCELLED}),
    NEEDS_REVIEW: frozenset({APPROVED, CANCELLED}),
    APPROVED: frozenset({ISSUED, SCHEDULED, NEEDS_REVIEW, CANCELLED}),
    ISSUED: frozenset({SCHEDULED, ISSUED, CANCELLED}),  # issued -> issued: reissued
    # scheduled -> approved | issued: its visit was withdrawn and none could be planned yet
    SCHEDULED: frozenset({DELIVERED, SCHEDULED, APPROVED, ISSUED, CANCELLED}),
    DELIVERED: frozenset({CLOSED, ISSUED}),  # a lost or damaged certificate is reissued
    CLOSED: frozenset({ISSUED}),
    CANCELLED: frozenset(),
}
OPEN = frozenset({DETECTED, NEEDS_REVIEW, APPROVED, ISSUED, SCHEDULED})


class InvalidTransition(ProactiveError):
    """A case cannot move to that status"""


def check_transition(current: str | None, target: str) -> None:
    if target not in TRANSITIONS.get(current, frozenset()):
        raise InvalidTransition(f"{current} -> {target}")
