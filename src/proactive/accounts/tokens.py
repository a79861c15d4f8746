"""Secrets of the field app (pure): session and CSRF tokens, one-time setup codes, their
stored digests and constant-time comparison."""

from __future__ import annotations

import hashlib
import hmac
import secrets

SETUP_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read aloud, typed on phones
SETUP_LENGTH = 10


def new_token() -> str:
    return secrets.token_urlsafe(32)


def new_setup_code() -> str:
    """e.g. 7KQ4X-M2PTR: 10 characters of 31 (about 50 bits), valid for a few days only."""
    code = "".join(secrets.choice(SETUP_ALPHABET) for _ in range(SETUP_LENGTH))
    return f"{code[:5]}-{code[5:]}"


def normal_setup_code(typed: str) -> str:
    return "".join(c for c in typed.upper() if c.isalnum())


def digest(secret: str) -> str:
    """What the database keeps of a token or setup code: its SHA-256."""
    return hashlib.sha256(secret.encode()).hexdigest()


def same(given: str, expected: str) -> bool:
    """Constant-time equality; an empty expected value never matches."""
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())
