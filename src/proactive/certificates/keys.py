"""The district's signing keys, as files: the private key never enters the database or logs.

`district.key` holds the Ed25519 private key (PEM, mode 0600); `*.pub` files hold public keys
(mode 0644), the current one and any retired ones still trusted for verification; the directory
is 0700. The modes are set explicitly, whatever the umask, and a private key that others can
read is refused. A relative directory is taken from the working directory; messages name it in
full. A key id is the first 8 bytes of the SHA-256 of the raw public key.
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from proactive.errors import ProactiveError

PRIVATE_FILE = "district.key"
DIRECTORY_MODE, PRIVATE_MODE, PUBLIC_MODE = 0o700, 0o600, 0o644
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
    directory.mkdir(mode=DIRECTORY_MODE, parents=True, exist_ok=True)
    private_path = directory / PRIVATE_FILE
    if private_path.exists() and not force:
        raise SigningKeyError(f"{private_path.absolute()} exists; use --force to rotate")
    directory.chmod(DIRECTORY_MODE)
    private = Ed25519PrivateKey.generate()
    public_raw = private.public_key().public_bytes(*_RAW)
    kid = kid_of(public_raw)
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    _write(private_path, pem, PRIVATE_MODE)
    public_path = directory / f"{kid.hex()}.pub"
    public_pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    _write(public_path, public_pem, PUBLIC_MODE)
    for trusted in directory.glob("*.pub"):
        trusted.chmod(PUBLIC_MODE)
    return kid, public_path


def _write(path: Path, content: bytes, mode: int) -> None:
    """Write a file with exactly this mode (set before the content, whatever the umask or the
    mode of a file being replaced)."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    os.fchmod(descriptor, mode)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(content)


def signing_key(directory: Path) -> SigningKey:
    path = directory.absolute() / PRIVATE_FILE
    if not path.exists():
        raise SigningKeyError(f"no private key in {path.parent}; run `proactive keys init`")
    loose = stat.S_IMODE(path.stat().st_mode)
    if loose & 0o077:
        raise SigningKeyError(
            f"{path} can be read by others (mode {loose:04o}); run chmod 600 {path}"
        )
    private = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(private, Ed25519PrivateKey):
        raise SigningKeyError(f"{path} is not an Ed25519 key")
    raw = private.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    public_raw = private.public_key().public_bytes(*_RAW)
    return SigningKey(kid_of(public_raw), raw, public_raw)


def public_keys(directory: Path) -> dict[bytes, bytes]:
    """Every trusted public key in the directory, by key id (none if there is none)."""
    found: dict[bytes, bytes] = {}
    for path in sorted(directory.glob("*.pub")):
        key = serialization.load_pem_public_key(path.read_bytes())
        if isinstance(key, Ed25519PublicKey):
            raw = key.public_bytes(*_RAW)
            found[kid_of(raw)] = raw
    return found


def trusted_keys(directory: Path) -> dict[bytes, bytes]:
    """The public keys, for a verification someone asked for: SigningKeyError if there is none,
    so that a genuine certificate is never called `unknown_key` for want of keys."""
    found = public_keys(directory)
    if not found:
        raise SigningKeyError(f"no keys found in {directory.absolute()} (PROACTIVE_KEY_DIR)")
    return found
