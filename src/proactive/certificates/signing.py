"""The signed QR payload of a certificate: a CWT (RFC 8392) in a COSE_Sign1 envelope signed
with EdDSA (Ed25519), Base45-encoded behind a short prefix, as the EU Digital COVID
Certificate ("HC1:") and MOSIP's Claim 169 QR do. Anyone holding the district's public key can
check it offline. Payloads stay under ~300 bytes, so they are not compressed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import base45
import cbor2
from pycose.algorithms import EdDSA
from pycose.headers import KID, Algorithm
from pycose.keys.curves import Ed25519
from pycose.keys.okp import OKPKey
from pycose.messages.sign1message import Sign1Message

PREFIX = "PC1:"  # proactive certificate, version 1
CERTIFICATE_CLAIM = -75_001  # private-use CWT claim holding the certificate's fields
ISSUER, ISSUED_AT = 1, 6  # registered CWT claims: iss, iat

VALID = "valid"
UNREADABLE = "unreadable"
BAD_SIGNATURE = "bad_signature"
UNKNOWN_KEY = "unknown_key"
REVOKED = "revoked"
UNKNOWN_NUMBER = "unknown_number"  # no such number in the register
NOT_ISSUED = "not_issued"  # numbered, but its issuing never finished
WRONG_HOLDER = "wrong_holder"  # the number belongs to someone else


@dataclass(frozen=True)
class CertificateClaims:
    certificate_no: str
    program: str
    holder: str  # the holder's name as registered
    masked_id: str  # first 6 and last 4 of the ID number
    issued_on: dt.date
    issuer: str  # the district's code


@dataclass(frozen=True)
class Verification:
    code: str
    claims: CertificateClaims | None = None
    kid: str = ""

    @property
    def valid(self) -> bool:
        return self.code == VALID


def sign(
    claims: CertificateClaims, private_raw: bytes, public_raw: bytes, kid: bytes, at: dt.datetime
) -> str:
    body = {
        ISSUER: claims.issuer,
        ISSUED_AT: int(at.timestamp()),
        CERTIFICATE_CLAIM: {
            "no": claims.certificate_no,
            "p": claims.program,
            "n": claims.holder,
            "id": claims.masked_id,
            "d": claims.issued_on.isoformat(),
        },
    }
    message = Sign1Message(phdr={Algorithm: EdDSA, KID: kid}, payload=cbor2.dumps(body))
    message.key = OKPKey(crv=Ed25519, x=public_raw, d=private_raw)
    encoded: bytes = base45.b45encode(message.encode())
    return PREFIX + encoded.decode("ascii")


def verify(
    payload: str,
    public_keys: Mapping[bytes, bytes],
    standing: Callable[[CertificateClaims], str] = lambda _claims: VALID,
) -> Verification:
    """Check a payload against the district's public keys (by key id) and, when a register
    lookup is given, against the register (its verdict becomes the code)."""
    try:
        message = _decode(payload)
        kid = bytes(message.phdr[KID])
    except Exception:  # any malformed input is simply unreadable
        return Verification(UNREADABLE)
    public = public_keys.get(kid)
    if public is None:
        return Verification(UNKNOWN_KEY, kid=kid.hex())
    message.key = OKPKey(crv=Ed25519, x=public)
    try:
        genuine = message.verify_signature()
    except Exception:
        genuine = False
    if not genuine:
        return Verification(BAD_SIGNATURE, kid=kid.hex())
    try:
        claims = _claims(cbor2.loads(message.payload or b""))
    except Exception:
        return Verification(UNREADABLE, kid=kid.hex())
    return Verification(standing(claims), claims, kid.hex())


def certificate_number(payload: str) -> str | None:
    """The number a payload names, read without checking the signature (for consistency
    checks against the stored rows, never to trust a certificate)."""
    try:
        return _claims(cbor2.loads(_decode(payload).payload or b"")).certificate_no
    except Exception:  # anything malformed names no certificate
        return None


def _decode(payload: str) -> Sign1Message:
    text = payload.strip()
    if not text.startswith(PREFIX):
        raise ValueError("no prefix")
    message = Sign1Message.decode(base45.b45decode(text[len(PREFIX) :]))
    if message.phdr.get(Algorithm) is not EdDSA:
        raise ValueError("unexpected algorithm")
    return message


def _claims(body: Mapping[int, Any]) -> CertificateClaims:
    fields = body[CERTIFICATE_CLAIM]
    return CertificateClaims(
        certificate_no=str(fields["no"]),
        program=str(fields["p"]),
        holder=str(fields["n"]),
        masked_id=str(fields["id"]),
        issued_on=dt.date.fromisoformat(fields["d"]),
        issuer=str(body[ISSUER]),
    )
