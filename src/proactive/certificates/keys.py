"""The district's signing keys, as files: the private key never enters the database or logs.

`district.key` holds the Ed25519 private key (PEM, mode 0600); `*.pub` files hold public keys,
the current one and any retired ones still trusted for verification. A key id is the first 8
bytes of the SHA-256 of the raw public key.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from proactive.errors import ProactiveError

PRIVATE_FILE = "district.key"
_RAW = serialization.Encoding.Raw, serialization.PublicFormat.Raw


class SigningKeyError(ProactiveError):
    """Signing keys are missing or unusable"""


@dataclass(frozen=True)
class SigningKey:
    kid: bytes
    private_raw: bytes
    public_raw: bytes

    def __repr__(self) -> str:  # never print the private key
        return f"SigningKey(kid={self.kid.hex()})"


def kid_of(public_raw: bytes) -> bytes:
    return hashlib.sha256(public_raw).digest()[:8]


def init(directory: Path, force: bool = False) -> tuple[bytes, Path]:
    """Create a key pair; refuses to replace an existing private key unless forced (the old
    public key stays trusted, so certificates already issued still verify)."""
    directory.mkdir(parents=True, exist_ok=True)
    private_path = directory / PRIVATE_FILE
    if private_path.exists() and not force:
        raise SigningKeyError(f"{private_path} exists; use --force to rotate")
    private = Ed25519PrivateKey.generate()
    public_raw = private.public_key().public_bytes(*_RAW)
    kid = kid_of(public_raw)
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    descriptor = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(pem)
    public_path = directory / f"{kid.hex()}.pub"
    public_path.write_bytes(
        private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return kid, public_path


def signing_key(directory: Path) -> SigningKey:
    path = directory / PRIVATE_FILE
    if not path.exists():
        raise SigningKeyError(f"no private key in {directory}; run `proactive keys init`")
    private = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(private, Ed25519PrivateKey):
        raise SigningKeyError(f"{path} is not an Ed25519 key")
    raw = private.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    public_raw = private.public_key().public_bytes(*_RAW)
    return SigningKey(kid_of(public_raw), raw, public_raw)


def public_keys(directory: Path) -> dict[bytes, bytes]:
    """Every trusted public key in the directory, by key id."""
    found: dict[bytes, bytes] = {}
    for path in sorted(directory.glob("*.pub")):
        key = serialization.load_pem_public_key(path.read_bytes())
        if isinstance(key, Ed25519PublicKey):
            raw = key.public_bytes(*_RAW)
            found[kid_of(raw)] = raw
    return found
