"""The public verification page in-process: a genuine QR (pasted, or in a photo) is 有效 with
the holder masked; a tampered or foreign one is 无效 and shows nothing from its payload; a
revoked number is 无效; the page is rate-limited and needs its form token."""

from __future__ import annotations

import base64
import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from proactive.certificates import keys, render, signing
from proactive.models import Case, Certificate
from tests.conftest import PINNED_NOW
from tests.integration.web.world import Browser, make_app

CLAIMS = signing.CertificateClaims(
    certificate_no="330108-2026-LN-000001",
    program="senior_certificate",
    holder="王秀英",
    masked_id="330108********1234",
    issued_on=dt.date(2026, 11, 25),
    issuer="330108",
)


def payload(key_dir: Path, claims: signing.CertificateClaims = CLAIMS) -> str:
    key = keys.signing_key(key_dir)
    return signing.sign(claims, key.private_raw, key.public_raw, key.kid, PINNED_NOW)


@pytest.fixture
def browser(engine: Engine, key_dir: Path) -> Browser:
    browser = Browser(make_app(engine, env={"PROACTIVE_KEY_DIR": str(key_dir)}))
    assert browser.get("/verify").status_code == 200
    return browser


def test_a_genuine_payload_is_valid_with_the_holder_masked(
    browser: Browser, key_dir: Path, engine: Engine
) -> None:
    register(engine, "active")
    answer = browser.post("/verify", {"payload": payload(key_dir)})
    assert answer.status_code == 200
    assert "有效" in answer.text and "证书真实有效" in answer.text
    assert "王**" in answer.text and "王秀英" not in answer.text
    assert "330108********1234" in answer.text and "老年人优待证" in answer.text


def test_a_tampered_payload_is_invalid_and_shows_nothing_of_it(
    browser: Browser, key_dir: Path, tmp_path: Path
) -> None:
    genuine = payload(key_dir)
    middle = len(genuine) // 2
    tampered = genuine[:middle] + ("A" if genuine[middle] != "A" else "B") + genuine[middle + 1 :]
    answer = browser.post("/verify", {"payload": tampered})
    assert answer.status_code == 422 and "无效" in answer.text
    assert "330108-2026-LN-000001" not in answer.text and "王**" not in answer.text
    keys.init(tmp_path / "foreign")
    foreign = browser.post("/verify", {"payload": payload(tmp_path / "foreign")})
    assert "不是本区签发的证书（unknown_key）" in foreign.text and "王**" not in foreign.text
    junk = browser.post("/verify", {"payload": "hello"})
    assert "无法识别二维码内容（unreadable）" in junk.text


def register(engine: Engine, status: str) -> None:
    """The register's row for CLAIMS' number, issued to the payload's holder."""
    with Session(engine) as s, s.begin():
        case = Case(
            id_number="330108196611251234",
            program="senior_certificate",
            status="closed",
            eligible_on=dt.date(2026, 11, 25),
            created_at=PINNED_NOW,
            updated_at=PINNED_NOW,
        )
        s.add(case)
        s.flush()
        s.add(
            Certificate(
                certificate_no=CLAIMS.certificate_no,
                case_id=case.id,
                edition=1,
                id_number=case.id_number,
                program=CLAIMS.program,
                year=2026,
                serial=1,
                issued_on=CLAIMS.issued_on,
                issuing_office="滨江区",
                status=status,
                revoked_at=PINNED_NOW if status == "revoked" else None,
                revoked_reason="lost" if status == "revoked" else "",
                created_at=PINNED_NOW,
                updated_at=PINNED_NOW,
            )
        )


def test_a_revoked_certificate_is_invalid(browser: Browser, key_dir: Path, engine: Engine) -> None:
    register(engine, "revoked")
    answer = browser.post("/verify", {"payload": payload(key_dir)})
    assert answer.status_code == 422 and "证书已作废" in answer.text and "revoked" in answer.text


def test_a_number_the_register_lacks_is_invalid(browser: Browser, key_dir: Path) -> None:
    """A PDF signed for a number whose issuing never committed (an orphan) is not valid."""
    answer = browser.post("/verify", {"payload": payload(key_dir)})
    assert answer.status_code == 422 and "登记簿中没有此证号" in answer.text


def test_a_photo_of_the_qr_code_is_read_on_the_server(
    browser: Browser, key_dir: Path, engine: Engine
) -> None:
    register(engine, "active")
    uri = render.qr_data_uri(payload(key_dir))
    png = base64.b64decode(uri.split(",", 1)[1])
    answer = browser.request(
        "POST", "/verify", data={"csrf": browser.csrf}, files={"file": ("qr.png", png, "image/png")}
    )
    assert answer.status_code == 200 and "证书真实有效" in answer.text
    junk = browser.request(
        "POST",
        "/verify",
        data={"csrf": browser.csrf},
        files={"file": ("x.pdf", b"%PDF-1.4 junk", "application/pdf")},
    )
    assert junk.status_code == 422 and "unreadable" in junk.text


def test_the_public_page_needs_its_form_token_and_is_rate_limited(
    browser: Browser, key_dir: Path
) -> None:
    assert browser.post("/verify", {"payload": "x"}, csrf=False).status_code == 403
    for _ in range(19):  # 20 with the refused one: the limit is 20 a minute
        assert browser.post("/verify", {"payload": "x"}).status_code == 422
    assert browser.post("/verify", {"payload": "x"}).status_code == 429
