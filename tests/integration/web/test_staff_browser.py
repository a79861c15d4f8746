"""District staff in real headless Chromium, on SQLite and PostgreSQL: search a certificate by
its holder's masked ID number, reissue it, find the new one valid; every staff page without a
serious accessibility violation; screenshots at phone and desktop sizes not blank."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from proactive.certificates.issuing import Issuer
from proactive.models import Certificate
from tests.integration.web.chromium import DESKTOP, PHONE, screenshot, serious_violations, serving
from tests.integration.web.chromium import sign_in as open_signed_in
from tests.integration.web.world import district_env, make_app, run_district

STAFF_PAGES = ("/district/runs", "/district/programs", "/district/coverage", "/district/sms")


@pytest.fixture
def server(engine: Engine, issuer: Issuer, key_dir: Path, tmp_path: Path) -> Iterator[str]:
    run_district(engine, tmp_path / "extract", issuer)
    with serving(make_app(engine, env=district_env(key_dir, tmp_path))) as base:
        yield base


def first_certificate(engine: Engine) -> Certificate:
    with Session(engine) as s:
        found = s.scalars(select(Certificate).order_by(Certificate.id)).first()
        assert found is not None
        return found


def test_staff_search_a_certificate_and_reissue_it(
    chromium: object, server: str, engine: Engine, tmp_path: Path
) -> None:
    old = first_certificate(engine)
    page = open_signed_in(chromium, server, "admin", DESKTOP)
    assert page.url.endswith("/district")  # type: ignore[attr-defined]
    page.click("nav a:has-text('证书')")  # type: ignore[attr-defined]
    page.fill("#q", f"{old.id_number[:6]}********{old.id_number[-4:]}")  # type: ignore[attr-defined]
    page.click("button:has-text('查询')")  # type: ignore[attr-defined]
    page.wait_for_selector("text=结果（1）")  # type: ignore[attr-defined]
    assert serious_violations(page) == []
    page.click(f"a:has-text('{old.certificate_no}')")  # type: ignore[attr-defined]
    page.wait_for_selector("text=有效：证书真实有效")  # type: ignore[attr-defined]
    assert serious_violations(page) == []
    screenshot(page, tmp_path / "certificate-360.png", PHONE)
    screenshot(page, tmp_path / "certificate-1280.png", DESKTOP)
    page.select_option("#reason", "lost")  # type: ignore[attr-defined]
    page.fill("#note", "居民遗失")  # type: ignore[attr-defined]
    page.click("button:has-text('补发新证')")  # type: ignore[attr-defined]
    page.wait_for_selector("text=有效：证书真实有效")  # type: ignore[attr-defined]
    with Session(engine) as s:
        new = s.scalars(select(Certificate).where(Certificate.replaces_id == old.id)).one()
        assert s.get_one(Certificate, old.id).status == "revoked"
    assert page.url.endswith(f"/district/certificates/{new.id}")  # type: ignore[attr-defined]
    assert new.certificate_no in page.inner_text("h1")  # type: ignore[attr-defined]
    page.goto(f"{server}/district/certificates/{old.id}")  # type: ignore[attr-defined]
    page.wait_for_selector("text=证书已作废")  # type: ignore[attr-defined]


def test_no_serious_accessibility_violation_on_the_staff_pages(
    chromium: object, server: str, tmp_path: Path
) -> None:
    page = open_signed_in(chromium, server, "admin", PHONE)
    for path in STAFF_PAGES:
        page.goto(f"{server}{path}")  # type: ignore[attr-defined]
        assert serious_violations(page) == [], path
    screenshot(page, tmp_path / "sms-360.png", PHONE)
    page.goto(f"{server}/district/coverage")  # type: ignore[attr-defined]
    assert page.locator("figure.coverage-map svg ellipse").is_visible()  # type: ignore[attr-defined]
    screenshot(page, tmp_path / "coverage-1280.png", DESKTOP)
