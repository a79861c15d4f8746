"""Structured logs: a stable event name as the message, context as key=value pairs.

Never log names, ID numbers or phone numbers in clear; mask them first (masking.py).
"""

from __future__ import annotations

import logging
import sys

_STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}


class KeyValueFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        context = {k: v for k, v in record.__dict__.items() if k not in _STANDARD}
        pairs = " ".join(f"{k}={v}" for k, v in context.items())
        line = (
            f"{self.formatTime(record)} {record.levelname} {record.getMessage()} {pairs}".rstrip()
        )
        return line + ("\n" + self.formatException(record.exc_info) if record.exc_info else "")


def configure(level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(KeyValueFormatter())
    root = logging.getLogger("proactive")
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    root.propagate = False
