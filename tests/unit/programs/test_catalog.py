from pathlib import Path

import pytest

from proactive.programs.catalog import ProgramError, load_catalog, load_program
from proactive.settings import ROOT


def test_the_three_programs_ship() -> None:
    catalog = load_catalog(ROOT / "jobs")
    assert {(p.id, p.age, p.delivery, p.visitor) for p in catalog.values()} == {
        ("senior_certificate", 60, "certificate", "worker"),
        ("high_age_allowance", 80, "visit", "worker"),
        ("centenarian_visit", 100, "visit", "supervisor"),
    }
    zh, en = catalog["senior_certificate"].describe()
    assert "年满60周岁" in zh and "2月28日" in zh
    assert "turns 60" in en and "28 February" in en


def test_a_bad_program_file_is_named(tmp_path: Path) -> None:
    text = (ROOT / "jobs" / "senior_certificate.toml").read_text(encoding="utf-8")
    (tmp_path / "broken.toml").write_text(
        text.replace('"alive",', '"alive", "astrology",', 1), encoding="utf-8"
    )
    with pytest.raises(ProgramError, match=r"broken\.toml: unknown verification checks: astrology"):
        load_program(tmp_path / "broken.toml")
    (tmp_path / "broken.toml").write_text(
        text.replace('leap_day = "feb28"', 'leap_day = "never"'), encoding="utf-8"
    )
    with pytest.raises(ProgramError, match="leap_day"):
        load_program(tmp_path / "broken.toml")


def test_adding_a_program_is_one_file(tmp_path: Path) -> None:
    text = (ROOT / "jobs" / "centenarian_visit.toml").read_text(encoding="utf-8")
    (tmp_path / "a.toml").write_text(text, encoding="utf-8")
    (tmp_path / "b.toml").write_text(
        text.replace('"centenarian_visit"', '"age_90_visit"').replace("age = 100", "age = 90"),
        encoding="utf-8",
    )
    assert set(load_catalog(tmp_path)) == {"centenarian_visit", "age_90_visit"}
