"""The public verification page in-process: a genuine QR (pasted, or in a photo) is 有效 with
the holder masked; a tampered or foreign one is 无效 and shows nothing from its payload; a
revoked number is 无效; the page is rate-limited and needs its form token; an upload too large,
too many pixels or a decompression bomb is refused in Chinese (413) before it is decoded, and a
body over the cap before it is read."""

from __future__ import annotations

import base64
import datetime as dt
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from proactive.certificates import keys, render, signing
from proactive.models import Certificate
from proactive.testing.hostile_pdfs import content_bomb, png_claiming
from proactive.web.pages import MAX_VERIFY_BODY
from tests.conftest import PINNED_NOW
from tests.factories import senior_case
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
        case = senior_case(s, "330108196611251234", PINNED_NOW, "closed")
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


def upload(browser: Browser, name: str, data: bytes) -> tuple[float, str, int]:
    """Post a file to /verify: the seconds it took, the answer's text and status."""
    started = time.perf_counter()
    answer = browser.request(
        "POST", "/verify", data={"csrf": browser.csrf}, files={"file": (name, data, "image/png")}
    )
    return time.perf_counter() - started, answer.text, answer.status_code


@pytest.mark.parametrize(
    ("name", "data", "said"),
    [
        ("huge.jpg", b"\xff\xd8" + b"0" * MAX_VERIFY_BODY, "文件过大（照片不超过 5 MB"),
        ("bomb.png", png_claiming(100_000, 100_000), "图片像素过多"),
        ("big.png", png_claiming(8_000, 8_000), "图片像素过多（8000×8000，最多 2500 万像素）"),
        ("bomb.pdf", content_bomb(), "压缩炸弹"),
    ],
    ids=["over_the_body_cap", "pixel_bomb", "too_many_pixels", "pdf_bomb"],
)
def test_an_upload_over_a_limit_is_refused_in_chinese_at_once(
    browser: Browser, name: str, data: bytes, said: str
) -> None:
    seconds, text, status = upload(browser, name, data)
    assert status == 413 and said in text, text
    assert seconds < 1.0


def test_a_body_over_the_cap_is_not_read_to_its_end(browser: Browser) -> None:
    """Sent without a Content-Length (chunked), the body is read only until it passes the cap."""
    chunk, sent = b"0" * 65_536, []

    async def endless() -> AsyncIterator[bytes]:
        for _ in range(10 * MAX_VERIFY_BODY // len(chunk)):
            sent.append(len(chunk))
            yield chunk

    answer = browser.request("POST", "/verify", content=endless())
    assert answer.status_code == 413 and "文件过大" in answer.text
    assert MAX_VERIFY_BODY < sum(sent) <= MAX_VERIFY_BODY + 2 * len(chunk)
