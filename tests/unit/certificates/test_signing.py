"""The signed QR payload: genuine payloads verify offline; altered, foreign or revoked ones
do not."""

from __future__ import annotations

import datetime as dt
import stat
from pathlib import Path

import cbor2
import pytest

from proactive.certificates import keys, signing

CLAIMS = signing.CertificateClaims(
    certificate_no="330108-2026-LN-000001",
    program="senior_certificate",
    holder="𠮷田花",
    masked_id="330108********1234",
    issued_on=dt.date(2026, 11, 25),
    issuer="330108",
)
AT = dt.datetime(2026, 11, 25, 2, 0, tzinfo=dt.UTC)


@pytest.fixture
def key_dir(tmp_path: Path) -> Path:
    keys.init(tmp_path / "keys")
    return tmp_path / "keys"


def _sign(key_dir: Path) -> str:
    key = keys.signing_key(key_dir)
    return signing.sign(CLAIMS, key.private_raw, key.public_raw, key.kid, AT)


def test_genuine_payload_verifies_with_the_public_key_alone(key_dir: Path) -> None:
    payload = _sign(key_dir)
    result = signing.verify(payload, keys.public_keys(key_dir))
    assert result.code == signing.VALID
    assert result.claims == CLAIMS
    assert payload.startswith("PC1:")
    assert len(payload) < 400  # fits a QR a phone reads from a card


def test_every_altered_byte_is_rejected(key_dir: Path) -> None:
    import base45

    payload = _sign(key_dir)
    raw = bytearray(base45.b45decode(payload[4:]))
    public = keys.public_keys(key_dir)
    for index in range(len(raw)):
        altered = bytearray(raw)
        altered[index] ^= 0x01
        text = "PC1:" + base45.b45encode(bytes(altered)).decode()
        assert not signing.verify(text, public).valid, index


def test_payload_signed_by_another_key_is_unknown_or_bad(key_dir: Path, tmp_path: Path) -> None:
    keys.init(tmp_path / "other")
    foreign = _sign(tmp_path / "other")
    assert signing.verify(foreign, keys.public_keys(key_dir)).code == signing.UNKNOWN_KEY
    # a forger who reuses the district's key id still fails the signature check
    other = keys.signing_key(tmp_path / "other")
    district = keys.signing_key(key_dir)
    forged = signing.sign(CLAIMS, other.private_raw, other.public_raw, district.kid, AT)
    assert signing.verify(forged, keys.public_keys(key_dir)).code == signing.BAD_SIGNATURE


@pytest.mark.parametrize("payload", ["", "HC1:abc", "PC1:", "PC1:%%%", "PC1:" + "A" * 90])
def test_garbage_is_unreadable(key_dir: Path, payload: str) -> None:
    assert signing.verify(payload, keys.public_keys(key_dir)).code == signing.UNREADABLE


def test_the_registers_verdict_on_a_genuine_payload_is_the_code(key_dir: Path) -> None:
    payload = _sign(key_dir)
    seen: list[signing.CertificateClaims] = []

    def register(claims: signing.CertificateClaims) -> str:
        seen.append(claims)
        return signing.REVOKED

    result = signing.verify(payload, keys.public_keys(key_dir), register)
    assert result.code == signing.REVOKED and not result.valid
    assert result.claims == CLAIMS and seen == [CLAIMS]


def test_signed_at_is_the_issue_time_in_the_qr(key_dir: Path) -> None:
    message = signing._decode(_sign(key_dir))
    assert cbor2.loads(message.payload)[signing.ISSUED_AT] == int(AT.timestamp())
    assert signing.certificate_number(_sign(key_dir)) == CLAIMS.certificate_no
    assert signing.certificate_number("PC1:garbage") is None


def test_private_key_file_is_owner_only_and_never_printed(key_dir: Path) -> None:
    mode = stat.S_IMODE((key_dir / keys.PRIVATE_FILE).stat().st_mode)
    assert mode == 0o600
    key = keys.signing_key(key_dir)
    assert key.private_raw.hex() not in repr(key)


def test_init_refuses_to_overwrite_and_rotation_keeps_old_keys_trusted(key_dir: Path) -> None:
    old = _sign(key_dir)
    with pytest.raises(keys.SigningKeyError):
        keys.init(key_dir)
    keys.init(key_dir, force=True)
    assert signing.verify(old, keys.public_keys(key_dir)).valid
    assert signing.verify(_sign(key_dir), keys.public_keys(key_dir)).valid
    assert len(keys.public_keys(key_dir)) == 2


def test_missing_private_key_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(keys.SigningKeyError, match="keys init"):
        keys.signing_key(tmp_path)
