"""The first run over a registry whose people are already eligible (the backfill): detection
opens cases in batches, each committed, so a run killed half-way keeps what it opened and the
next run goes on from there, opening each case once; a dry run still commits nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from proactive.models import Case, Run
from proactive.nightly.run import RunOptions, run_nightly
from proactive.programs import casebook, detect
from proactive.progress import Progress
from tests.factories import ProgressRecorder, senior
from tests.integration.nightly.test_run import DISTRICT, SENIOR, D, clock, load, run

PEOPLE = 7  # over 60 already on the first run: all catch-up


class Killed(Exception):
    """Stands for kill -9 half-way through detection."""


@pytest.fixture
def registry(engine: Engine, tmp_path: Path) -> Engine:
    load(engine, tmp_path / "x", [senior(n, f"19{40 + n}-03-0{n}") for n in range(1, PEOPLE + 1)])
    return engine


def opened(engine: Engine) -> list[tuple[int, str, int | None]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(Case.id, Case.id_number, Case.run_id))]


def test_a_run_killed_half_way_keeps_its_batches_and_the_next_run_goes_on(
    registry: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(detect, "BATCH", 3)
    real, calls = casebook.open_cases, []

    def dies_on_the_second_batch(*args: Any) -> list[Case]:
        calls.append(len(args[1]))
        if len(calls) == 2:
            raise Killed
        return real(*args)

    monkeypatch.setattr(casebook, "open_cases", dies_on_the_second_batch)
    with pytest.raises(Killed):
        run(registry, D(2026, 11, 25))
    kept = opened(registry)
    assert len(kept) == 3  # the first batch, committed
    with registry.connect() as conn:
        assert conn.execute(select(Run.status)).scalar_one() == "failed"

    monkeypatch.setattr(casebook, "open_cases", real)
    report = run(registry, D(2026, 11, 25))
    after = opened(registry)
    assert len(after) == PEOPLE and after[:3] == kept  # the first three untouched
    assert report.stages["detect"]["opened:senior_certificate"] == PEOPLE - 3
    with registry.connect() as conn:
        per_person = select(Case.id_number, func.count()).group_by(Case.id_number)
        assert {n for _, n in conn.execute(per_person)} == {1}


def test_batches_open_what_one_transaction_opened_and_report_progress(
    registry: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(detect, "BATCH", 2)
    watching = ProgressRecorder()
    watcher: Progress = watching
    options = RunOptions(as_of=D(2026, 11, 25))
    report = run_nightly(registry, SENIOR, options, clock, DISTRICT, progress=watcher)
    assert report.stages["detect"]["candidates"] == PEOPLE
    assert report.stages["detect"]["opened:senior_certificate"] == PEOPLE
    assert len(opened(registry)) == PEOPLE
    assert watching.totals["detect"] == PEOPLE and watching.done["detect"] == PEOPLE


def test_a_dry_run_in_batches_commits_nothing(
    registry: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(detect, "BATCH", 2)
    report = run(registry, D(2026, 11, 25), dry_run=True)
    assert report.stages["detect"]["opened:senior_certificate"] == PEOPLE
    assert opened(registry) == []
