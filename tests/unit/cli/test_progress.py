"""What a stage's line on a terminal says."""

from proactive.cli.progress import brief


def test_a_stage_line_sums_per_program_figures_and_drops_zeros_and_seconds() -> None:
    counts = {
        "seconds": 0.4,
        "candidates": 37,
        "opened:senior_certificate": 30,
        "opened:high_age_allowance": 3,
        "needs_review": 0,
        "last_day": "2026-11-27",
    }
    assert brief(counts) == {"candidates": 37, "opened": 33, "last_day": "2026-11-27"}
